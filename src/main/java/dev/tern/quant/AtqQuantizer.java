package dev.tern.quant;

import dev.tern.util.Parallel;

/**
 * PT²-LLM's Asymmetric Ternary Quantizer as a {@link GroupQuantizer}: TWN init, then optionally ITF and AGA. The
 * symmetric variant (μ ≡ 0, the grid of llama.cpp's TQ1_0/TQ2_0) runs the same stages restricted to α: TWN on the
 * uncentred row, ITF alternating trits given α and α given trits, AGA solving for α alone; its α are rounded to f16
 * as they are fitted, so the column pass and the refits see exactly the scales the checkpoint stores.
 */
public final class AtqQuantizer implements GroupQuantizer {
    private final boolean itf;
    private final boolean aga;
    private final boolean symmetric;

    public AtqQuantizer(boolean itf, boolean aga) {
        this(itf, aga, false);
    }

    public AtqQuantizer(boolean itf, boolean aga, boolean symmetric) {
        this.itf = itf;
        this.aga = aga;
        this.symmetric = symmetric;
    }

    public boolean symmetric() {
        return symmetric;
    }

    /** The full method: init → ITF → AGA. */
    public static AtqQuantizer full() {
        return new AtqQuantizer(true, true);
    }

    public boolean itf() {
        return itf;
    }

    public boolean aga() {
        return aga;
    }

    @Override
    public QuantFormat format() {
        return QuantFormat.TERNARY;
    }

    @Override
    public boolean usesGram() {
        return aga;
    }

    @Override
    public QuantizedBlock quantize(float[] w, int rows, int cols, double[] s) {
        QuantizedBlock b = new QuantizedBlock(rows, cols, new float[rows * cols], new byte[rows * cols], null,
                new float[rows], new float[rows], itf ? new int[rows] : null);
        double[] alpha = new double[rows], mu = new double[rows];
        Atq.init(w, rows, cols, b.codes(), alpha, mu, symmetric);
        if (itf) Itf.fit(w, rows, cols, b.codes(), alpha, mu, symmetric, b.itfSteps());
        if (aga && s != null) align(w, rows, cols, s, b.codes(), alpha, mu);
        fill(b, alpha, mu);
        return b;
    }

    /** ITF's grid step, then AGA, on the trits the column pass chose: the two stages with the trits held fixed. */
    @Override
    public boolean refit(QuantizedBlock b, float[] w, double[] s) {
        if (!itf && !(aga && s != null)) return false;
        int rows = b.rows(), k = b.cols();
        double[] alpha = new double[rows], mu = new double[rows];
        for (int i = 0; i < rows; i++) {
            alpha[i] = b.p1()[i];
            mu[i] = b.p2()[i];
        }
        if (itf) {
            Parallel.forRange(rows, 32, (from, to) -> {
                double[] am = new double[2];
                for (int i = from; i < to; i++) {
                    am[0] = alpha[i];
                    am[1] = mu[i];
                    if (symmetric) Itf.gridSymmetric(w, i * k, k, b.codes(), i * k, am);
                    else Itf.grid(w, i * k, k, b.codes(), i * k, am);
                    alpha[i] = am[0];
                    mu[i] = am[1];
                }
            });
        }
        if (aga && s != null) align(w, rows, k, s, b.codes(), alpha, mu);
        boolean changed = false;
        for (int i = 0; i < rows && !changed; i++) changed = param(alpha[i]) != b.p1()[i] || (float) mu[i] != b.p2()[i];
        fill(b, alpha, mu);
        return changed;
    }

    /**
     * Exact coordinate descent on the trits: each trit in turn takes the value that minimises e s eᵀ (e = w − ŵ)
     * with the others fixed, sweeping until no trit moves (cap {@link #MAX_SWEEPS}). Never increases the objective.
     */
    @Override
    public boolean refine(QuantizedBlock b, float[] w, double[] s) {
        // Re-rounding belongs to the refit rounds, which only ITF or AGA start: the bare ablation keeps GPTQ's trits.
        if (s == null || !itf && !aga) return false;
        int rows = b.rows(), k = b.cols();
        boolean[] changed = new boolean[rows];
        final int rb = SmallLinalg.ROW_BLOCK;
        Parallel.forRange(rows, 8, (from, to) -> {
            double[] g = new double[rb * k], e = new double[rb * k];
            for (int i0 = from; i0 < to; i0 += rb) {
                int nb = Math.min(rb, to - i0);
                // e = w − ŵ and g = S e (e·S: S is exactly symmetric) for a few rows at once, so S is read once for all
                for (int r = 0; r < nb; r++) {
                    int off = (i0 + r) * k;
                    double alpha = b.p1()[i0 + r], mu = b.p2()[i0 + r];
                    for (int j = 0; j < k; j++) e[r * k + j] = w[off + j] - (alpha * b.codes()[off + j] + mu);
                }
                SmallLinalg.rowsTimes(e, 0, nb, s, k, g);
                for (int r = 0; r < nb; r++) {
                    int i = i0 + r;
                    changed[i] = descendRow(k, s, b.codes(), i * k, b.p1()[i], g, r * k);
                }
            }
        });
        boolean any = false;
        for (boolean c : changed) any |= c;
        if (any) {
            double[] alpha = new double[rows], mu = new double[rows];
            for (int i = 0; i < rows; i++) {
                alpha[i] = b.p1()[i];
                mu[i] = b.p2()[i];
            }
            fillTernary(b, alpha, mu);
        }
        return any;
    }

    static final int MAX_SWEEPS = 8;

    /** The sweeps of one row; g[gOff..gOff+k) holds S e for its error e = w − ŵ and is kept up to date. */
    private static boolean descendRow(int k, double[] s, byte[] t, int off, float alpha, double[] g, int gOff) {
        if (!(alpha > 0)) return false;
        boolean any = false;
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            boolean moved = false;
            for (int j = 0; j < k; j++) {
                int cur = t[off + j];
                double sjj = s[j * k + j];
                int best = cur;
                double bestGain = 0;
                for (int cand = -1; cand <= 1; cand++) {
                    if (cand == cur) continue;
                    double de = -(double) alpha * (cand - cur);
                    // Objective change for e_j += de: 2·de·(S e)_j + de²·S_jj. Demand a clear decrease so
                    // rounding noise cannot make two trits swap back and forth.
                    double gain = 2 * de * g[gOff + j] + de * de * sjj;
                    if (gain < bestGain - 1e-12 * Math.abs(sjj) * alpha * alpha) {
                        bestGain = gain;
                        best = cand;
                    }
                }
                if (best != cur) {
                    double de = -(double) alpha * (best - cur);
                    t[off + j] = (byte) best;
                    int row = j * k;
                    for (int c = 0; c < k; c++) g[gOff + c] += de * s[row + c];
                    moved = true;
                }
            }
            if (!moved) break;
            any = true;
        }
        return any;
    }

    @Override
    public float requantize(QuantizedBlock b, int row, int col, float value) {
        return requantizeTernary(b, row, col, value);
    }

    @Override
    public String toString() {
        return "atq(itf=" + itf + ",aga=" + aga + (symmetric ? ",symmetric" : "") + ")";
    }

    private void align(float[] w, int rows, int k, double[] s, byte[] t, double[] alpha, double[] mu) {
        if (symmetric) Aga.alignSymmetric(w, rows, k, s, t, alpha, mu);
        else Aga.align(w, rows, k, s, t, alpha, mu);
    }

    /** The stored value of a fitted α: f16 for the symmetric grid (TQ-exact), float otherwise (rounded later). */
    float param(double alpha) {
        return symmetric ? f16(alpha) : (float) alpha;
    }

    private void fill(QuantizedBlock b, double[] alpha, double[] mu) {
        if (!symmetric) {
            fillTernary(b, alpha, mu);
            return;
        }
        double[] a16 = new double[alpha.length];
        for (int i = 0; i < alpha.length; i++) a16[i] = f16(alpha[i]);
        fillTernary(b, a16, new double[mu.length]);
    }

    static float f16(double v) {
        return Float.float16ToFloat(Float.floatToFloat16((float) v));
    }

    /** Stores float parameters and dequantizes with exactly the arithmetic of TernaryMatrix.dequantize(). */
    static void fillTernary(QuantizedBlock b, double[] alpha, double[] mu) {
        int k = b.cols();
        Parallel.forRange(b.rows(), 32, (from, to) -> {
            for (int i = from; i < to; i++) {
                float a = (float) alpha[i], m = (float) mu[i];
                b.p1()[i] = a;
                b.p2()[i] = m;
                for (int j = 0; j < k; j++) b.deq()[i * k + j] = a * b.codes()[i * k + j] + m;
            }
        });
    }

    static float requantizeTernary(QuantizedBlock b, int row, int col, float value) {
        float a = b.p1()[row], m = b.p2()[row];
        byte t = Atq.nearestTrit((double) value - m, a);
        int idx = row * b.cols() + col;
        b.codes()[idx] = t;
        float q = a * t + m;
        b.deq()[idx] = q;
        return q;
    }
}
