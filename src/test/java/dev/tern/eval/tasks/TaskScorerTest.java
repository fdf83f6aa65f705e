package dev.tern.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** acc, acc_norm and their stderr on a fake LogLikelihood whose values are known. */
class TaskScorerTest {
    /** Returns fixed log-likelihoods per (context, continuation) and records the calls it gets. */
    static final class Fake implements LogLikelihood {
        final Map<String, Double> values;
        final List<String> calls = new ArrayList<>();

        Fake(Map<String, Double> values) {
            this.values = values;
        }

        @Override
        public double[] score(String context, List<String> continuations) {
            calls.add(context + "|" + continuations.size());
            double[] out = new double[continuations.size()];
            for (int i = 0; i < out.length; i++) out[i] = values.get(context + "|" + continuations.get(i));
            return out;
        }
    }

    @Test
    void byteLengthNormalisationCanChooseDifferently() {
        // Raw: "a" (-2) beats "a longer one" (-3); per character: -2/1 = -2 is worse than -3/12 = -0.25.
        Example e = Example.multipleChoice("Q", List.of("a", "a longer one"), 1);
        Fake ll = new Fake(Map.of("Q| a", -2.0, "Q| a longer one", -3.0));
        TaskScorer.Prediction p = TaskScorer.predict(e, ll, true);
        assertEquals(0, p.pred());
        assertEquals(1, p.predNorm());
        assertEquals(List.of("Q|2"), ll.calls); // both continuations in one call: one shared prefill
    }

    @Test
    void normalisationDividesByTheChoiceWithoutTheDelimiter() {
        // -4/4 = -1.0 vs -2.2/2 = -1.1: with the leading space counted (-4/5 = -0.8 vs -2.2/3 = -0.733) it would flip.
        Example e = Example.multipleChoice("Q", List.of("abcd", "ab"), 0);
        Fake ll = new Fake(Map.of("Q| abcd", -4.0, "Q| ab", -2.2));
        assertEquals(0, TaskScorer.predict(e, ll, true).predNorm());
        // Python len() counts code points: "é" is 1 (2 UTF-8 bytes, 1 UTF-16 unit), "😀" is 1 (2 UTF-16 units).
        e = Example.multipleChoice("Q", List.of("😀😀", "ééé"), 0);
        ll = new Fake(Map.of("Q| 😀😀", -2.0, "Q| ééé", -3.3));
        assertEquals(0, TaskScorer.predict(e, ll, true).predNorm()); // -1.0 vs -1.1
    }

    @Test
    void tiesGoToTheFirstChoice() {
        assertEquals(1, TaskScorer.argmax(new double[] {-3, -1, -1, -2}));
    }

    @Test
    void partialScoringRunsEachContextOnce() {
        Example e = Example.partial(List.of("He saw Tom", "He saw Ann"), "and waved.", 1);
        Fake ll = new Fake(Map.of("He saw Tom| and waved.", -5.0, "He saw Ann| and waved.", -4.0));
        assertArrayEquals(new double[] {-5.0, -4.0}, TaskScorer.logLikelihoods(e, ll));
        assertEquals(List.of("He saw Tom|1", "He saw Ann|1"), ll.calls);
        TaskScorer.Prediction p = TaskScorer.predict(e, ll, false);
        assertEquals(1, p.pred());
        assertEquals(-1, p.predNorm());
    }

    @Test
    void metricsAndSampleStderrAreExact() {
        // Five items: raw right on 0,1,2 (3/5); normalised right on 0,3 (2/5).
        List<Example> items = new ArrayList<>();
        Map<String, Double> v = new java.util.HashMap<>();
        double[][] lls = {{-1, -9}, {-1, -9}, {-1, -1.5}, {-1, -9}, {-9, -1}};
        int[] gold = {0, 0, 0, 1, 0};
        for (int i = 0; i < 5; i++) {
            items.add(Example.multipleChoice("q" + i, List.of("x", "yyyyyyyyyy"), gold[i]));
            v.put("q" + i + "| x", lls[i][0]);
            v.put("q" + i + "| yyyyyyyyyy", lls[i][1]);
        }
        // norm: item0 -1 vs -0.9 -> 1 (wrong); item1 same (wrong); item2 -1 vs -0.15 -> 1 (wrong);
        // item3 -1 vs -0.9 -> 1 (right); item4 -9 vs -0.1 -> 1 (wrong). Raw: 0,0,0,0,1 -> right on 0,1,2.
        TaskResult r = TaskScorer.run(Task.ARC_EASY, items, new Fake(v), false);
        assertEquals(5, r.n());
        assertEquals(0.6, r.acc(), 1e-15);
        assertEquals(Math.sqrt(0.6 * 0.4 / 4), r.accStderr(), 1e-15);
        assertEquals(0.2, r.accNorm(), 1e-15);
        assertEquals(Math.sqrt(0.2 * 0.8 / 4), r.accNormStderr(), 1e-15);
        // The same as numpy: statistics.stdev(x) / sqrt(n) for x = [1, 1, 1, 0, 0].
        double ss = 3 * 0.4 * 0.4 + 2 * 0.6 * 0.6;
        assertEquals(Math.sqrt(ss / 4) / Math.sqrt(5), r.accStderr(), 1e-15);

        TaskResult w = TaskScorer.run(Task.BOOLQ, items, new Fake(v), false);
        assertTrue(Double.isNaN(w.accNorm()) && !w.hasNorm());
        assertTrue(Double.isNaN(TaskResult.stderr(1.0, 1)));
    }
}
