package dev.tern.quant;

import dev.tern.util.Parallel;

/**
 * Running mean of H = 2·XᵀX/N over batches of token rows (N = tokens seen so far), accumulated in double. Only the
 * upper triangle is accumulated; {@link #hessian()} mirrors it. Deterministic: every element is summed by one thread
 * in token order.
 */
public final class HessianAccumulator {
    private static final int TOKEN_CHUNK = 256;
    private static final int ROW_BLOCK = 32;

    private final int m;
    private final double[] h;
    private long tokens;

    public HessianAccumulator(int m) {
        if (m <= 0) throw new IllegalArgumentException("m " + m);
        this.m = m;
        this.h = new double[m * m];
    }

    public int size() {
        return m;
    }

    /** Tokens accumulated so far (the N of 2·XᵀX/N). */
    public long tokens() {
        return tokens;
    }

    /** Adds token rows x ([count][m] row-major) to the running mean. */
    public void add(float[] x, int count) {
        if (count <= 0) return;
        if ((long) count * m > x.length) throw new IllegalArgumentException("x too short for " + count + " tokens");
        long total = tokens + count;
        double keep = (double) tokens / total, coef = 2.0 / total;
        if (tokens > 0) {
            Parallel.forRange(m, 64, (from, to) -> {
                for (int i = from * m, e = to * m; i < e; i++) h[i] *= keep;
            });
        }
        int[] rowOff = new int[m];
        for (int a = 0; a < m; a++) rowOff[a] = a * m;
        int dw = RankUpdate.DW, np = RankUpdate.panels(m, dw);
        int blocks = (m + ROW_BLOCK - 1) / ROW_BLOCK;
        for (int t0 = 0; t0 < count; t0 += TOKEN_CHUNK) {
            int kc = Math.min(TOKEN_CHUNK, count - t0), ft0 = t0;
            double[] u = new double[m * kc];
            double[] panels = new double[np * kc * dw];
            Parallel.forRange(np, 4, (from, to) -> {
                for (int p = from; p < to; p++) {
                    int y0 = p * dw, w = Math.min(dw, m - y0), base = p * kc * dw;
                    for (int t = 0; t < kc; t++) {
                        int src = (ft0 + t) * m + y0, dst = base + t * dw;
                        for (int c = 0; c < w; c++) {
                            float v = x[src + c];
                            panels[dst + c] = v;
                            u[(y0 + c) * kc + t] = coef * v;
                        }
                    }
                }
            });
            Parallel.forRange(blocks, 1, (from, to) -> {
                for (int b = from; b < to; b++) {
                    int a0 = b * ROW_BLOCK, a1 = Math.min(m, a0 + ROW_BLOCK);
                    RankUpdate.update(h, rowOff, u, 0, kc, panels, m, a0 / dw, a0, a1);
                }
            });
        }
        tokens = total;
    }

    /** The full symmetric H (the internal array, not a copy, to avoid another m x m allocation). */
    public double[] hessian() {
        Parallel.forRange(m, 16, (from, to) -> {
            for (int a = from; a < to; a++) {
                for (int b = 0; b < a; b++) h[a * m + b] = h[b * m + a];
            }
        });
        return h;
    }
}
