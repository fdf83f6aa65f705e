package dev.tern.quant;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-tiled kernels for {@code C[r, y] += sum_t u[r, t] * M[t, y]}: the one hot loop behind the SPD inverse, the
 * GPTQ weight/inverse downdates and the Hessian accumulation.
 *
 * <p>M is pre-packed into column panels ({@code [panel][t][width]}) so the inner loop over t reads contiguous memory,
 * and four rows share every load of M. Every element is accumulated in the same order (t ascending, fused multiply-add)
 * whether it is handled by the 4-row kernel, the 1-row kernel or the scalar tail, so results do not depend on how the
 * rows are split among threads.
 */
final class RankUpdate {
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int DL = DS.length();
    private static final int FL = FS.length();
    /** Panel widths (columns per packed panel). */
    static final int DW = 2 * DL;
    static final int FW = 2 * FL;
    /** About 256 KB of packed panels stay L2-resident while all rows of a thread stream past them. */
    private static final int CHUNK_BYTES = 256 * 1024;

    private RankUpdate() {}

    static int panels(int len, int width) {
        return (len + width - 1) / width;
    }

    /** Packs m[mOff + t*ms + y] (k x len) into zero-padded panels of DW columns. */
    static double[] pack(double[] m, int mOff, int ms, int k, int len) {
        int np = panels(len, DW);
        double[] p = new double[np * k * DW];
        dev.tern.util.Parallel.forRange(np, 4, (from, to) -> {
            for (int pi = from; pi < to; pi++) {
                int y0 = pi * DW, w = Math.min(DW, len - y0), base = pi * k * DW;
                for (int t = 0; t < k; t++) System.arraycopy(m, mOff + t * ms + y0, p, base + t * DW, w);
            }
        });
        return p;
    }

    /** Float panels of FW columns from a double matrix (the weight update runs in float, as GPTQ does). */
    static float[] packFloat(double[] m, int mOff, int ms, int k, int len) {
        int np = panels(len, FW);
        float[] p = new float[np * k * FW];
        dev.tern.util.Parallel.forRange(np, 4, (from, to) -> {
            for (int pi = from; pi < to; pi++) {
                int y0 = pi * FW, w = Math.min(FW, len - y0), base = pi * k * FW;
                for (int t = 0; t < k; t++) {
                    int src = mOff + t * ms + y0, dst = base + t * FW;
                    for (int c = 0; c < w; c++) p[dst + c] = (float) m[src + c];
                }
            }
        });
        return p;
    }

    /**
     * For rows r in [r0, r1): c[cOff[r] + y] += sum_t u[uOff + r*k + t] * M[t][y], for y in [p0*DW, len). M is given as
     * packed panels.
     */
    static void update(double[] c, int[] cOff, double[] u, int uOff, int k, double[] panels, int len, int p0,
            int r0, int r1) {
        int np = panels(len, DW);
        int chunk = Math.max(1, CHUNK_BYTES / (8 * k * DW));
        for (int pc = p0; pc < np; pc += chunk) {
            int pe = Math.min(np, pc + chunk);
            int r = r0;
            for (; r + 4 <= r1; r += 4) {
                kernel4(c, cOff[r], cOff[r + 1], cOff[r + 2], cOff[r + 3], u, uOff + r * k, uOff + (r + 1) * k,
                        uOff + (r + 2) * k, uOff + (r + 3) * k, k, panels, pc, pe, len);
            }
            for (; r < r1; r++) kernel1(c, cOff[r], u, uOff + r * k, k, panels, pc, pe, len);
        }
    }

    private static void kernel4(double[] c, int o0, int o1, int o2, int o3, double[] u, int u0, int u1, int u2,
            int u3, int k, double[] pn, int pFrom, int pTo, int len) {
        for (int p = pFrom; p < pTo; p++) {
            int y0 = p * DW, base = p * k * DW;
            if (y0 + DW > len) {
                tail(c, o0, u, u0, k, pn, base, y0, len);
                tail(c, o1, u, u1, k, pn, base, y0, len);
                tail(c, o2, u, u2, k, pn, base, y0, len);
                tail(c, o3, u, u3, k, pn, base, y0, len);
                continue;
            }
            DoubleVector a00 = DoubleVector.fromArray(DS, c, o0 + y0), a01 = DoubleVector.fromArray(DS, c, o0 + y0 + DL);
            DoubleVector a10 = DoubleVector.fromArray(DS, c, o1 + y0), a11 = DoubleVector.fromArray(DS, c, o1 + y0 + DL);
            DoubleVector a20 = DoubleVector.fromArray(DS, c, o2 + y0), a21 = DoubleVector.fromArray(DS, c, o2 + y0 + DL);
            DoubleVector a30 = DoubleVector.fromArray(DS, c, o3 + y0), a31 = DoubleVector.fromArray(DS, c, o3 + y0 + DL);
            for (int t = 0; t < k; t++) {
                int mb = base + t * DW;
                DoubleVector m0 = DoubleVector.fromArray(DS, pn, mb), m1 = DoubleVector.fromArray(DS, pn, mb + DL);
                DoubleVector b = DoubleVector.broadcast(DS, u[u0 + t]);
                a00 = m0.fma(b, a00);
                a01 = m1.fma(b, a01);
                b = DoubleVector.broadcast(DS, u[u1 + t]);
                a10 = m0.fma(b, a10);
                a11 = m1.fma(b, a11);
                b = DoubleVector.broadcast(DS, u[u2 + t]);
                a20 = m0.fma(b, a20);
                a21 = m1.fma(b, a21);
                b = DoubleVector.broadcast(DS, u[u3 + t]);
                a30 = m0.fma(b, a30);
                a31 = m1.fma(b, a31);
            }
            a00.intoArray(c, o0 + y0);
            a01.intoArray(c, o0 + y0 + DL);
            a10.intoArray(c, o1 + y0);
            a11.intoArray(c, o1 + y0 + DL);
            a20.intoArray(c, o2 + y0);
            a21.intoArray(c, o2 + y0 + DL);
            a30.intoArray(c, o3 + y0);
            a31.intoArray(c, o3 + y0 + DL);
        }
    }

    private static void kernel1(double[] c, int o0, double[] u, int u0, int k, double[] pn, int pFrom, int pTo,
            int len) {
        for (int p = pFrom; p < pTo; p++) {
            int y0 = p * DW, base = p * k * DW;
            if (y0 + DW > len) {
                tail(c, o0, u, u0, k, pn, base, y0, len);
                continue;
            }
            DoubleVector a00 = DoubleVector.fromArray(DS, c, o0 + y0), a01 = DoubleVector.fromArray(DS, c, o0 + y0 + DL);
            for (int t = 0; t < k; t++) {
                int mb = base + t * DW;
                DoubleVector b = DoubleVector.broadcast(DS, u[u0 + t]);
                a00 = DoubleVector.fromArray(DS, pn, mb).fma(b, a00);
                a01 = DoubleVector.fromArray(DS, pn, mb + DL).fma(b, a01);
            }
            a00.intoArray(c, o0 + y0);
            a01.intoArray(c, o0 + y0 + DL);
        }
    }

    private static void tail(double[] c, int o, double[] u, int u0, int k, double[] pn, int base, int y0, int len) {
        for (int y = y0; y < len; y++) {
            double acc = c[o + y];
            for (int t = 0; t < k; t++) acc = Math.fma(pn[base + t * DW + (y - y0)], u[u0 + t], acc);
            c[o + y] = acc;
        }
    }

    /** Float twin of {@link #update}: for rows r in [r0, r1), c[cOff[r] + y] += sum_t u[r*k + t] * M[t][y]. */
    static void updateFloat(float[] c, int[] cOff, float[] u, int k, float[] panels, int len, int r0, int r1) {
        int np = panels(len, FW);
        int chunk = Math.max(1, CHUNK_BYTES / (4 * k * FW));
        for (int pc = 0; pc < np; pc += chunk) {
            int pe = Math.min(np, pc + chunk);
            int r = r0;
            for (; r + 4 <= r1; r += 4) {
                kernel4f(c, cOff[r], cOff[r + 1], cOff[r + 2], cOff[r + 3], u, r * k, (r + 1) * k, (r + 2) * k,
                        (r + 3) * k, k, panels, pc, pe, len);
            }
            for (; r < r1; r++) kernel1f(c, cOff[r], u, r * k, k, panels, pc, pe, len);
        }
    }

    private static void kernel4f(float[] c, int o0, int o1, int o2, int o3, float[] u, int u0, int u1, int u2,
            int u3, int k, float[] pn, int pFrom, int pTo, int len) {
        for (int p = pFrom; p < pTo; p++) {
            int y0 = p * FW, base = p * k * FW;
            if (y0 + FW > len) {
                tailf(c, o0, u, u0, k, pn, base, y0, len);
                tailf(c, o1, u, u1, k, pn, base, y0, len);
                tailf(c, o2, u, u2, k, pn, base, y0, len);
                tailf(c, o3, u, u3, k, pn, base, y0, len);
                continue;
            }
            FloatVector a00 = FloatVector.fromArray(FS, c, o0 + y0), a01 = FloatVector.fromArray(FS, c, o0 + y0 + FL);
            FloatVector a10 = FloatVector.fromArray(FS, c, o1 + y0), a11 = FloatVector.fromArray(FS, c, o1 + y0 + FL);
            FloatVector a20 = FloatVector.fromArray(FS, c, o2 + y0), a21 = FloatVector.fromArray(FS, c, o2 + y0 + FL);
            FloatVector a30 = FloatVector.fromArray(FS, c, o3 + y0), a31 = FloatVector.fromArray(FS, c, o3 + y0 + FL);
            for (int t = 0; t < k; t++) {
                int mb = base + t * FW;
                FloatVector m0 = FloatVector.fromArray(FS, pn, mb), m1 = FloatVector.fromArray(FS, pn, mb + FL);
                FloatVector b = FloatVector.broadcast(FS, u[u0 + t]);
                a00 = m0.fma(b, a00);
                a01 = m1.fma(b, a01);
                b = FloatVector.broadcast(FS, u[u1 + t]);
                a10 = m0.fma(b, a10);
                a11 = m1.fma(b, a11);
                b = FloatVector.broadcast(FS, u[u2 + t]);
                a20 = m0.fma(b, a20);
                a21 = m1.fma(b, a21);
                b = FloatVector.broadcast(FS, u[u3 + t]);
                a30 = m0.fma(b, a30);
                a31 = m1.fma(b, a31);
            }
            a00.intoArray(c, o0 + y0);
            a01.intoArray(c, o0 + y0 + FL);
            a10.intoArray(c, o1 + y0);
            a11.intoArray(c, o1 + y0 + FL);
            a20.intoArray(c, o2 + y0);
            a21.intoArray(c, o2 + y0 + FL);
            a30.intoArray(c, o3 + y0);
            a31.intoArray(c, o3 + y0 + FL);
        }
    }

    private static void kernel1f(float[] c, int o0, float[] u, int u0, int k, float[] pn, int pFrom, int pTo,
            int len) {
        for (int p = pFrom; p < pTo; p++) {
            int y0 = p * FW, base = p * k * FW;
            if (y0 + FW > len) {
                tailf(c, o0, u, u0, k, pn, base, y0, len);
                continue;
            }
            FloatVector a00 = FloatVector.fromArray(FS, c, o0 + y0), a01 = FloatVector.fromArray(FS, c, o0 + y0 + FL);
            for (int t = 0; t < k; t++) {
                int mb = base + t * FW;
                FloatVector b = FloatVector.broadcast(FS, u[u0 + t]);
                a00 = FloatVector.fromArray(FS, pn, mb).fma(b, a00);
                a01 = FloatVector.fromArray(FS, pn, mb + FL).fma(b, a01);
            }
            a00.intoArray(c, o0 + y0);
            a01.intoArray(c, o0 + y0 + FL);
        }
    }

    private static void tailf(float[] c, int o, float[] u, int u0, int k, float[] pn, int base, int y0, int len) {
        for (int y = y0; y < len; y++) {
            float acc = c[o + y];
            for (int t = 0; t < k; t++) acc = Math.fma(pn[base + t * FW + (y - y0)], u[u0 + t], acc);
            c[o + y] = acc;
        }
    }
}
