package dev.tern.kernels;

import jdk.incubator.vector.FloatVector;

/** f32 linear layer: Vector API GEMV/GEMM over weights re-packed into NR-row panels (see {@link PanelLinear}). */
public final class DenseF32Linear extends PanelLinear {
    private final float[] wp;

    /** w is [out][in] row-major (Hugging Face layout); it is copied into the panel layout, not retained. */
    public DenseF32Linear(float[] w, int out, int in) {
        super(out, in);
        if ((long) out * in != w.length) throw new IllegalArgumentException("w has " + w.length + " != " + out + "x" + in);
        wp = new float[panels * in * NR];
        for (int p = 0; p < panels; p++) {
            for (int i = 0; i < NR; i++) {
                int o = p * NR + i;
                if (o >= out) break;
                int dst = p * in * NR + i, src = o * in;
                for (int k = 0; k < in; k++) wp[dst + k * NR] = w[src + k];
            }
        }
    }

    @Override
    void gemvPanel(float[] x, int xo, int p, float[] y, int yo, int nValid) {
        float[] wp = this.wp;
        int base = p * in * NR;
        FloatVector z = FloatVector.zero(S);
        // eight independent FMA chains hide the 4-cycle FMA latency; this loop is bandwidth-bound anyway
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        int k = 0;
        for (; k + 4 <= in; k += 4) {
            int b = base + k * NR;
            FloatVector x0 = FloatVector.broadcast(S, x[xo + k]);
            FloatVector x1 = FloatVector.broadcast(S, x[xo + k + 1]);
            FloatVector x2 = FloatVector.broadcast(S, x[xo + k + 2]);
            FloatVector x3 = FloatVector.broadcast(S, x[xo + k + 3]);
            a0 = FloatVector.fromArray(S, wp, b).fma(x0, a0);
            a1 = FloatVector.fromArray(S, wp, b + V).fma(x0, a1);
            a2 = FloatVector.fromArray(S, wp, b + NR).fma(x1, a2);
            a3 = FloatVector.fromArray(S, wp, b + NR + V).fma(x1, a3);
            a4 = FloatVector.fromArray(S, wp, b + 2 * NR).fma(x2, a4);
            a5 = FloatVector.fromArray(S, wp, b + 2 * NR + V).fma(x2, a5);
            a6 = FloatVector.fromArray(S, wp, b + 3 * NR).fma(x3, a6);
            a7 = FloatVector.fromArray(S, wp, b + 3 * NR + V).fma(x3, a7);
        }
        for (; k < in; k++) {
            int b = base + k * NR;
            FloatVector x0 = FloatVector.broadcast(S, x[xo + k]);
            a0 = FloatVector.fromArray(S, wp, b).fma(x0, a0);
            a1 = FloatVector.fromArray(S, wp, b + V).fma(x0, a1);
        }
        store(a0.add(a2).add(a4.add(a6)), a1.add(a3).add(a5.add(a7)), y, yo, nValid);
    }

    @Override
    float[] slice(int p, int k0, int kLen, float[] scratch) {
        return wp;
    }

    @Override
    int sliceOffset(int p, int k0) {
        return (p * in + k0) * NR;
    }

    @Override public long weightBytes() { return 4L * wp.length; }
    @Override public String format() { return "f32"; }
}
