package dev.tern.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Small Vector API helpers for attention (dot products and scaled adds over slices). */
final class VecMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VecMath() {}

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
        }
        float s = sumLanes(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** max over x[off..off+n). */
    static float max(float[] x, int off, int n) {
        int i = 0;
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) m = m.max(FloatVector.fromArray(S, x, off + i));
        float r = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) r = Math.max(r, x[off + i]);
        return r;
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;

    /**
     * exp of every lane, built from plain IEEE operations (Cephes-style range reduction and a degree-6 polynomial,
     * relative error ~1e-7). The Vector API's EXP lane op is an intrinsic whose results differ between interpreted and
     * JIT-compiled code, which made runs non-reproducible; this one gives the same bits everywhere.
     */
    static FloatVector exp(FloatVector x) {
        x = x.max(-87.3f).min(88.7f);
        // Adding and subtracting 1.5·2^23 rounds to the nearest integer with plain float arithmetic.
        FloatVector k = x.mul(LOG2E).add(12582912f).sub(12582912f);
        FloatVector r = x.sub(k.mul(LN2_HI)).sub(k.mul(LN2_LO));
        FloatVector p = FloatVector.broadcast(S, 1.9875691500e-4f);
        p = p.fma(r, bc(1.3981999507e-3f)).fma(r, bc(8.3334519073e-3f)).fma(r, bc(4.1665795894e-2f))
                .fma(r, bc(1.6666665459e-1f)).fma(r, bc(5.0000001201e-1f));
        p = p.mul(r).mul(r).add(r).add(1f);
        var pow2 = k.convert(VectorOperators.F2I, 0).reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(pow2.reinterpretAsFloats());
    }

    private static FloatVector bc(float c) {
        return FloatVector.broadcast(S, c);
    }

    /**
     * x[i] = exp(x[i] - shift) in place; returns the sum (accumulated per lane in float, then in double). The tail
     * (a decode step's softmax rows are short, and their tails up to L-1 long) goes through the same call of
     * {@link #exp} as the full vectors, from a copy padded to a whole vector: with a second call site, C2 ran out of
     * its inlining node budget and the tails ran in the Vector API's Java fallback (4 % of a 128-bit decode step).
     * No masked load, store or add: a masked vector operation inside a loop is what left the float GEMV's
     * accumulators boxed in some JIT compiles (see PanelLinear.gemvRagged), and a padded copy costs one vector.
     */
    static double expInPlace(float[] x, int off, int n, float shift) {
        FloatVector acc = FloatVector.zero(S);
        int l = S.length();
        for (int i = 0; i < n; i += l) {
            int valid = Math.min(l, n - i);
            float[] src = x;
            int so = off + i;
            if (valid < l) {
                src = new float[l];
                System.arraycopy(x, off + i, src, 0, valid);
                so = 0;
            }
            FloatVector e = exp(FloatVector.fromArray(S, src, so).sub(shift));
            e.intoArray(src, so);
            if (valid < l) {
                System.arraycopy(src, 0, x, off + i, valid);
                // padding lanes add +0 to sums of positive terms: the masked add's bits
                java.util.Arrays.fill(src, valid, l, 0f);
                e = FloatVector.fromArray(S, src, 0);
            }
            acc = acc.add(e);
        }
        return sumLanes(acc);
    }

    /** Σ exp(x[i] - shift) over x[off..off+n) without writing x (one call of exp, as in {@link #expInPlace}). */
    static double sumExp(float[] x, int off, int n, float shift) {
        FloatVector acc = FloatVector.zero(S);
        int l = S.length();
        for (int i = 0; i < n; i += l) {
            int valid = Math.min(l, n - i);
            float[] src = x;
            int so = off + i;
            if (valid < l) {
                src = new float[l];
                System.arraycopy(x, off + i, src, 0, valid);
                so = 0;
            }
            FloatVector e = exp(FloatVector.fromArray(S, src, so).sub(shift));
            if (valid < l) {
                float[] t = new float[l];
                e.intoArray(t, 0);
                java.util.Arrays.fill(t, valid, l, 0f);
                e = FloatVector.fromArray(S, t, 0);
            }
            acc = acc.add(e);
        }
        return sumLanes(acc);
    }

    /**
     * Sum of the lanes in lane order. reduceLanes(ADD) may associate differently once JIT-compiled than when
     * interpreted, which would make results depend on warm-up; a fixed order keeps runs bit-identical.
     */
    static float sumLanes(FloatVector v) {
        // a fixed butterfly at every width: the same order in every JIT tier, and no array round trip (toArray
        // allocated an array per call, a third of evaluation time with 256-bit vectors)
        int n = S.length();
        if (n >= 16) v = v.add(v.rearrange(X8));
        if (n >= 8) v = v.add(v.rearrange(X4));
        if (n >= 4) v = v.add(v.rearrange(X2));
        if (n >= 2) v = v.add(v.rearrange(X1));
        if (n > 16) {
            float[] lanes = v.toArray();
            float s = 0;
            for (int i = 0; i < n; i += 16) s += lanes[i];
            return s;
        }
        return v.lane(0);
    }

    private static final jdk.incubator.vector.VectorShuffle<Float> X8 = shuffle(8), X4 = shuffle(4), X2 = shuffle(2),
            X1 = shuffle(1);

    private static jdk.incubator.vector.VectorShuffle<Float> shuffle(int bit) {
        return jdk.incubator.vector.VectorShuffle.fromOp(S, i -> (i ^ bit) % S.length());
    }

    /** gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i]. */
    static void swiglu(float[] gate, float[] up, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector g = FloatVector.fromArray(S, gate, i);
            FloatVector silu = g.div(exp(g.neg()).add(1f));
            silu.mul(FloatVector.fromArray(S, up, i)).intoArray(gate, i);
        }
        for (; i < n; i++) gate[i] = Ops.silu(gate[i]) * up[i];
    }

    static void scale(float[] x, int off, int n, float a) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) FloatVector.fromArray(S, x, off + i).mul(a).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= a;
    }

    /**
     * scores[p] = Σ_d (q[qo+d]·scale)·kt[ko + d·stride + p] for p < len, d in order: the bits of clearing scores and
     * running one {@link #axpy} per d, with the sums of four vectors of positions held in registers over all d
     * instead of loaded and stored once per d.
     */
    static void scoresT(float[] q, int qo, float scale, int hd, float[] kt, int ko, int stride, float[] scores, int len) {
        int l = S.length(), p = 0;
        for (; p + 4 * l <= len; p += 4 * l) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0, o = ko + p; d < hd; d++, o += stride) {
                FloatVector qd = FloatVector.broadcast(S, q[qo + d] * scale);
                a0 = FloatVector.fromArray(S, kt, o).fma(qd, a0);
                a1 = FloatVector.fromArray(S, kt, o + l).fma(qd, a1);
                a2 = FloatVector.fromArray(S, kt, o + 2 * l).fma(qd, a2);
                a3 = FloatVector.fromArray(S, kt, o + 3 * l).fma(qd, a3);
            }
            a0.intoArray(scores, p);
            a1.intoArray(scores, p + l);
            a2.intoArray(scores, p + 2 * l);
            a3.intoArray(scores, p + 3 * l);
        }
        for (int bound = S.loopBound(len); p < bound; p += l) {
            FloatVector a0 = FloatVector.zero(S);
            for (int d = 0, o = ko + p; d < hd; d++, o += stride) a0 = FloatVector.fromArray(S, kt, o).fma(FloatVector.broadcast(S, q[qo + d] * scale), a0);
            a0.intoArray(scores, p);
        }
        for (; p < len; p++) {
            float sum = 0f;
            for (int d = 0, o = ko + p; d < hd; d++, o += stride) sum += q[qo + d] * scale * kt[o];
            scores[p] = sum;
        }
    }

    /**
     * out[oo+r] = {@link #dot}(w, 0, vt, vo + r·stride, n) for r < rows: the same bits, four rows at a time, so
     * that four independent FMA chains share each load of w instead of one chain waiting on FMA latency.
     */
    static void dotRows(float[] w, int n, float[] vt, int vo, int stride, int rows, float[] out, int oo) {
        int r = 0, bound = S.loopBound(n);
        for (; r + 4 <= rows; r += 4) {
            int b0 = vo + r * stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i < bound; i += S.length()) {
                FloatVector x = FloatVector.fromArray(S, w, i);
                a0 = x.fma(FloatVector.fromArray(S, vt, b0 + i), a0);
                a1 = x.fma(FloatVector.fromArray(S, vt, b1 + i), a1);
                a2 = x.fma(FloatVector.fromArray(S, vt, b2 + i), a2);
                a3 = x.fma(FloatVector.fromArray(S, vt, b3 + i), a3);
            }
            float s0 = sumLanes(a0), s1 = sumLanes(a1), s2 = sumLanes(a2), s3 = sumLanes(a3);
            for (; i < n; i++) {
                s0 += w[i] * vt[b0 + i];
                s1 += w[i] * vt[b1 + i];
                s2 += w[i] * vt[b2 + i];
                s3 += w[i] * vt[b3 + i];
            }
            out[oo + r] = s0;
            out[oo + r + 1] = s1;
            out[oo + r + 2] = s2;
            out[oo + r + 3] = s3;
        }
        for (; r < rows; r++) out[oo + r] = dot(w, 0, vt, vo + r * stride, n);
    }

    /** y[yo..] += a * x[xo..] */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, a);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }
}
