package dev.tern.quant;

import dev.tern.util.Parallel;

/**
 * Iterative Ternary Fitting: alternates the closed-form asymmetric grid (alpha*, mu*) for fixed trits and flexible
 * rounding of the trits for a fixed grid, until the trits stop changing (cap {@link #MAX_STEPS}).
 */
public final class Itf {
    public static final int MAX_STEPS = 50;

    private Itf() {}

    /** Observer of ‖w − ŵ‖² after every half-step (grid, then rounding); for tests and diagnostics. */
    @FunctionalInterface
    public interface Trace {
        void error(double sq);
    }

    /**
     * Refines one row in place. am = {alpha, mu} holds the starting grid (ignored apart from alpha in degenerate cases)
     * and receives the result with alpha ≥ 0. Returns the number of steps taken.
     */
    public static int fitRow(float[] w, int wOff, int k, byte[] t, int tOff, double[] am, Trace trace) {
        return fitRow(w, wOff, k, t, tOff, am, false, trace);
    }

    /**
     * As above; symmetric = true fits α alone with μ held at 0 (grid step {@link #gridSymmetric}, rounding of w/α), the
     * grid llama.cpp's TQ1_0/TQ2_0 store.
     */
    public static int fitRow(float[] w, int wOff, int k, byte[] t, int tOff, double[] am, boolean symmetric, Trace trace) {
        int steps = 0;
        boolean changed = true;
        while (changed && steps < MAX_STEPS) {
            if (symmetric) gridSymmetric(w, wOff, k, t, tOff, am);
            else grid(w, wOff, k, t, tOff, am);
            if (trace != null) trace.error(Atq.rowError(w, wOff, k, t, tOff, am[0], am[1]));
            changed = round(w, wOff, k, t, tOff, am);
            if (trace != null) trace.error(Atq.rowError(w, wOff, k, t, tOff, am[0], am[1]));
            steps++;
        }
        // Cap hit with fresh trits: one more grid step so (alpha, mu) are optimal for the trits we return.
        if (changed) {
            if (symmetric) gridSymmetric(w, wOff, k, t, tOff, am);
            else grid(w, wOff, k, t, tOff, am);
            if (trace != null) trace.error(Atq.rowError(w, wOff, k, t, tOff, am[0], am[1]));
        }
        return steps;
    }

    /**
     * Least-squares (alpha, mu) for fixed trits. When k·s2 − s1² = 0 (all trits equal, k = 1) only alpha + mu·(1/t) is
     * identifiable: keep alpha and put the rest into mu, which is still optimal and never NaN.
     */
    static void grid(float[] w, int wOff, int k, byte[] t, int tOff, double[] am) {
        double s1 = 0, s2 = 0, p = 0, q = 0;
        for (int j = 0; j < k; j++) {
            int tj = t[tOff + j];
            double wj = w[wOff + j];
            s1 += tj;
            s2 += tj * tj;
            p += wj * tj;
            q += wj;
        }
        double den = k * s2 - s1 * s1; // exact: integers well below 2^53
        double alpha, mu;
        if (den > 0) {
            alpha = (k * p - s1 * q) / den;
            mu = (s2 * q - s1 * p) / den;
        } else {
            alpha = Double.isFinite(am[0]) ? am[0] : 0;
            mu = (q - alpha * s1) / k;
        }
        if (alpha < 0) {
            alpha = -alpha;
            for (int j = 0; j < k; j++) t[tOff + j] = (byte) -t[tOff + j];
        }
        am[0] = alpha;
        am[1] = mu;
    }

    /**
     * Least-squares α for fixed trits with μ = 0: α* = Σ w t / Σ t². With no non-zero trit every α gives the same row
     * (zero): keep α (0 if not finite). μ is set to exactly 0; α ≥ 0 by flipping the trits.
     */
    static void gridSymmetric(float[] w, int wOff, int k, byte[] t, int tOff, double[] am) {
        double s2 = 0, p = 0;
        for (int j = 0; j < k; j++) {
            int tj = t[tOff + j];
            s2 += tj * tj;
            p += (double) w[wOff + j] * tj;
        }
        double alpha = s2 > 0 ? p / s2 : Double.isFinite(am[0]) ? am[0] : 0;
        if (alpha < 0) {
            alpha = -alpha;
            for (int j = 0; j < k; j++) t[tOff + j] = (byte) -t[tOff + j];
        }
        am[0] = alpha;
        am[1] = 0;
    }

    /** Flexible rounding to the nearest grid point; returns whether any trit changed. */
    static boolean round(float[] w, int wOff, int k, byte[] t, int tOff, double[] am) {
        double alpha = am[0], mu = am[1];
        if (!(alpha > 0)) return false; // every trit gives the same value: keep them, T is stable
        boolean changed = false;
        for (int j = 0; j < k; j++) {
            byte nt = Atq.nearestTrit(w[wOff + j] - mu, alpha);
            if (nt != t[tOff + j]) {
                t[tOff + j] = nt;
                changed = true;
            }
        }
        return changed;
    }

    /**
     * Runs ITF on all rows of an n x k block in parallel, starting from t/alpha/mu (e.g. from {@link Atq#init}); steps
     * (may be null) receives each row's step count.
     */
    public static void fit(float[] w, int n, int k, byte[] t, double[] alpha, double[] mu, int[] steps) {
        fit(w, n, k, t, alpha, mu, false, steps);
    }

    /** As above; symmetric = true keeps μ ≡ 0 and fits α alone. */
    public static void fit(float[] w, int n, int k, byte[] t, double[] alpha, double[] mu, boolean symmetric, int[] steps) {
        Parallel.forRange(n, 8, (from, to) -> {
            double[] am = new double[2];
            for (int i = from; i < to; i++) {
                am[0] = alpha[i];
                am[1] = mu[i];
                int st = fitRow(w, i * k, k, t, i * k, am, symmetric, null);
                if (steps != null) steps[i] = st;
                alpha[i] = am[0];
                mu[i] = am[1];
            }
        });
    }
}
