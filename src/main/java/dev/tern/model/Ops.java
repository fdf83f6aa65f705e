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

    public static float silu(float x) {
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    /** gate[i] = silu(gate[i]) * up[i] over n elements. */
    public static void swiglu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) gate[i] = silu(gate[i]) * up[i];
    }

    /** In-place softmax of x[off..off+n). */
    public static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }

    /** log-softmax value of index `target` in row x[off..off+n), in double. */
    public static double logProb(float[] x, int off, int n, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
        return x[off + target] - max - Math.log(sum);
    }
}
