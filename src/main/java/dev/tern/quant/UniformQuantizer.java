package dev.tern.quant;

import dev.tern.util.Parallel;

/**
 * GPTQ's standard asymmetric min-max quantizer per row and group: the range is widened to include 0 (as GPTQ's
 * Quantizer does), scale = (max − min)/(2^b − 1), zero = round(−min/scale), codes clamped to [0, 2^b − 1]. Computed in
 * float like the reference implementation; round is half-to-even like torch.round.
 */
public final class UniformQuantizer implements GroupQuantizer {
    private final int bits;
    private final int maxq;

    public UniformQuantizer(int bits) {
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("bits must be in 2..8, got " + bits);
        this.bits = bits;
        this.maxq = (1 << bits) - 1;
    }

    @Override
    public QuantFormat format() {
        return QuantFormat.UNIFORM;
    }

    @Override
    public int bits() {
        return bits;
    }

    @Override
    public QuantizedBlock quantize(float[] w, int rows, int cols, double[] s) {
        QuantizedBlock b = QuantizedBlock.allocate(rows, cols, false);
        Parallel.forRange(rows, 32, (from, to) -> {
            for (int i = from; i < to; i++) {
                float mn = 0, mx = 0;
                for (int j = 0; j < cols; j++) {
                    float v = w[i * cols + j];
                    mn = Math.min(mn, v);
                    mx = Math.max(mx, v);
                }
                if (mn == 0 && mx == 0) {
                    mn = -1;
                    mx = 1;
                }
                float scale = (mx - mn) / maxq;
                float zero = (float) Math.rint(-mn / scale);
                b.p1()[i] = scale;
                b.p2()[i] = zero;
                for (int j = 0; j < cols; j++) requantize(b, i, j, w[i * cols + j]);
            }
        });
        return b;
    }

    @Override
    public float requantize(QuantizedBlock b, int row, int col, float value) {
        float scale = b.p1()[row], zero = b.p2()[row];
        float q = (float) Math.rint(value / scale) + zero;
        q = Math.max(0, Math.min(maxq, q));
        int idx = row * b.cols() + col;
        b.codes()[idx] = (byte) (int) q;
        float d = scale * (q - zero);
        b.deq()[idx] = d;
        return d;
    }

    @Override
    public String toString() {
        return "uniform" + bits;
    }
}
