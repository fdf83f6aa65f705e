package dev.tern.quant;

import dev.tern.util.Parallel;

/** PT²-LLM's Asymmetric Ternary Quantizer as a {@link GroupQuantizer}: TWN init, then optionally ITF and AGA. */
public final class AtqQuantizer implements GroupQuantizer {
    private final boolean itf;
    private final boolean aga;

    public AtqQuantizer(boolean itf, boolean aga) {
        this.itf = itf;
        this.aga = aga;
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
        QuantizedBlock b = QuantizedBlock.allocate(rows, cols, false);
        double[] alpha = new double[rows], mu = new double[rows];
        Atq.init(w, rows, cols, b.codes(), alpha, mu, false);
        if (itf) Itf.fit(w, rows, cols, b.codes(), alpha, mu);
        if (aga && s != null) Aga.align(w, rows, cols, s, b.codes(), alpha, mu);
        fillTernary(b, alpha, mu);
        return b;
    }

    @Override
    public float requantize(QuantizedBlock b, int row, int col, float value) {
        return requantizeTernary(b, row, col, value);
    }

    @Override
    public String toString() {
        return "atq(itf=" + itf + ",aga=" + aga + ")";
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
