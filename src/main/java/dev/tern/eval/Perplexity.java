package dev.tern.eval;

import dev.tern.TernException;
import dev.tern.model.KvCache;
import dev.tern.model.Ops;
import dev.tern.model.Transformer;
import dev.tern.util.Progress;

/**
 * Perplexity with the GPTQ protocol (METHOD.md §6): the token stream is cut into non-overlapping windows of L tokens,
 * the remainder is dropped, and every window predicts its L−1 next tokens; the result is exp(mean NLL).
 */
public final class Perplexity {
    /** Outcome of a perplexity run; tokens counts predicted tokens. */
    public record Result(double perplexity, double meanNll, long tokens, int windows, double seconds) {
        public double tokensPerSecond() {
            return (tokens + windows) / Math.max(1e-9, seconds);
        }
    }

    private static final int LOGIT_CHUNK = 64;

    private Perplexity() {}

    public static Result run(Transformer tf, int[] ids, int window, int maxWindows, boolean showProgress) {
        if (window < 2) throw new TernException("window must be at least 2 tokens, got " + window);
        int windows = ids.length / window;
        if (maxWindows > 0) windows = Math.min(windows, maxWindows);
        if (windows == 0) {
            throw new TernException("text has " + ids.length + " tokens, fewer than one window of " + window);
        }
        int vocab = tf.model().config().vocabSize();
        int hidden = tf.model().config().hiddenSize();
        double nll = 0;
        long count = 0;
        long start = System.nanoTime();
        try (Progress p = Progress.start("perplexity", windows, "windows", showProgress)) {
            for (int w = 0; w < windows; w++) {
                int from = w * window;
                KvCache cache = tf.newCache(window);
                float[] h = tf.forward(ids, from, window, 0, cache);
                // Logits are made in chunks so a 150k-token vocabulary never needs a [window][vocab] array.
                float[] rows = new float[LOGIT_CHUNK * hidden];
                for (int t0 = 0; t0 < window - 1; t0 += LOGIT_CHUNK) {
                    int n = Math.min(LOGIT_CHUNK, window - 1 - t0);
                    System.arraycopy(h, t0 * hidden, rows, 0, n * hidden);
                    float[] logits = tf.logits(rows, n);
                    for (int t = 0; t < n; t++) nll -= Ops.logProb(logits, t * vocab, vocab, ids[from + t0 + t + 1]);
                    count += n;
                }
                p.step();
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        double mean = nll / count;
        return new Result(Math.exp(mean), mean, count, windows, secs);
    }
}
