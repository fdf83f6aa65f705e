package dev.tern.quant;

import dev.tern.util.Parallel;

/**
 * Activation-aware Grid Alignment: with the trits frozen, the closed-form per-row (alpha, mu) minimising
 * (w − ŵ) S (w − ŵ)ᵀ for the group's Gram matrix S.
 */
public final class Aga {
    /** A 2x2 system whose determinant is below this fraction of d·a is treated as singular. */
    public static final double SINGULAR_REL = 1e-10;

    private Aga() {}

    /**
     * Aligns all rows of an n x k block in parallel. alpha/mu hold the ITF values on entry and are replaced only where the
     * system is well conditioned and the new grid does not increase the objective (so AGA never makes a row worse). Trits
     * are flipped where the aligned alpha comes out negative.
     */
    public static void align(float[] w, int n, int k, double[] s, byte[] t, double[] alpha, double[] mu) {
        double[] s1 = new double[k];
        double d = 0;
        for (int a = 0; a < k; a++) {
            double r = 0;
            for (int b = 0; b < k; b++) r += s[a * k + b];
            s1[a] = r;
            d += r;
        }
        final double dd = d;
        Parallel.forRange(n, 8, (from, to) -> {
            double[] st = new double[k];
            for (int i = from; i < to; i++) alignRow(w, i * k, k, s, s1, dd, t, i * k, alpha, mu, i, st);
        });
    }

    private static void alignRow(float[] w, int wOff, int k, double[] s, double[] s1, double d, byte[] t, int tOff,
            double[] alpha, double[] mu, int i, double[] st) {
        java.util.Arrays.fill(st, 0);
        // S tᵀ by signed row additions: the trits are ternary, so no multiplications are needed.
        for (int j = 0; j < k; j++) {
            int tj = t[tOff + j];
            if (tj == 0) continue;
            int sr = j * k;
            if (tj > 0) for (int c = 0; c < k; c++) st[c] += s[sr + c];
            else for (int c = 0; c < k; c++) st[c] -= s[sr + c];
        }
        double a = 0, b = 0, v = 0, c = 0;
        for (int j = 0; j < k; j++) {
            double wj = w[wOff + j];
            int tj = t[tOff + j];
            a += tj * st[j];
            b += wj * st[j];
            v += tj * s1[j];
            c += wj * s1[j];
        }
        double da = d * a;
        double det = da - v * v;
        if (!(da > 0) || !(Math.abs(det) > SINGULAR_REL * da)) return;
        double na = (d * b - v * c) / det;
        double nm = (a * c - v * b) / det;
        if (!Double.isFinite(na) || !Double.isFinite(nm)) return;
        double oa = alpha[i], om = mu[i];
        // Objective minus the constant w S wᵀ: −2αb − 2μc + α²a + 2αμv + μ²d.
        double fNew = -2 * na * b - 2 * nm * c + na * na * a + 2 * na * nm * v + nm * nm * d;
        double fOld = -2 * oa * b - 2 * om * c + oa * oa * a + 2 * oa * om * v + om * om * d;
        if (!(fNew <= fOld)) return;
        if (na < 0) {
            na = -na;
            for (int j = 0; j < k; j++) t[tOff + j] = (byte) -t[tOff + j];
        }
        alpha[i] = na;
        mu[i] = nm;
    }

    /**
     * α-only AGA (μ fixed at 0, the symmetric grid): per row the α minimising (w − α t) S (w − α t)ᵀ, which is
     * α = w S tᵀ / t S tᵀ. Kept only where t S tᵀ is clearly positive, the result finite and the objective not higher
     * than with the incoming α; μ is set to exactly 0. Trits are flipped where α comes out negative.
     */
    public static void alignSymmetric(float[] w, int n, int k, double[] s, byte[] t, double[] alpha, double[] mu) {
        double scale = 0;
        for (int a = 0; a < k; a++) scale = Math.max(scale, Math.abs(s[a * k + a]));
        final double tiny = SINGULAR_REL * scale;
        Parallel.forRange(n, 8, (from, to) -> {
            double[] st = new double[k];
            for (int i = from; i < to; i++) {
                mu[i] = 0;
                int wOff = i * k, tOff = i * k;
                java.util.Arrays.fill(st, 0);
                int nz = 0;
                for (int j = 0; j < k; j++) {
                    int tj = t[tOff + j];
                    if (tj == 0) continue;
                    nz++;
                    int sr = j * k;
                    if (tj > 0) for (int c = 0; c < k; c++) st[c] += s[sr + c];
                    else for (int c = 0; c < k; c++) st[c] -= s[sr + c];
                }
                double a = 0, b = 0;
                for (int j = 0; j < k; j++) {
                    a += t[tOff + j] * st[j];
                    b += w[wOff + j] * st[j];
                }
                if (!(a > tiny * nz)) continue;
                double na = b / a;
                if (!Double.isFinite(na)) continue;
                double oa = alpha[i];
                // Objective minus the constant w S wᵀ: α² a − 2 α b.
                if (!(na * na * a - 2 * na * b <= oa * oa * a - 2 * oa * b)) continue;
                if (na < 0) {
                    na = -na;
                    for (int j = 0; j < k; j++) t[tOff + j] = (byte) -t[tOff + j];
                }
                alpha[i] = na;
            }
        });
    }
}
