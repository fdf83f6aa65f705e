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

    /** One panel: the same arithmetic, in the same order, as either half of {@link #gemvPanels}. */
    @Override
    void gemvPanel(float[] x, int xo, int p, float[] y, int yo, int nValid) {
        float[] wp = this.wp;
        int base = p * in * NR;
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
        int k = 0;
        for (; k + 2 <= in; k += 2) {
            int b = base + k * NR;
            FloatVector x0 = FloatVector.broadcast(S, x[xo + k]), x1 = FloatVector.broadcast(S, x[xo + k + 1]);
            a0 = FloatVector.fromArray(S, wp, b).fma(x0, a0);
            a1 = FloatVector.fromArray(S, wp, b + V).fma(x0, a1);
            a2 = FloatVector.fromArray(S, wp, b + NR).fma(x1, a2);
            a3 = FloatVector.fromArray(S, wp, b + NR + V).fma(x1, a3);
        }
        for (; k < in; k++) {
            int b = base + k * NR;
            FloatVector x0 = FloatVector.broadcast(S, x[xo + k]);
            a0 = FloatVector.fromArray(S, wp, b).fma(x0, a0);
            a1 = FloatVector.fromArray(S, wp, b + V).fma(x0, a1);
        }
        store(a0.add(a2), a1.add(a3), y, yo, nValid);
    }

    /** Panels pa and pb in one loop: two weight streams in flight (see {@link Bf16Linear#gemvPanels}). */
    @Override
    void gemvPanels(float[] x, int pa, int pb, float[] y, int na, int nb) {
        float[] wp = this.wp;
        int ba = pa * in * NR, bb = pb * in * NR;
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, c0 = z, c1 = z, c2 = z, c3 = z;
        int k = 0;
        for (; k + 2 <= in; k += 2) {
            int b = ba + k * NR, d = bb + k * NR;
            FloatVector x0 = FloatVector.broadcast(S, x[k]), x1 = FloatVector.broadcast(S, x[k + 1]);
            a0 = FloatVector.fromArray(S, wp, b).fma(x0, a0);
            a1 = FloatVector.fromArray(S, wp, b + V).fma(x0, a1);
            a2 = FloatVector.fromArray(S, wp, b + NR).fma(x1, a2);
            a3 = FloatVector.fromArray(S, wp, b + NR + V).fma(x1, a3);
            c0 = FloatVector.fromArray(S, wp, d).fma(x0, c0);
            c1 = FloatVector.fromArray(S, wp, d + V).fma(x0, c1);
            c2 = FloatVector.fromArray(S, wp, d + NR).fma(x1, c2);
            c3 = FloatVector.fromArray(S, wp, d + NR + V).fma(x1, c3);
        }
        for (; k < in; k++) {
            int b = ba + k * NR, d = bb + k * NR;
            FloatVector x0 = FloatVector.broadcast(S, x[k]);
            a0 = FloatVector.fromArray(S, wp, b).fma(x0, a0);
            a1 = FloatVector.fromArray(S, wp, b + V).fma(x0, a1);
            c0 = FloatVector.fromArray(S, wp, d).fma(x0, c0);
            c1 = FloatVector.fromArray(S, wp, d + V).fma(x0, c1);
        }
        store(a0.add(a2), a1.add(a3), y, pa * NR, na);
        store(c0.add(c2), c1.add(c3), y, pb * NR, nb);
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
