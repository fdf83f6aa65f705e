package dev.tern.model;

/** Element-wise operations of the forward pass (RMSNorm, SwiGLU, softmax), on slices of float arrays. */
public final class Ops {
    private Ops() {}

    /** out[off..off+n) = x[off..off+n) / rms(x) * weight. Accumulates in double so the fast and reference paths agree closely. */
    public static void rmsNorm(float[] out, int outOff, float[] x, int off, float[] weight, int n, double eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[off + i] * x[off + i];
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[outOff + i] = weight[i] * (x[off + i] * inv);
    }

    /** StrictMath, not Math: Math.exp may round differently once JIT-compiled, and runs must be bit-reproducible. */
    public static float silu(float x) {
        return (float) (x / (1.0 + StrictMath.exp(-x)));
    }

    /** gate[i] = silu(gate[i]) * up[i] over n elements (vectorised, with the reproducible exp of VecMath). */
    public static void swiglu(float[] gate, float[] up, int n) {
        VecMath.swiglu(gate, up, n);
    }

    /** In-place softmax of x[off..off+n) (vectorised exp). */
    public static void softmax(float[] x, int off, int n) {
        float max = VecMath.max(x, off, n);
        double sum = VecMath.expInPlace(x, off, n, max);
        VecMath.scale(x, off, n, (float) (1.0 / sum));
    }

    /** log-softmax value of index `target` in row x[off..off+n); exp is vectorised, the log-sum-exp kept in double. */
    public static double logProb(float[] x, int off, int n, int target) {
        float max = VecMath.max(x, off, n);
        return (double) x[off + target] - max - StrictMath.log(VecMath.sumExp(x, off, n, max));
    }
}
