package dev.tern.quant;

import dev.tern.TernException;
import dev.tern.tokenizer.Tokenizer;
import java.util.Random;

/**
 * Calibration windows with the GPTQ protocol (METHOD.md §6): the text is tokenised once with one BOS, and
 * java.util.Random(seed) picks each window's start uniformly in [0, ntok − L − 1].
 */
public record Calibration(int[][] windows, int seqlen, String source, long seed) {

    public static Calibration sample(Tokenizer tok, String text, String source, int nsamples, int seqlen, long seed) {
        if (nsamples < 1) throw new TernException("--nsamples must be >= 1, got " + nsamples);
        if (seqlen < 2) throw new TernException("--seqlen must be >= 2, got " + seqlen);
        int[] ids = tok.encode(text, true);
        return fromIds(ids, source, nsamples, seqlen, seed);
    }

    public static Calibration fromIds(int[] ids, String source, int nsamples, int seqlen, long seed) {
        if (ids.length < seqlen + 1) {
            throw new TernException("calibration text " + source + " has " + ids.length + " tokens, fewer than one window of "
                    + seqlen + " (+1); use a longer text or a smaller --seqlen");
        }
        Random r = new Random(seed);
        int[][] w = new int[nsamples][];
        for (int s = 0; s < nsamples; s++) {
            int start = r.nextInt(ids.length - seqlen);
            w[s] = java.util.Arrays.copyOfRange(ids, start, start + seqlen);
        }
        return new Calibration(w, seqlen, source, seed);
    }
}
