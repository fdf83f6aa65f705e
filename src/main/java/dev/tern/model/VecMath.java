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
        float s = acc.reduceLanes(VectorOperators.ADD);
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

    /** x[i] = exp(x[i] - shift) in place; returns the sum (accumulated per lane in float, then in double). */
    static double expInPlace(float[] x, int off, int n, float shift) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector e = FloatVector.fromArray(S, x, off + i).sub(shift).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += (x[off + i] = (float) Math.exp(x[off + i] - shift));
        return sum;
    }

    /** Σ exp(x[i] - shift) over x[off..off+n) without writing x. */
    static double sumExp(float[] x, int off, int n, float shift) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            acc = acc.add(FloatVector.fromArray(S, x, off + i).sub(shift).lanewise(VectorOperators.EXP));
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += Math.exp(x[off + i] - shift);
        return sum;
    }

    static void scale(float[] x, int off, int n, float a) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) FloatVector.fromArray(S, x, off + i).mul(a).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= a;
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
