package dev.tern.quant;

import dev.tern.util.Parallel;

/** Asymmetric ternary initialisation (TWN on the mean-centred row) and the shared ternary helpers. */
public final class Atq {
    /** TWN threshold factor: Δ = 0.75 · mean|w̃|. */
    public static final double DELTA_FACTOR = 0.75;

    private Atq() {}

    /**
     * Initialises one row of k values: mu = mean(w), t = TWN trits of the centred row, alpha = mean |w̃| over the
     * non-zero trits (0 if none). Writes t[tOff..tOff+k) and am = {alpha, mu}.
     */
    public static void initRow(float[] w, int wOff, int k, byte[] t, int tOff, double[] am) {
        double sum = 0;
        for (int j = 0; j < k; j++) sum += w[wOff + j];
        double mu = sum / k;
        twnRow(w, wOff, k, mu, t, tOff, am);
        am[1] = mu;
    }

    /** Symmetric TWN (offset fixed at 0), the RTN-ternary baseline. */
    public static void initRowSymmetric(float[] w, int wOff, int k, byte[] t, int tOff, double[] am) {
        twnRow(w, wOff, k, 0, t, tOff, am);
        am[1] = 0;
    }

    private static void twnRow(float[] w, int wOff, int k, double mu, byte[] t, int tOff, double[] am) {
        double absSum = 0;
        for (int j = 0; j < k; j++) absSum += Math.abs(w[wOff + j] - mu);
        double delta = DELTA_FACTOR * absSum / k;
        double num = 0;
        int cnt = 0;
        for (int j = 0; j < k; j++) {
            double x = w[wOff + j] - mu;
            byte q = x > delta ? (byte) 1 : x < -delta ? (byte) -1 : (byte) 0;
            t[tOff + j] = q;
            num += q * x;
            cnt += q * q;
        }
        am[0] = cnt == 0 ? 0 : num / cnt;
    }

    /** Initialises all rows of an n x k block in parallel; alpha/mu receive the per-row values. */
    public static void init(float[] w, int n, int k, byte[] t, double[] alpha, double[] mu, boolean symmetric) {
        Parallel.forRange(n, 8, (from, to) -> {
            double[] am = new double[2];
            for (int i = from; i < to; i++) {
                if (symmetric) initRowSymmetric(w, i * k, k, t, i * k, am);
                else initRow(w, i * k, k, t, i * k, am);
                alpha[i] = am[0];
                mu[i] = am[1];
            }
        });
    }

    /** Nearest trit to x = (w − mu) on the grid {−alpha, 0, alpha}, alpha ≥ 0; ties and alpha = 0 go to 0. */
    static byte nearestTrit(double x, double alpha) {
        double h = 0.5 * alpha;
        if (alpha > 0) {
            if (x > h) return 1;
            if (x < -h) return -1;
        }
        return 0;
    }

    /** ‖w − (alpha t + mu)‖² of one row, in double. */
    public static double rowError(float[] w, int wOff, int k, byte[] t, int tOff, double alpha, double mu) {
        double e = 0;
        for (int j = 0; j < k; j++) {
            double d = w[wOff + j] - (alpha * t[tOff + j] + mu);
            e += d * d;
        }
        return e;
    }
}
