package dev.tern.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/** bf16 linear layer: weights stay 16-bit in memory and are widened to f32 in-register (shift / mask, no tables). */
public final class Bf16Linear extends PanelLinear {
    private static final VectorSpecies<Integer> SI = IntVector.SPECIES_PREFERRED;
    /**
     * Two bf16 per int: low half = row p*NR+i, high half = row p*NR+V+i. Widening is then one shift (low) and one
     * AND (high) on the same loaded vector, with no cross-lane shuffles that a ShortVector→IntVector convert needs.
     */
    private final int[] wp;

    /** w is [out][in] row-major bf16 bit patterns (upper 16 bits of an f32). */
    public Bf16Linear(short[] w, int out, int in) {
        super(out, in);
        if ((long) out * in != w.length) throw new IllegalArgumentException("w has " + w.length + " != " + out + "x" + in);
        if (SI.length() != V) throw new IllegalStateException("int and float species differ");
        wp = new int[panels * in * V];
        for (int p = 0; p < panels; p++) {
            for (int i = 0; i < NR; i++) {
                int o = p * NR + i;
                if (o >= out) break;
                int dst = p * in * V + (i % V), src = o * in, shift = i < V ? 0 : 16;
                for (int k = 0; k < in; k++) wp[dst + k * V] |= (w[src + k] & 0xffff) << shift;
            }
        }
    }

    /** Round-to-nearest-even f32 → bf16 bits (NaN kept quiet). */
    public static short toBf16(float f) {
        int b = Float.floatToRawIntBits(f);
        if ((b & 0x7fffffff) > 0x7f800000) return (short) ((b >>> 16) | 0x40);
        return (short) ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
    }

    public static float fromBf16(short s) {
        return Float.intBitsToFloat(s << 16);
    }

    public static short[] toBf16(float[] w) {
        short[] s = new short[w.length];
        for (int i = 0; i < w.length; i++) s[i] = toBf16(w[i]);
        return s;
    }

    private static FloatVector lo(IntVector v) {
        return v.lanewise(jdk.incubator.vector.VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector hi(IntVector v) {
        return v.and(0xffff0000).reinterpretAsFloats();
    }

    /** One panel: the same arithmetic, in the same order, as each panel of {@link #gemvFour}. */
    @Override
    void gemvPanel(float[] x, int xo, int p, float[] y, int yo) {
        int[] wp = this.wp;
        int base = p * in * V;
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        for (int k = 0; k < in; k++) {
            IntVector v = IntVector.fromArray(SI, wp, base + k * V);
            FloatVector xk = FloatVector.broadcast(S, x[xo + k]);
            a0 = lo(v).fma(xk, a0);
            a1 = hi(v).fma(xk, a1);
        }
        store(a0, a1, y, yo);
    }

    /**
     * Four panels in one loop, one accumulator pair each. The one-token head of a TinyLlama-shaped model (2048 x
     * 32000) on a Sapphire Rapids (2 threads): 10.5 G multiply-adds/s at 128 bits, 14.2 at AVX2 and 17.1 at 512 with
     * two panels in flight (two k per iteration, so as many accumulators); 17.3, 20.6 and 21.0 with four.
     */
    @Override
    void gemvFour(float[] x, int pa, int pb, float[] y) {
        int[] wp = this.wp;
        int st = in * V, ba = pa * st, bb = pb * st;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int k = 0; k < in; k++) {
            int o = ba + k * V, q = bb + k * V;
            IntVector v = IntVector.fromArray(SI, wp, o), w = IntVector.fromArray(SI, wp, o + st);
            IntVector u = IntVector.fromArray(SI, wp, q), t = IntVector.fromArray(SI, wp, q + st);
            FloatVector xk = FloatVector.broadcast(S, x[k]);
            a0 = lo(v).fma(xk, a0);
            a1 = hi(v).fma(xk, a1);
            b0 = lo(w).fma(xk, b0);
            b1 = hi(w).fma(xk, b1);
            c0 = lo(u).fma(xk, c0);
            c1 = hi(u).fma(xk, c1);
            d0 = lo(t).fma(xk, d0);
            d1 = hi(t).fma(xk, d1);
        }
        store(a0, a1, y, pa * NR);
        store(b0, b1, y, (pa + 1) * NR);
        store(c0, c1, y, pb * NR);
        store(d0, d1, y, (pb + 1) * NR);
    }

    @Override
    float[] slice(int p, int k0, int kLen, float[] scratch) {
        int[] wp = this.wp;
        int src = (p * in + k0) * V;
        for (int k = 0; k < kLen; k++) {
            IntVector v = IntVector.fromArray(SI, wp, src + k * V);
            // lo and hi written out: where the GEMM's call site inlined this slice while its profile was still
            // cold, C2 left the two helpers as calls ("low call site frequency"), their vectors went through the
            // Java fallback, and BF16 prefill ran at 0.4-0.6x its rate (8 of 10 processes once the ternary prefill
            // stopped sharing the f32 GEMM; 0 of 3 with this)
            v.lanewise(jdk.incubator.vector.VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(scratch, k * NR);
            v.and(0xffff0000).reinterpretAsFloats().intoArray(scratch, k * NR + V);
        }
        return scratch;
    }

    @Override
    int sliceOffset(int p, int k0) {
        return 0;
    }

    @Override public long weightBytes() { return 4L * wp.length; }
    @Override public String format() { return "bf16"; }
}
