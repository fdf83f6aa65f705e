package dev.tern.eval;

import dev.tern.TernException;
import dev.tern.model.KvCache;
import dev.tern.model.Ops;
import dev.tern.model.Transformer;
import dev.tern.util.Progress;

/**
 * Perplexity over non-overlapping windows of L tokens (the remainder is dropped); the result is exp(mean NLL) over
 * the scored tokens. Two protocols: GPTQ's (METHOD.md §6), where every window predicts its L−1 next tokens, and
 * llama.cpp's llama-perplexity, where each window's first token is replaced by BOS and only its second half is
 * scored (positions L/2 .. L−2 predict the next token: L/2 − 1 tokens per window).
 */
public final class Perplexity {
    /** Which tokens of a window are scored. */
    public enum Protocol {
        GPTQ, LLAMA_CPP;

        public static Protocol parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "gptq" -> GPTQ;
                case "llama.cpp", "llamacpp", "llama-cpp" -> LLAMA_CPP;
                default -> throw new TernException("unknown --protocol '" + s + "' (gptq or llama.cpp)");
            };
        }
    }

    /** Outcome of a perplexity run; tokens counts scored tokens, window the tokens each window runs through the model. */
    public record Result(double perplexity, double meanNll, long tokens, int windows, int window, double seconds) {
        /** Tokens through the model per second (every token of every window, scored or not). */
        public double tokensPerSecond() {
            return (double) windows * window / Math.max(1e-9, seconds);
        }
    }

    private static final int LOGIT_CHUNK = 64;
    /** Warm-up windows per model before several models are timed against each other ({@link #runAll}). */
    static final int WARM_WINDOWS = 3;

    private Perplexity() {}

    public static Result run(Transformer tf, int[] ids, int window, int maxWindows, boolean showProgress) {
        return run(tf, ids, window, maxWindows, showProgress, Protocol.GPTQ, -1);
    }

    /** With LLAMA_CPP, bos (if ≥ 0) replaces each window's first token, as llama-perplexity does when BOS is added. */
    public static Result run(Transformer tf, int[] ids, int window, int maxWindows, boolean showProgress, Protocol protocol, int bos) {
        return runAll(java.util.List.of(tf), ids, window, maxWindows, showProgress, protocol, bos).get(0);
    }

    /**
     * Several models over the same windows, taking turns window by window (who goes first alternates), each timed
     * on its own windows only: their speeds are then measured under the same machine load, so their ratio holds on
     * a noisy machine where two separate runs can differ by 20 %. With more than one model, each first runs
     * {@link #WARM_WINDOWS} windows untimed and unscored, in turns.
     */
    public static java.util.List<Result> runAll(java.util.List<Transformer> tfs, int[] ids, int window, int maxWindows, boolean showProgress,
            Protocol protocol, int bos) {
        if (protocol == Protocol.LLAMA_CPP && window < 4) throw new TernException("window must be at least 4 tokens, got " + window);
        if (window < 2) throw new TernException("window must be at least 2 tokens, got " + window);
        int windows = ids.length / window;
        if (maxWindows > 0) windows = Math.min(windows, maxWindows);
        if (windows == 0) {
            throw new TernException("text has " + ids.length + " tokens, fewer than one window of " + window);
        }
        int n = tfs.size();
        double[] nll = new double[n];
        long[] count = new long[n], nanos = new long[n];
        if (n > 1) {
            // untimed, unscored warm-up windows, taking turns: whoever ran the first window of a cold JVM would
            // otherwise be charged for compiling the code all of them share (15 % of 400 windows, same model twice)
            double[] scrap = new double[n];
            for (int w = 0; w < WARM_WINDOWS; w++) {
                for (int i = 0; i < n; i++) score(tfs.get(i), ids, (w % windows) * window, window, protocol, bos, scrap, i);
            }
        }
        try (Progress p = Progress.start("perplexity", windows, "windows", showProgress)) {
            for (int w = 0; w < windows; w++) {
                for (int j = 0; j < n; j++) {
                    int i = (j + w) % n;
                    long t0 = System.nanoTime();
                    count[i] += score(tfs.get(i), ids, w * window, window, protocol, bos, nll, i);
                    nanos[i] += System.nanoTime() - t0;
                }
                p.step();
            }
        }
        java.util.List<Result> out = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double mean = nll[i] / count[i];
            out.add(new Result(Math.exp(mean), mean, count[i], windows, window, nanos[i] / 1e9));
        }
        return out;
    }

    /** One window through tf: adds its tokens' negative log-likelihoods to nll[slot], in order, and returns how many tokens it scored. */
    private static int score(Transformer tf, int[] ids, int from, int window, Protocol protocol, int bos, double[] nll, int slot) {
        int vocab = tf.model().config().vocabSize();
        int hidden = tf.model().config().hiddenSize();
        KvCache cache = tf.newCache(window);
        float[] h;
        int first = 0;
        if (protocol == Protocol.LLAMA_CPP) {
            int[] win = java.util.Arrays.copyOfRange(ids, from, from + window);
            if (bos >= 0) win[0] = bos;
            h = tf.forward(win, 0, window, 0, cache);
            first = window / 2;
        } else {
            h = tf.forward(ids, from, window, 0, cache);
        }
        // Logits are made in chunks so a 150k-token vocabulary never needs a [window][vocab] array.
        float[] rows = new float[LOGIT_CHUNK * hidden];
        int scored = 0;
        for (int t0 = first; t0 < window - 1; t0 += LOGIT_CHUNK) {
            int m = Math.min(LOGIT_CHUNK, window - 1 - t0);
            System.arraycopy(h, t0 * hidden, rows, 0, m * hidden);
            float[] logits = tf.logits(rows, m);
            for (int t = 0; t < m; t++) nll[slot] -= Ops.logProb(logits, t * vocab, vocab, ids[from + t0 + t + 1]);
            scored += m;
        }
        return scored;
    }
}
