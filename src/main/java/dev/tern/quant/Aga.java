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
        final int rb = SmallLinalg.ROW_BLOCK;
        Parallel.forRange(n, 8, (from, to) -> {
            double[] st = new double[rb * k], tx = new double[rb * k];
            for (int i0 = from; i0 < to; i0 += rb) {
                int nb = Math.min(rb, to - i0);
                tritsTimesS(t, i0, nb, k, s, tx, st);
                for (int r = 0; r < nb; r++) alignRow(w, (i0 + r) * k, k, s1, dd, t, (i0 + r) * k, alpha, mu, i0 + r, st, r * k);
            }
        });
    }

    /**
     * st[r·k ..] = S tᵀ for the nb rows from i0 (S is symmetric, so t S as well), a few rows per read of S. The sums
     * are those of signed row additions of S in ascending order (±1·s and 0·s are exact), so no multiplication
     * changes a bit.
     */
    private static void tritsTimesS(byte[] t, int i0, int nb, int k, double[] s, double[] tx, double[] st) {
        for (int j = 0; j < nb * k; j++) tx[j] = t[i0 * k + j];
        SmallLinalg.rowsTimes(tx, 0, nb, s, k, st);
    }

    /** One row's closed-form grid, given st[so..so+k) = S tᵀ for its trits. */
    private static void alignRow(float[] w, int wOff, int k, double[] s1, double d, byte[] t, int tOff,
            double[] alpha, double[] mu, int i, double[] st, int so) {
        double a = 0, b = 0, v = 0, c = 0;
        for (int j = 0; j < k; j++) {
            double wj = w[wOff + j];
            int tj = t[tOff + j];
            a += tj * st[so + j];
            b += wj * st[so + j];
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
        final int rb = SmallLinalg.ROW_BLOCK;
        Parallel.forRange(n, 8, (from, to) -> {
            double[] st = new double[rb * k], tx = new double[rb * k];
            for (int i0 = from; i0 < to; i0 += rb) {
                int nb = Math.min(rb, to - i0);
                tritsTimesS(t, i0, nb, k, s, tx, st);
                for (int r = 0; r < nb; r++) alignSymmetricRow(w, k, tiny, t, alpha, mu, i0 + r, st, r * k);
            }
        });
    }

    /** One row's α-only grid, given st[so..so+k) = S tᵀ for its trits. */
    private static void alignSymmetricRow(float[] w, int k, double tiny, byte[] t, double[] alpha, double[] mu, int i,
            double[] st, int so) {
        mu[i] = 0;
        int wOff = i * k, tOff = i * k;
        int nz = 0;
        for (int j = 0; j < k; j++) if (t[tOff + j] != 0) nz++;
        double a = 0, b = 0;
        for (int j = 0; j < k; j++) {
            a += t[tOff + j] * st[so + j];
            b += w[wOff + j] * st[so + j];
        }
        if (!(a > tiny * nz)) return;
        double na = b / a;
        if (!Double.isFinite(na)) return;
        double oa = alpha[i];
        // Objective minus the constant w S wᵀ: α² a − 2 α b.
        if (!(na * na * a - 2 * na * b <= oa * oa * a - 2 * oa * b)) return;
        if (na < 0) {
            na = -na;
            for (int j = 0; j < k; j++) t[tOff + j] = (byte) -t[tOff + j];
        }
        alpha[i] = na;
    }
}
