package dev.tern.kernels;

import dev.tern.util.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shared driver for dense layers whose weights are re-packed into column panels of NR = 2 vectors of output rows.
 *
 * <p>W is stored k-major inside each panel (panel p, input k, lane i holds W[p*NR+i][k]) so that both GEMV and GEMM
 * read weights strictly sequentially and never need a horizontal reduction: a broadcast x value times a weight
 * vector accumulates directly into NR outputs. GEMM packs x into MR-token tiles (k-major) and runs an MR x NR
 * register-blocked microkernel over KC-long slices of the input so the weight micro-panel stays in L1 while it is
 * reused across all token tiles of a block. Partial sums over KC slices go through y in a fixed order, so results
 * are deterministic regardless of thread scheduling (each y element belongs to exactly one work item).
 */
abstract sealed class PanelLinear implements LinearOp permits DenseF32Linear, Bf16Linear {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    static final int NR = 2 * V;
    static final int MR = 6;
    /** KC * NR * 4 bytes = one weight micro-panel; 128 keeps it at half of a 32 KiB L1 for 512-bit vectors. */
    static final int KC = Math.max(64, 4096 / NR);
    /** Token tiles per work block: the packed x block (TB*MR*KC floats) stays in L2. */
    static final int TB = 16;
    /** Panels per work block. */
    static final int PB = 4;

    final int out, in, panels;
    private float[] xpScratch = new float[0];

    PanelLinear(int out, int in) {
        if (out <= 0 || in <= 0) throw new IllegalArgumentException("bad shape " + out + "x" + in);
        this.out = out;
        this.in = in;
        this.panels = (out + NR - 1) / NR;
    }

    @Override public final int inFeatures() { return in; }
    @Override public final int outFeatures() { return out; }

    /** y[yo .. yo+nValid) = panel p times x[xo .. xo+in). */
    abstract void gemvPanel(float[] x, int xo, int p, float[] y, int yo, int nValid);

    /** Accumulates an MR x NR tile over inputs [k0, k0+kLen); x tile starts at xp[xo] (k-major, MR per k). */
    abstract void micro(float[] xp, int xo, int p, int k0, int kLen, float[] y, int yo, int mValid, int nValid,
            boolean first);

    @Override
    public final void apply(float[] x, float[] y, int tokens) {
        if (x.length < (long) tokens * in || y.length < (long) tokens * out) throw new IllegalArgumentException("x/y too short");
        if (tokens == 1) {
            Parallel.forRange(panels, 2, (p0, p1) -> {
                for (int p = p0; p < p1; p++) gemvPanel(x, 0, p, y, p * NR, Math.min(NR, out - p * NR));
            });
            return;
        }
        gemm(x, y, tokens);
    }

    private void gemm(float[] x, float[] y, int tokens) {
        int tiles = (tokens + MR - 1) / MR;
        int need = tiles * in * MR;
        if (xpScratch.length < need) xpScratch = new float[need];
        float[] xp = xpScratch;
        Parallel.forRange(tiles, 4, (t0, t1) -> {
            for (int tile = t0; tile < t1; tile++) {
                int base = tile * in * MR;
                for (int i = 0; i < MR; i++) {
                    int tok = tile * MR + i;
                    if (tok < tokens) {
                        int xo = tok * in;
                        for (int k = 0; k < in; k++) xp[base + k * MR + i] = x[xo + k];
                    } else {
                        for (int k = 0; k < in; k++) xp[base + k * MR + i] = 0f;
                    }
                }
            }
        });
        int pBlocks = (panels + PB - 1) / PB, tBlocks = (tiles + TB - 1) / TB;
        Parallel.forRange(pBlocks * tBlocks, 1, (a, b) -> {
            for (int item = a; item < b; item++) {
                int pb = item / tBlocks, tb = item % tBlocks;
                int p0 = pb * PB, p1 = Math.min(panels, p0 + PB);
                int q0 = tb * TB, q1 = Math.min(tiles, q0 + TB);
                for (int k0 = 0; k0 < in; k0 += KC) {
                    int kLen = Math.min(KC, in - k0);
                    for (int p = p0; p < p1; p++) {
                        int nValid = Math.min(NR, out - p * NR);
                        for (int tile = q0; tile < q1; tile++) {
                            micro(xp, (tile * in + k0) * MR, p, k0, kLen, y, tile * MR * out + p * NR,
                                    Math.min(MR, tokens - tile * MR), nValid, k0 == 0);
                        }
                    }
                }
            }
        });
    }

    /** Writes (or adds, unless first) one NR-wide row of accumulators, masking the ragged last panel. */
    static void put(FloatVector a0, FloatVector a1, float[] y, int off, int nValid, boolean first) {
        if (nValid >= NR) {
            if (!first) {
                a0 = a0.add(FloatVector.fromArray(S, y, off));
                a1 = a1.add(FloatVector.fromArray(S, y, off + V));
            }
            a0.intoArray(y, off);
            a1.intoArray(y, off + V);
        } else {
            VectorMask<Float> m0 = S.indexInRange(0, nValid), m1 = S.indexInRange(V, nValid);
            if (!first) {
                a0 = a0.add(FloatVector.fromArray(S, y, off, m0));
                a1 = a1.add(FloatVector.fromArray(S, y, off + V, m1));
            }
            a0.intoArray(y, off, m0);
            a1.intoArray(y, off + V, m1);
        }
    }
}
