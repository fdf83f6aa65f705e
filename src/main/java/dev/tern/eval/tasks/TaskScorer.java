package dev.tern.eval.tasks;

import dev.tern.util.Progress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Scores a task's items with a {@link LogLikelihood} and computes acc and acc_norm as lm-evaluation-harness does. */
public final class TaskScorer {
    private TaskScorer() {}

    /** The choices of one item the model preferred: raw and length-normalised (-1 when not reported). */
    public record Prediction(int pred, int predNorm) {}

    /**
     * Scores every item in order. Items run one after another: a model's linear layers may be used by one thread
     * at a time (they parallelise inside), so items cannot share a model concurrently.
     */
    public static TaskResult run(Task task, List<Example> items, LogLikelihood ll, boolean progress) {
        long t0 = System.nanoTime();
        int correct = 0, normCorrect = 0;
        try (Progress bar = Progress.start(task.id(), items.size(), "items", progress)) {
            for (Example e : items) {
                Prediction p = predict(e, ll, task.reportsNorm());
                if (p.pred() == e.gold()) correct++;
                if (p.predNorm() == e.gold()) normCorrect++;
                bar.step();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        return new TaskResult(task, items.size(), correct, task.reportsNorm() ? normCorrect : -1, secs);
    }

    /** Scores one item, running each distinct context once with all of its continuations. */
    public static Prediction predict(Example e, LogLikelihood ll, boolean norm) {
        double[] lls = logLikelihoods(e, ll);
        return new Prediction(argmax(lls), norm ? argmaxNormalised(lls, e.choices()) : -1);
    }

    public static double[] logLikelihoods(Example e, LogLikelihood ll) {
        Map<String, List<Integer>> byContext = new LinkedHashMap<>();
        for (int i = 0; i < e.size(); i++) byContext.computeIfAbsent(e.contexts().get(i), k -> new ArrayList<>()).add(i);
        double[] out = new double[e.size()];
        for (Map.Entry<String, List<Integer>> g : byContext.entrySet()) {
            List<String> conts = new ArrayList<>(g.getValue().size());
            for (int i : g.getValue()) conts.add(e.continuations().get(i));
            double[] s = ll.score(g.getKey(), conts);
            for (int k = 0; k < s.length; k++) out[g.getValue().get(k)] = s[k];
        }
        return out;
    }

    /** Index of the largest value, the first one on ties (numpy.argmax). */
    public static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /**
     * argmax of ll / len(choice). The harness divides by the length of the choice text itself — Python len(), i.e.
     * code points, without the " " target delimiter — so this does too.
     */
    public static int argmaxNormalised(double[] lls, List<String> choices) {
        double[] v = new double[lls.length];
        for (int i = 0; i < v.length; i++) {
            String c = choices.get(i);
            v[i] = lls[i] / Math.max(1, c.codePointCount(0, c.length()));
        }
        return argmax(v);
    }
}
