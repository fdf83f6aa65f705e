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

    /** One panel: the same arithmetic, in the same order, as each panel of {@link #gemvFour}. */
    @Override
    void gemvPanel(float[] x, int xo, int p, float[] y, int yo) {
        float[] wp = this.wp;
        int base = p * in * NR;
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        for (int k = 0; k < in; k++) {
            int o = base + k * NR;
            FloatVector xk = FloatVector.broadcast(S, x[xo + k]);
            a0 = FloatVector.fromArray(S, wp, o).fma(xk, a0);
            a1 = FloatVector.fromArray(S, wp, o + V).fma(xk, a1);
        }
        store(a0, a1, y, yo);
    }

    /** Four panels in one loop, one accumulator pair each: four weight streams in flight (see {@link Bf16Linear#gemvFour}). */
    @Override
    void gemvFour(float[] x, int pa, int pb, float[] y) {
        float[] wp = this.wp;
        int st = in * NR, ba = pa * st, bb = pb * st;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int k = 0; k < in; k++) {
            int o = ba + k * NR, q = bb + k * NR;
            FloatVector xk = FloatVector.broadcast(S, x[k]);
            a0 = FloatVector.fromArray(S, wp, o).fma(xk, a0);
            a1 = FloatVector.fromArray(S, wp, o + V).fma(xk, a1);
            b0 = FloatVector.fromArray(S, wp, o + st).fma(xk, b0);
            b1 = FloatVector.fromArray(S, wp, o + st + V).fma(xk, b1);
            c0 = FloatVector.fromArray(S, wp, q).fma(xk, c0);
            c1 = FloatVector.fromArray(S, wp, q + V).fma(xk, c1);
            d0 = FloatVector.fromArray(S, wp, q + st).fma(xk, d0);
            d1 = FloatVector.fromArray(S, wp, q + st + V).fma(xk, d1);
        }
        store(a0, a1, y, pa * NR);
        store(b0, b1, y, (pa + 1) * NR);
        store(c0, c1, y, pb * NR);
        store(d0, d1, y, (pb + 1) * NR);
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
