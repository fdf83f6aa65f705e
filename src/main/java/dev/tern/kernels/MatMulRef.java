package dev.tern.kernels;

/** The obvious triple loop with double accumulation: the reference every fast kernel is tested against. */
public final class MatMulRef implements LinearOp {
    private final float[] w;
    private final int out, in;

    public MatMulRef(float[] w, int out, int in) {
        if ((long) out * in != w.length) throw new IllegalArgumentException("w has " + w.length + " != " + out + "x" + in);
        this.w = w;
        this.out = out;
        this.in = in;
    }

    /** y[t][o] = sum_k x[t][k] * w[o][k]; w is [out][in] row-major. */
    public static void multiply(float[] w, int out, int in, float[] x, float[] y, int tokens) {
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                int wo = o * in, xo = t * in;
                for (int k = 0; k < in; k++) s += (double) x[xo + k] * w[wo + k];
                y[t * out + o] = (float) s;
            }
        }
    }

    @Override public int inFeatures() { return in; }
    @Override public int outFeatures() { return out; }
    @Override public void apply(float[] x, float[] y, int tokens) { multiply(w, out, in, x, y, tokens); }
    @Override public long weightBytes() { return 4L * w.length; }
    @Override public String format() { return "f32-ref"; }
}
