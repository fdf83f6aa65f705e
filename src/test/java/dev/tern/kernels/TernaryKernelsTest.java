package dev.tern.kernels;

import static dev.tern.kernels.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.tern.format.TernaryMatrix;
import dev.tern.format.TritPlaneMatrix;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TernaryKernelsTest {
    static final int[][] SHAPES = { // out, in, groupSize
        {1, 1, 128}, {1, 7, 128}, {3, 5, 128}, {17, 130, 128}, {33, 128, 128}, {40, 259, 128}, {65, 300, 64},
        {9, 103, 7}, {70, 1000, 128}, {5, 23, 5}
    };
    static final int[] TOKENS = {1, 2, 3, 7, 17, 64};

    /** |W| bound |α| + |μ| per element, in original column order, for the error yardstick. */
    static float[] ternaryAbs(TernaryMatrix m) {
        float[] a = new float[m.rows() * m.cols()];
        for (int r = 0; r < m.rows(); r++)
            for (int j = 0; j < m.cols(); j++) {
                int g = r * m.groups() + j / m.groupSize();
                a[r * m.cols() + (m.perm() == null ? j : m.perm()[j])] = Math.abs(m.alpha()[g]) + Math.abs(m.mu()[g]);
            }
        return a;
    }

    static float[] tritAbs(TritPlaneMatrix m) {
        float[] a = new float[m.rows() * m.cols()];
        for (int r = 0; r < m.rows(); r++)
            for (int j = 0; j < m.cols(); j++) {
                int g = r * m.groups() + j / m.groupSize();
                a[r * m.cols() + (m.perm() == null ? j : m.perm()[j])] = Math.abs(m.alpha1()[g]) + Math.abs(m.alpha2()[g]);
            }
        return a;
    }

    @Test
    void base3RoundTrip() {
        Random r = new Random(1);
        for (int[] s : SHAPES) {
            byte[] c = trits(r, s[0] * s[1]);
            byte[] p = TernaryPacking.packBase3(c, s[0], s[1], s[2]);
            assertEquals(s[0] * TernaryPacking.base3RowBytes(s[1], s[2]), p.length);
            assertArrayEquals(c, TernaryPacking.unpackBase3(p, s[0], s[1], s[2]));
        }
        // all 243 patterns of one byte
        byte[] all = new byte[243 * 5];
        for (int v = 0; v < 243; v++) for (int k = 0, q = v; k < 5; k++, q /= 3) all[v * 5 + k] = (byte) (q % 3 - 1);
        byte[] p = TernaryPacking.packBase3(all, 243, 5, 5);
        for (int v = 0; v < 243; v++) assertEquals(v, p[v] & 0xff);
        assertArrayEquals(all, TernaryPacking.unpackBase3(p, 243, 5, 5));
    }

    @Test
    void planesRoundTrip() {
        Random r = new Random(2);
        for (int[] s : SHAPES) {
            byte[] c = trits(r, s[0] * s[1]);
            assertArrayEquals(c, TernaryPacking.unpackPlanes(TernaryPacking.packPlanes(c, s[0], s[1], s[2]), s[0], s[1], s[2]));
        }
    }

    @Test
    void rejectsNonTernary() {
        assertThrows(IllegalArgumentException.class, () -> TernaryPacking.packBase3(new byte[] {2}, 1, 1, 128));
        assertThrows(IllegalArgumentException.class, () -> TernaryPacking.packPlanes(new byte[] {-2}, 1, 1, 128));
    }

    @Test
    void ternaryMatchesDequantizedReference() {
        Random r = new Random(3);
        for (TernaryLinear.Layout layout : TernaryLinear.Layout.values()) {
            for (int[] s : SHAPES) {
                for (boolean permute : new boolean[] {false, true}) {
                    TernaryMatrix m = ternary(r, s[0], s[1], s[2], permute);
                    float[] w = m.dequantize(), wa = ternaryAbs(m);
                    TernaryLinear op = new TernaryLinear(m, layout);
                    for (int t : TOKENS) {
                        float[] x = gaussian(r, t * s[1], 1f), ref = new float[t * s[0]], y = new float[t * s[0]];
                        MatMulRef.multiply(w, s[0], s[1], x, ref, t);
                        op.apply(x, y, t);
                        assertClose(layout + " " + s[0] + "x" + s[1] + "/" + s[2] + " perm=" + permute + " t=" + t, ref, y,
                                scale(wa, s[0], s[1], x, t), 2e-5);
                    }
                }
            }
        }
    }

    @Test
    void tritPlaneMatchesDequantizedReference() {
        Random r = new Random(4);
        for (int[] s : SHAPES) {
            for (boolean permute : new boolean[] {false, true}) {
                TritPlaneMatrix m = tritPlane(r, s[0], s[1], s[2], permute);
                float[] w = m.dequantize(), wa = tritAbs(m);
                TritPlaneLinear op = new TritPlaneLinear(m);
                for (int t : TOKENS) {
                    float[] x = gaussian(r, t * s[1], 1f), ref = new float[t * s[0]], y = new float[t * s[0]];
                    MatMulRef.multiply(w, s[0], s[1], x, ref, t);
                    op.apply(x, y, t);
                    assertClose("tritplane " + s[0] + "x" + s[1] + " perm=" + permute + " t=" + t, ref, y,
                            scale(wa, s[0], s[1], x, t), 2e-5);
                }
            }
        }
    }

    @Test
    void sharedPermutedInputMatchesApply() {
        Random r = new Random(5);
        TernaryMatrix a = ternary(r, 50, 300, 128, true);
        TernaryMatrix b = new TernaryMatrix(70, 300, 128, trits(r, 70 * 300), gaussianF16(r, 70 * 3), gaussianF16(r, 70 * 3), a.perm());
        TernaryLinear la = new TernaryLinear(a), lb = new TernaryLinear(b);
        assertTrue(la.sharesInputLayout(lb));
        assertFalse(la.sharesInputLayout(new TernaryLinear(ternary(r, 50, 300, 128, true))));
        for (int t : new int[] {1, 20}) {
            float[] x = gaussian(r, t * 300, 1f);
            float[] xp = la.permute(x, t), gs = la.groupSums(xp, t);
            float[] ya = new float[t * 50], yb = new float[t * 70], ea = new float[t * 50], eb = new float[t * 70];
            la.applyPermuted(xp, gs, ya, t);
            lb.applyPermuted(xp, gs, yb, t);
            la.apply(x, ea, t);
            lb.apply(x, eb, t);
            assertArrayEquals(ea, ya);
            assertArrayEquals(eb, yb);
        }
    }

    static float[] gaussianF16(Random r, int n) {
        float[] a = gaussian(r, n, 0.02f);
        for (int i = 0; i < n; i++) a[i] = f16(a[i]);
        return a;
    }

    @Test
    void deterministic() {
        Random r = new Random(6);
        TernaryMatrix m = ternary(r, 333, 1000, 128, true);
        LinearOp[] ops = {new TernaryLinear(m), new TernaryLinear(m, TernaryLinear.Layout.PLANES2),
            new TritPlaneLinear(tritPlane(r, 333, 1000, 128, true))};
        for (LinearOp op : ops) {
            for (int t : new int[] {1, 40}) {
                float[] x = gaussian(r, t * 1000, 1f), a = new float[t * 333], b = new float[t * 333];
                op.apply(x, a, t);
                op.apply(x, b, t);
                assertArrayEquals(a, b, op.format());
            }
        }
    }

    @Test
    void residentBitsWithinBudget() {
        Random r = new Random(7);
        int out = 256, in = 2048;
        TernaryMatrix m = ternary(r, out, in, 128, true);
        double bits = 8.0 * new TernaryLinear(m).weightBytes() / ((double) out * in);
        assertTrue(bits <= 2.1, "base3 bits/weight " + bits);
        double planes = 8.0 * new TernaryLinear(m, TernaryLinear.Layout.PLANES2).weightBytes() / ((double) out * in);
        assertEquals(2.25 + 32.0 / out, planes, 1e-9);
    }
}
