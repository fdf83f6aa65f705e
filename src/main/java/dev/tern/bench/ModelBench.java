package dev.tern.bench;

import dev.tern.model.KvCache;
import dev.tern.model.LlamaModel;
import dev.tern.model.Sampler;
import dev.tern.model.Transformer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Prefill and decode throughput of several models measured alternately in one process (round-robin, best of N), so
 * that a noisy shared machine slows every contender alike and the ratios stay fair.
 */
public final class ModelBench {
    /** Throughput of one model: prompt tokens/s, generated tokens/s, and bytes of weights in memory. */
    public record Result(String name, double prefillTps, double decodeTps, long weightBytes, long linearWeights, long linearBytes) {
        public double bitsPerLinearWeight() {
            return 8.0 * linearBytes / Math.max(1, linearWeights);
        }
    }

    private ModelBench() {}

    public static Map<String, Result> run(Map<String, LlamaModel> models, int promptTokens, int decodeTokens, int rounds,
            long seed, Consumer<String> log) {
        Map<String, double[]> best = new LinkedHashMap<>();
        for (String k : models.keySet()) best.put(k, new double[2]);
        // Untimed warm-up so the JIT compiles every kernel before timing starts: one short pass, then whole passes
        // until 2 s have gone by. A big model's first pass takes longer than that; a tiny model's kernels need
        // thousands of calls (tinystories-656k looked 12x slower in ternary than in float after one short pass).
        for (var e : models.entrySet()) {
            long start = System.nanoTime();
            once(e.getValue(), promptTokens, Math.min(8, decodeTokens), seed);
            for (int p = 1; p < 20 && System.nanoTime() - start < 2_000_000_000L; p++) {
                once(e.getValue(), promptTokens, decodeTokens, seed);
            }
        }
        for (int r = 0; r < rounds; r++) {
            for (var e : models.entrySet()) {
                double[] tps = once(e.getValue(), promptTokens, decodeTokens, seed);
                double[] b = best.get(e.getKey());
                b[0] = Math.max(b[0], tps[0]);
                b[1] = Math.max(b[1], tps[1]);
                log.accept(String.format("round %d  %-10s prefill %8.1f tok/s  decode %7.2f tok/s", r + 1, e.getKey(), tps[0], tps[1]));
            }
        }
        Map<String, Result> out = new LinkedHashMap<>();
        for (var e : models.entrySet()) {
            LlamaModel m = e.getValue();
            double[] b = best.get(e.getKey());
            out.put(e.getKey(), new Result(e.getKey(), b[0], b[1], m.weightBytes(), m.linearWeightCount(), m.linearWeightBytes()));
        }
        return out;
    }

    /**
     * Prefills of one prompt per round (at most; they stop once a round's prefills have taken
     * {@link #PREFILL_BUDGET_NANOS}): a 64-token prefill lasts about a second at TinyLlama's size, so a single one per
     * round was at the mercy of a noisy neighbour (on a shared 2-core VM the same GEMM ran anywhere between 83 and
     * 144 GFLOP/s from one second to the next), while decode averages over its many tokens.
     */
    static final int PREFILLS_PER_ROUND = 3;
    static final long PREFILL_BUDGET_NANOS = 4_000_000_000L;

    /**
     * Prefills of `promptTokens` seeded random tokens (see {@link #PREFILLS_PER_ROUND}), the fastest counted, then
     * `decodeTokens` greedy steps after the last; returns {prefill, decode} tokens/s.
     */
    static double[] once(LlamaModel m, int promptTokens, int decodeTokens, long seed) {
        int vocab = m.config().vocabSize(), hidden = m.config().hiddenSize();
        int capacity = promptTokens + decodeTokens;
        Transformer tf = new Transformer(m, capacity);
        KvCache cache = tf.newCache(capacity);
        SplittableRandom r = new SplittableRandom(seed);
        int[] prompt = new int[promptTokens];
        for (int i = 0; i < promptTokens; i++) prompt[i] = r.nextInt(vocab);
        long bestPrefill = Long.MAX_VALUE, spent = 0;
        int next = 0;
        for (int p = 0; p < PREFILLS_PER_ROUND && spent < PREFILL_BUDGET_NANOS; p++) {
            // each prefill overwrites the cache's first promptTokens positions: the same work every time
            long t0 = System.nanoTime();
            float[] h = tf.forward(prompt, 0, promptTokens, 0, cache);
            float[] last = new float[hidden];
            System.arraycopy(h, (promptTokens - 1) * hidden, last, 0, hidden);
            next = Sampler.argmax(tf.logits(last, 1), 0, vocab);
            long t = System.nanoTime() - t0;
            bestPrefill = Math.min(bestPrefill, t);
            spent += t;
        }
        long t1 = System.nanoTime();
        int[] one = new int[1];
        for (int i = 0; i < decodeTokens; i++) {
            one[0] = next;
            next = Sampler.argmax(tf.logits(tf.forward(one, 0, 1, promptTokens + i, cache), 1), 0, vocab);
        }
        long t2 = System.nanoTime();
        return new double[] {promptTokens / (bestPrefill / 1e9), decodeTokens / ((t2 - t1) / 1e9)};
    }

    /** Shapes (in, out) of the distinct linear layers of a model, for the matmul comparison. */
    public static List<int[]> linearShapes(LlamaModel m) {
        var c = m.config();
        return List.of(new int[] {c.hiddenSize(), c.qDim()}, new int[] {c.hiddenSize(), c.kvDim()},
                new int[] {c.hiddenSize(), c.intermediateSize()}, new int[] {c.intermediateSize(), c.hiddenSize()});
    }
}
