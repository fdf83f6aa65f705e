package dev.tern.quant;

import dev.tern.util.Parallel;

/**
 * In-place inverse of a symmetric positive definite matrix by block sweeping (block Gauss-Jordan with diagonal pivots).
 *
 * <p>Chosen over Cholesky + triangular inverse because every step is the same rank-k row update that the GPTQ driver
 * already runs, which parallelises over rows with no triangular dependencies and needs no second m x m array.
 */
public final class SpdInverse {
    private SpdInverse() {}

    /** Replaces a (m x m, row-major, SPD) by its inverse, using pivot blocks of {@code block} columns. */
    public static void invertInPlace(double[] a, int m, int block) {
        int[] rowOff = new int[m];
        for (int b0 = 0; b0 < m; b0 += block) {
            int kb = Math.min(block, m - b0);
            double[] abb = new double[kb * kb];
            for (int t = 0; t < kb; t++) System.arraycopy(a, (b0 + t) * m + b0, abb, t * kb, kb);
            double[] p = SmallLinalg.inverseFromCholesky(SmallLinalg.cholesky(abb, kb), kb);
            double[] v = new double[kb * m];
            System.arraycopy(a, b0 * m, v, 0, kb * m);
            double[] mm = SmallLinalg.multiply(p, kb, v, m);
            double[] panels = RankUpdate.pack(mm, 0, m, kb, m);
            int others = m - kb;
            int[] rows = new int[others];
            for (int x = 0, c = 0; x < m; x++) if (x < b0 || x >= b0 + kb) rows[c++] = x;
            for (int i = 0; i < others; i++) rowOff[i] = rows[i] * m;
            double[] u = new double[others * kb];
            final int fb0 = b0;
            Parallel.forRange(others, 16, (from, to) -> {
                for (int i = from; i < to; i++) {
                    int ro = rows[i] * m + fb0;
                    for (int t = 0; t < kb; t++) u[i * kb + t] = -a[ro + t];
                }
                RankUpdate.update(a, rowOff, u, 0, kb, panels, m, 0, from, to);
                for (int i = from; i < to; i++) {
                    int x = rows[i], ro = x * m + fb0;
                    for (int t = 0; t < kb; t++) a[ro + t] = mm[t * m + x];
                }
            });
            for (int t = 0; t < kb; t++) {
                System.arraycopy(mm, t * m, a, (b0 + t) * m, m);
                for (int s = 0; s < kb; s++) a[(b0 + t) * m + b0 + s] = -p[t * kb + s];
            }
        }
        // Sweeping every pivot leaves -A^{-1}; negate and symmetrise the rounding noise away.
        Parallel.forRange(m, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                for (int j = 0; j < i; j++) {
                    double s = -0.5 * (a[i * m + j] + a[j * m + i]);
                    a[i * m + j] = s;
                    a[j * m + i] = s;
                }
                a[i * m + i] = -a[i * m + i];
            }
        });
    }
}
