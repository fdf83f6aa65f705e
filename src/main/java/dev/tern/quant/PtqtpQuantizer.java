package dev.tern.quant;

import dev.tern.util.Parallel;

/** {@link Ptqtp} as a data-free {@link GroupQuantizer} producing two trit-planes. */
public final class PtqtpQuantizer implements GroupQuantizer {
    private final Ptqtp.Init init;

    /** METHOD §5 as written (sign init). */
    public PtqtpQuantizer() {
        this(Ptqtp.Init.SIGN);
    }

    public PtqtpQuantizer(Ptqtp.Init init) {
        this.init = init;
    }

    @Override
    public QuantFormat format() {
        return QuantFormat.TRITPLANE;
    }

    @Override
    public QuantizedBlock quantize(float[] w, int rows, int cols, double[] s) {
        QuantizedBlock b = QuantizedBlock.allocate(rows, cols, true);
        Parallel.forRange(rows, 8, (from, to) -> {
            double[] a = new double[2];
            for (int i = from; i < to; i++) {
                Ptqtp.fitRow(w, i * cols, cols, b.codes(), b.codes2(), i * cols, a, init, null);
                float a1 = (float) a[0], a2 = (float) a[1];
                b.p1()[i] = a1;
                b.p2()[i] = a2;
                for (int j = 0; j < cols; j++) {
                    int idx = i * cols + j;
                    b.deq()[idx] = a1 * b.codes()[idx] + a2 * b.codes2()[idx];
                }
            }
        });
        return b;
    }

    @Override
    public float requantize(QuantizedBlock b, int row, int col, float value) {
        float a1 = b.p1()[row], a2 = b.p2()[row];
        int idx = row * b.cols() + col;
        int c1 = b.codes()[idx], c2 = b.codes2()[idx];
        float best = Math.abs(value - (a1 * c1 + a2 * c2));
        for (int x = -1; x <= 1; x++) {
            for (int y = -1; y <= 1; y++) {
                float e = Math.abs(value - (a1 * x + a2 * y));
                if (e < best) {
                    best = e;
                    c1 = x;
                    c2 = y;
                }
            }
        }
        b.codes()[idx] = (byte) c1;
        b.codes2()[idx] = (byte) c2;
        float q = a1 * c1 + a2 * c2;
        b.deq()[idx] = q;
        return q;
    }

    @Override
    public String toString() {
        return "ptqtp(" + init + ")";
    }
}
