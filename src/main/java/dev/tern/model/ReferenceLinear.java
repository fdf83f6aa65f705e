package dev.tern.model;

import dev.tern.kernels.LinearOp;

/** Dense f32 linear layer computed with the plain triple loop: the slow, obvious reference the fast kernels are checked against. */
public final class ReferenceLinear implements LinearOp {
    private final float[] w;
    private final int out, in;

    public ReferenceLinear(float[] w, int out, int in) {
        if ((long) out * in != w.length) throw new IllegalArgumentException("weight length " + w.length + " != " + out + "x" + in);
        this.w = w;
        this.out = out;
        this.in = in;
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    @Override
    public void apply(float[] x, float[] y, int tokens) {
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) s += (double) w[o * in + i] * x[t * in + i];
                y[t * out + o] = (float) s;
            }
        }
    }

    @Override
    public long weightBytes() {
        return 4L * w.length;
    }

    @Override
    public String format() {
        return "f32-ref";
    }

    public float[] weights() {
        return w;
    }
}
