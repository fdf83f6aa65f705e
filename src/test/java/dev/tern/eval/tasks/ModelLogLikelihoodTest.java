package dev.tern.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.model.LoadedModel;
import dev.tern.model.ModelLoader;
import dev.tern.model.Ops;
import dev.tern.model.Transformer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The shared-context batching on tinystories-656k against one fresh forward pass per (context, continuation). */
class ModelLogLikelihoodTest {
    static LoadedModel model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(Path.of("..", "shared", "models", "tinystories-656k"), ModelLoader.FloatFormat.F32);
    }

    /**
     * The harness's computation, written independently: input = (ctx ++ cont)[-(maxLen+1):][:-1] in one fresh
     * pass, and the continuation's log-probabilities read off the last len(cont) rows — or, for a continuation
     * longer than the window (where the harness fails), off every row, which all predict continuation tokens.
     */
    static double fresh(int[] ctx, int[] cont, int maxLen) {
        int[] all = new int[ctx.length + cont.length];
        System.arraycopy(ctx, 0, all, 0, ctx.length);
        System.arraycopy(cont, 0, all, ctx.length, cont.length);
        int[] inp = Arrays.copyOfRange(all, Math.max(0, all.length - (maxLen + 1)), all.length - 1);
        Transformer tf = new Transformer(model.model(), maxLen);
        float[] logits = tf.logits(tf.forward(inp, 0, inp.length, 0, tf.newCache(inp.length)), inp.length);
        int vocab = model.config().vocabSize();
        double s = 0;
        for (int j = 0; j < cont.length; j++) {
            int row = inp.length - cont.length + j;
            if (row >= 0) s += Ops.logProb(logits, row * vocab, vocab, cont[j]);
        }
        return s;
    }

    static void assertMatchesFresh(ModelLogLikelihood ll, Example e) {
        double[] batched = TaskScorer.logLikelihoods(e, ll);
        for (int i = 0; i < e.size(); i++) {
            ModelLogLikelihood.Pair p = ll.encode(e.contexts().get(i), e.continuations().get(i));
            double want = fresh(p.context(), p.continuation(), ll.maxLength());
            assertEquals(want, batched[i], 1e-4 * Math.max(1, Math.abs(want)), "choice " + i + " of " + e);
        }
    }

    static List<Example> items(Task t, int n) {
        return TaskLoader.load(t, TaskLoaderTest.data(t.file()), n);
    }

    @Test
    void sharedPrefillEqualsFreshPasses() {
        ModelLogLikelihood ll = new ModelLogLikelihood(model);
        List<Example> all = new ArrayList<>();
        all.addAll(items(Task.HELLASWAG, 3));
        all.addAll(items(Task.ARC_CHALLENGE, 2));
        all.addAll(items(Task.PIQA, 2));
        all.addAll(items(Task.WINOGRANDE, 2));
        all.addAll(items(Task.BOOLQ, 1));
        for (Example e : all) assertMatchesFresh(ll, e);
    }

    @Test
    void leftTruncationMatchesTheHarness() {
        // Per item, a model length just above its longest continuation: the context must lose tokens on the left,
        // and endings of different lengths lose different numbers, so one item needs several prefills.
        ModelLogLikelihood full = new ModelLogLikelihood(model);
        Set<Integer> starts = new HashSet<>();
        for (Example e : items(Task.HELLASWAG, 4)) {
            List<ModelLogLikelihood.Pair> pairs = new ArrayList<>();
            for (int i = 0; i < e.size(); i++) pairs.add(full.encode(e.contexts().get(i), e.continuations().get(i)));
            int maxLen = pairs.stream().mapToInt(p -> p.continuation().length).max().orElseThrow() + 2;
            for (ModelLogLikelihood.Pair p : pairs) {
                int drop = p.context().length + p.continuation().length - 1 - maxLen;
                assertTrue(drop > 0);
                starts.add(drop);
            }
            assertMatchesFresh(new ModelLogLikelihood(model, maxLen), e);
        }
        assertTrue(starts.size() > 1);
        ModelLogLikelihood ll = new ModelLogLikelihood(model, 32);
        assertMatchesFresh(ll, items(Task.BOOLQ, 1).getFirst());
    }

    @Test
    void continuationsLongerThanTheContextScoreTheirLastTokens() {
        ModelLogLikelihood ll = new ModelLogLikelihood(model, 8);
        Example e = items(Task.PIQA, 1).getFirst(); // solutions of ~40 tokens, 8 positions
        assertMatchesFresh(ll, e);
        assertEquals(2, ll.overlong());
        // Mixed: a one-token choice fits, a long one does not.
        assertMatchesFresh(ll, Example.multipleChoice("Question: dresser\nAnswer:", List.of("no", e.choices().get(0)), 0));
        assertEquals(3, ll.overlong());
    }

    @Test
    void continuationTokensAreTheTailOfTheWholeEncoding() {
        ModelLogLikelihood ll = new ModelLogLikelihood(model);
        String ctx = "Question: Which piece of safety equipment is used?\nAnswer:";
        ModelLogLikelihood.Pair p = ll.encode(ctx, " safety goggles");
        int[] whole = model.tokenizer().encode(ctx + " safety goggles", true);
        assertArrayEquals(model.tokenizer().encode(ctx, true), p.context());
        assertArrayEquals(Arrays.copyOfRange(whole, p.context().length, whole.length), p.continuation());
        assertEquals(model.tokenizer().bosId(), p.context()[0]);
        // A trailing space in the context moves to the continuation, as the harness's _encode_pair does.
        ModelLogLikelihood.Pair moved = ll.encode(ctx + " ", "safety goggles");
        assertArrayEquals(p.context(), moved.context());
        assertArrayEquals(p.continuation(), moved.continuation());
    }
}
