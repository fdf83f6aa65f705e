package dev.tern.quant;

/**
 * PTQTP (our reading of the paper, METHOD §5): per row and group, ŵ = alpha1 t1 + alpha2 t2 with two trit-planes, fitted
 * data-free by alternating a ridge 2x2 least-squares for the scales and an exhaustive 9-pair choice of the trits.
 */
public final class Ptqtp {
    public static final int MAX_ITERS = 50;
    /** Stop when max |Δalpha| falls below this fraction of max |alpha| (a relative reading of "|Δα| < 1e-4"). */
    public static final double ALPHA_TOL = 1e-4;
    public static final double RIDGE = 1e-8;
    public static final double MAX_COND = 1e6;

    private Ptqtp() {}

    /** How the first plane is initialised. */
    public enum Init {
        /** METHOD §5: t1 = sign(w), alpha1 = mean|w|. */
        SIGN,
        /**
         * Not in METHOD: t1 = TWN trits (|w| > 0.75·mean|w|), alpha1 = mean |w| over them. Escapes the local minimum
         * alpha1 ≈ alpha2 that SIGN falls into when the main plane has zeros.
         */
        TWN
    }

    /** Observer of ‖w − ŵ‖² after every half-step (scales, then trits). */
    @FunctionalInterface
    public interface Trace {
        void error(double sq);
    }

    /**
     * Fits one row of k values; writes t1/t2 at tOff and returns {alpha1, alpha2} (both ≥ 0) in a. Returns the iteration
     * count.
     */
    public static int fitRow(float[] w, int wOff, int k, byte[] t1, byte[] t2, int tOff, double[] a, Trace trace) {
        return fitRow(w, wOff, k, t1, t2, tOff, a, Init.SIGN, trace);
    }

    /** {@link #fitRow} with a choice of first-plane initialisation. */
    public static int fitRow(float[] w, int wOff, int k, byte[] t1, byte[] t2, int tOff, double[] a, Init init,
            Trace trace) {
        double absSum = 0;
        for (int j = 0; j < k; j++) absSum += Math.abs(w[wOff + j]);
        double thr = init == Init.TWN ? Atq.DELTA_FACTOR * absSum / k : 0;
        double m1 = 0;
        int cnt = 0;
        for (int j = 0; j < k; j++) {
            float v = w[wOff + j];
            byte s = Math.abs(v) > thr ? (byte) Math.signum(v) : 0;
            t1[tOff + j] = s;
            if (s != 0) {
                m1 += Math.abs(v);
                cnt++;
            }
        }
        double a1 = init == Init.TWN ? (cnt == 0 ? 0 : m1 / cnt) : absSum / k, m2 = 0;
        for (int j = 0; j < k; j++) {
            double r = w[wOff + j] - a1 * t1[tOff + j];
            t2[tOff + j] = (byte) Math.signum(r);
            m2 += Math.abs(r);
        }
        a[0] = a1;
        a[1] = m2 / k;
        double err = error(w, wOff, k, t1, t2, tOff, a[0], a[1]);
        if (trace != null) trace.error(err);
        int it = 0;
        while (it < MAX_ITERS) {
            it++;
            double o1 = a[0], o2 = a[1];
            double[] na = scales(w, wOff, k, t1, t2, tOff);
            double e = error(w, wOff, k, t1, t2, tOff, na[0], na[1]);
            // The ridge can cost a hair of accuracy on near-singular systems; never accept a worse fit.
            if (e <= err) {
                a[0] = na[0];
                a[1] = na[1];
                err = e;
            }
            if (trace != null) trace.error(err);
            boolean changed = trits(w, wOff, k, t1, t2, tOff, a[0], a[1]);
            err = error(w, wOff, k, t1, t2, tOff, a[0], a[1]);
            if (trace != null) trace.error(err);
            double da = Math.max(Math.abs(a[0] - o1), Math.abs(a[1] - o2));
            double scale = Math.max(Math.abs(a[0]), Math.abs(a[1]));
            if (!changed && da == 0) break;
            if (da <= ALPHA_TOL * scale) break;
        }
        // Trits were chosen for the current scales, so flipping a plane with its scale leaves ŵ unchanged.
        if (a[0] < 0) flip(t1, tOff, k, a, 0);
        if (a[1] < 0) flip(t2, tOff, k, a, 1);
        return it;
    }

    private static void flip(byte[] t, int off, int k, double[] a, int which) {
        a[which] = -a[which];
        for (int j = 0; j < k; j++) t[off + j] = (byte) -t[off + j];
    }

    /** Ridge least squares (SᵀS + λI)⁻¹ Sᵀ w with λ raised until cond(SᵀS + λI) ≤ MAX_COND. */
    static double[] scales(float[] w, int wOff, int k, byte[] t1, byte[] t2, int tOff) {
        double n11 = 0, n12 = 0, n22 = 0, b1 = 0, b2 = 0;
        for (int j = 0; j < k; j++) {
            int x = t1[tOff + j], y = t2[tOff + j];
            double wj = w[wOff + j];
            n11 += x * x;
            n12 += x * y;
            n22 += y * y;
            b1 += x * wj;
            b2 += y * wj;
        }
        double tr = n11 + n22, disc = Math.sqrt(Math.max(0, (n11 - n22) * (n11 - n22) + 4 * n12 * n12));
        double lmax = 0.5 * (tr + disc), lmin = 0.5 * (tr - disc);
        double lambda = RIDGE;
        if (!(lmin > 0) || lmax / lmin > MAX_COND) {
            lambda = Math.max(lambda, (lmax - MAX_COND * Math.max(lmin, 0)) / (MAX_COND - 1));
        }
        double p = n11 + lambda, q = n22 + lambda, det = p * q - n12 * n12;
        return new double[] {(q * b1 - n12 * b2) / det, (p * b2 - n12 * b1) / det};
    }

    private static final int[] P1 = {0, 1, -1, 0, 0, 1, 1, -1, -1};
    private static final int[] P2 = {0, 0, 0, 1, -1, 1, -1, 1, -1};

    /** Best of the 9 (t1, t2) pairs per element; the current pair wins ties so the loop cannot oscillate. */
    static boolean trits(float[] w, int wOff, int k, byte[] t1, byte[] t2, int tOff, double a1, double a2) {
        boolean changed = false;
        for (int j = 0; j < k; j++) {
            double wj = w[wOff + j];
            int b1 = t1[tOff + j], b2 = t2[tOff + j];
            double best = Math.abs(wj - a1 * b1 - a2 * b2);
            for (int p = 0; p < 9; p++) {
                double e = Math.abs(wj - a1 * P1[p] - a2 * P2[p]);
                if (e < best) {
                    best = e;
                    b1 = P1[p];
                    b2 = P2[p];
                }
            }
            if (b1 != t1[tOff + j] || b2 != t2[tOff + j]) {
                t1[tOff + j] = (byte) b1;
                t2[tOff + j] = (byte) b2;
                changed = true;
            }
        }
        return changed;
    }

    /** ‖w − (a1 t1 + a2 t2)‖² of one row. */
    public static double error(float[] w, int wOff, int k, byte[] t1, byte[] t2, int tOff, double a1, double a2) {
        double e = 0;
        for (int j = 0; j < k; j++) {
            double d = w[wOff + j] - a1 * t1[tOff + j] - a2 * t2[tOff + j];
            e += d * d;
        }
        return e;
    }
}
