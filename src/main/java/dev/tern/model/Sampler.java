package dev.tern.model;

import java.util.Arrays;
import java.util.Random;

/** Picks the next token from logits: greedy (temperature 0) or temperature + nucleus (top-p), seeded and deterministic. */
public final class Sampler {
    private final float temperature, topP;
    private final Random random;

    public Sampler(float temperature, float topP, long seed) {
        if (temperature < 0 || Float.isNaN(temperature)) throw new IllegalArgumentException("temperature must be >= 0");
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1]");
        this.temperature = temperature;
        this.topP = topP;
        this.random = new Random(seed);
    }

    public static int argmax(float[] logits, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (logits[off + i] > logits[off + best]) best = i;
        return best;
    }

    public int sample(float[] logits, int off, int n) {
        if (temperature == 0) return argmax(logits, off, n);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (p[i] = StrictMath.exp((logits[off + i] - max) / temperature));
        for (int i = 0; i < n; i++) p[i] /= sum;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        // Stable sort by descending probability keeps ties in index order, so sampling is reproducible.
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        double mass = 0;
        int keep = 0;
        while (keep < n) {
            mass += p[order[keep++]];
            if (mass >= topP) break;
        }
        double r = random.nextDouble() * mass, acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += p[order[i]];
            if (r < acc) return order[i];
        }
        return order[keep - 1];
    }
}
