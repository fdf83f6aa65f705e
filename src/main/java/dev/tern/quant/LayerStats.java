package dev.tern.quant;

import dev.tern.kernels.DenseF32Linear;
import dev.tern.util.Parallel;

/**
 * What quantizing one linear layer cost and lost, for the quantization report. outputRelError is
 * ‖(W−Ŵ)X‖² / ‖WX‖² on the layer's calibration inputs X (NaN for data-free methods); bits are as stored.
 */
public record LayerStats(String name, int block, String layer, int rows, int cols, long storedBits, double weightRelError,
        double outputRelError, double meanItfSteps, int maxItfSteps, double seconds) {

    public double bitsPerWeight() {
        return (double) storedBits / ((long) rows * cols);
    }

    /** ‖W−Ŵ‖_F / ‖W‖_F in double. */
    static double weightRelError(float[] w, float[] wq) {
        double num = 0, den = 0;
        for (int i = 0; i < w.length; i++) {
            double d = (double) w[i] - wq[i];
            num += d * d;
            den += (double) w[i] * w[i];
        }
        return den > 0 ? Math.sqrt(num / den) : 0;
    }

    /**
     * tr(E H Eᵀ) / tr(W H Wᵀ) with E = W − Ŵ and H ∝ X Xᵀ (the constant cancels), which is ‖(W−Ŵ)X‖² / ‖WX‖². The two
     * n x m x m products run through the f32 GEMM kernel; the traces are summed in double.
     */
    static double outputRelError(float[] w, float[] wq, int n, int m, double[] h) {
        float[] hf = new float[m * m];
        for (int i = 0; i < hf.length; i++) hf[i] = (float) h[i];
        DenseF32Linear hop = new DenseF32Linear(hf, m, m);
        float[] e = new float[n * m];
        for (int i = 0; i < e.length; i++) e[i] = w[i] - wq[i];
        double num = trace(hop, e, n, m), den = trace(hop, w, n, m);
        return den > 0 ? num / den : 0;
    }

    /** Σ_i a_i · (H a_i) over the rows a_i of a (n x m); H is symmetric, so the GEMM's a Hᵀ is a H. */
    private static double trace(DenseF32Linear hop, float[] a, int n, int m) {
        float[] y = new float[n * m];
        hop.apply(a, y, n);
        double[] part = new double[n];
        Parallel.forRange(n, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                double s = 0;
                for (int j = 0; j < m; j++) s += (double) a[i * m + j] * y[i * m + j];
                part[i] = s;
            }
        });
        double t = 0;
        for (double v : part) t += v;
        return t;
    }
}
