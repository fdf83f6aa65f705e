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
        {9, 103, 7}, {70, 1000, 128}, {5, 23, 5},
        // sliced layout: several 640-column superblocks, odd/even chunk counts, remainders, other multiples of 32
        {19, 2048, 128}, {6, 1280, 128}, {5, 1930, 128}, {3, 641, 128}, {4, 960, 32}, {3, 700, 256}, {2, 330, 96}
    };
    static final int[] TOKENS = {1, 2, 3, 4, 7, 17, 64};

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
    void lut3RoundTrip() {
        Random r = new Random(15);
        for (int[] s : new int[][] {{1, 1, 128}, {33, 130, 128}, {40, 259, 128}, {65, 300, 64}, {9, 103, 7}, {5, 23, 5},
            {3, 2048, 128}, {2, 5632, 128}, {31, 9, 3}}) {
            byte[] c = trits(r, s[0] * s[1]);
            short[] p = TernaryPacking.packLut3(c, s[0], s[1], s[2]);
            assertEquals(TernaryPacking.lut3Tiles(s[0]) * 32 * TernaryPacking.lut3Words(s[1], s[2]), p.length);
            assertArrayEquals(c, TernaryPacking.unpackLut3(p, s[0], s[1], s[2]));
        }
        // 128-column groups take 43 triples each, so 2048 columns are 16·43 = 688 triples in 230 words
        assertEquals(230, TernaryPacking.lut3Words(2048, 128));
    }

    /**
     * LUT3 against a scalar model of the same arithmetic: activations rounded (to nearest, ties to even) to ±255 per
     * group, exact integer dot
     * products, then α·d·Σ + μ·Σx in double. Only float rounding of the flush may differ.
     */
    @Test
    void lut3MatchesIntegerReference() {
        Random r = new Random(16);
        // 600 rows = 19 tiles in one chunk: the decode kernel's tile pairs and an odd tile. 1024 x 8192 = 32 tiles
        // in several chunks, so with two threads each builds its own tables (decode) and pairs run in each chunk.
        for (int[] s : new int[][] {{70, 1000, 128}, {33, 2048, 128}, {40, 259, 64}, {9, 103, 7}, {600, 400, 128},
            {1024, 8192, 128}, {40, 100, 3}}) {
            TernaryMatrix m = ternary(r, s[0], s[1], s[2], true);
            TernaryLinear op = new TernaryLinear(m, TernaryLinear.Layout.LUT3);
            // 70 tokens cross the 64-token block of the multi-token path
            int[] tokens = s[1] > 4096 ? new int[] {1, 2, 1} : new int[] {1, 5, 40, Lut3Kernel.TOKEN_BLOCK + 6};
            for (int t : tokens) {
                float[] x = gaussian(r, t * s[1], 1f), y = new float[t * s[0]];
                op.apply(x, y, t);
                float[] xp = TernaryLinear.permute(x, t, s[1], m.perm());
                for (int tok = 0; tok < t; tok++) {
                    for (int row = 0; row < s[0]; row++) {
                        double sum = 0, mag = 0;
                        for (int g = 0; g < m.groups(); g++) {
                            int lo = g * s[2], hi = Math.min(s[1], lo + s[2]);
                            float amax = 0f;
                            for (int j = lo; j < hi; j++) amax = Math.max(amax, Math.abs(xp[tok * s[1] + j]));
                            float inv = amax > 1e-30f ? 255f / amax : 0f;
                            long dot = 0;
                            double gsum = 0;
                            for (int j = lo; j < hi; j++) {
                                dot += m.codes()[row * s[1] + j] * (long) Math.rint(xp[tok * s[1] + j] * inv);
                                gsum += xp[tok * s[1] + j];
                            }
                            double a = m.alpha()[row * m.groups() + g] * (double) (amax / 255f) * dot;
                            double mu = m.mu()[row * m.groups() + g] * (double) (float) gsum;
                            sum += a + mu;
                            mag += Math.abs(a) + Math.abs(mu);
                        }
                        assertEquals(sum, y[tok * s[0] + row], 1e-5 * mag + 1e-30, s[0] + "x" + s[1] + " t=" + tok + " row " + row);
                    }
                }
            }
        }
    }

    @Test
    void slicedRoundTrip() {
        Random r = new Random(12);
        for (int[] s : SHAPES) {
            byte[] c = trits(r, s[0] * s[1]);
            byte[] p = TernaryPacking.packSliced(c, s[0], s[1]);
            assertEquals(s[0] * TernaryPacking.slicedRowBytes(s[1]), p.length);
            assertArrayEquals(c, TernaryPacking.unpackSliced(p, s[0], s[1]));
        }
    }

    @Test
    void slicedDigitsOfEveryByte() {
        // the kernel's compare thresholds on (q * 3^i mod 256): < 86 means digit 0, >= 171 means digit 2
        for (int v = 0; v < 243; v++) {
            int q = TernaryPacking.slicedByte(v);
            assertTrue(q < 256);
            for (int i = 0, p = 81; i < 5; i++, p /= 3) {
                int digit = v / p % 3, m = (q * new int[] {1, 3, 9, 27, 81}[i]) & 0xff;
                assertEquals(digit, TernaryPacking.slicedDigit(q, i), "v=" + v + " i=" + i);
                assertEquals(digit == 0, m < 86, "v=" + v + " i=" + i);
                assertEquals(digit == 2, m >= 171, "v=" + v + " i=" + i);
            }
        }
    }

    @Test
    void bitTransposeMatchesScalarReference() {
        Random r = new Random(13);
        for (int rep = 0; rep < 50; rep++) {
            long[] a = new long[40];
            for (int i = 0; i < a.length; i++) a[i] = r.nextLong();
            long[] b = a.clone(), c = a.clone();
            SlicedKernel.transpose32x2(a, 5);
            SlicedKernel.transpose32x2Ref(b, 5);
            assertArrayEquals(b, a);
            for (int i = 0; i < 32; i++)
                for (int j = 0; j < 32; j++)
                    for (int h = 0; h < 64; h += 32) assertEquals((c[5 + i] >>> (j + h)) & 1, (a[5 + j] >>> (i + h)) & 1);
        }
    }

    @Test
    void vectorF16ConversionMatchesScalar() {
        short[] h = new short[16];
        for (int base = 0; base < 65536; base += 16) {
            boolean finite = true;
            for (int i = 0; i < 16; i++) {
                h[i] = (short) (base + i);
                finite &= ((base + i) & 0x7c00) != 0x7c00;
            }
            if (!finite) continue;
            float[] v = new float[16], w = new float[16];
            SlicedKernel.f16x16(h, 0).intoArray(v, 0);
            Lut3Kernel.f16ToFloats(h, 0, w, 0);
            for (int i = 0; i < 16; i++) {
                assertEquals(Float.floatToIntBits(Float.float16ToFloat(h[i])), Float.floatToIntBits(v[i]), "f16 " + (base + i));
                assertEquals(Float.floatToIntBits(Float.float16ToFloat(h[i])), Float.floatToIntBits(w[i]), "lut3 f16 " + (base + i));
            }
        }
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
        assertThrows(IllegalArgumentException.class, () -> TernaryPacking.packSliced(new byte[] {3}, 1, 1));
    }

    /** Activation mode of a kernel under test: f32 activations must match to float rounding, int8 to int8 rounding. */
    enum Act { F32, INT8 }

    /**
     * f32: within 2e-5 of Σ|w||x| per element. int8: 1e-2 of Σ|w||x| per element, and 1e-2 of ‖ref‖ overall when
     * there are enough outputs for the norm to be a meaningful yardstick (a handful of outputs can all be near 0).
     */
    static void check(String what, Act act, float[] ref, float[] y, float[] scale) {
        if (act == Act.F32) {
            assertClose(what, ref, y, scale, 2e-5);
            return;
        }
        assertClose(what, ref, y, scale, 1e-2);
        if (ref.length < 64) return;
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += ((double) ref[i] - y[i]) * ((double) ref[i] - y[i]);
            den += (double) ref[i] * ref[i];
        }
        assertTrue(Math.sqrt(num) <= 1e-2 * Math.sqrt(den), what + ": relative error " + Math.sqrt(num / den));
    }

    @Test
    void ternaryMatchesDequantizedReference() {
        Random r = new Random(3);
        for (TernaryLinear.Layout layout : TernaryLinear.Layout.values()) {
            for (Act act : Act.values()) {
                boolean lut3 = layout == TernaryLinear.Layout.LUT3;
                if (act == Act.INT8 ? layout != TernaryLinear.Layout.SLICED && !lut3 : lut3) continue;
                for (int[] s : SHAPES) {
                    if (layout == TernaryLinear.Layout.SLICED && !SlicedKernel.supports(s[2])) continue;
                    if (lut3 && !Lut3Kernel.supports(s[2])) continue;
                    for (boolean permute : new boolean[] {false, true}) {
                        TernaryMatrix m = ternary(r, s[0], s[1], s[2], permute);
                        float[] w = m.dequantize(), wa = ternaryAbs(m);
                        TernaryLinear op = new TernaryLinear(m, layout, act == Act.INT8);
                        for (int t : TOKENS) {
                            float[] x = gaussian(r, t * s[1], 1f), ref = new float[t * s[0]], y = new float[t * s[0]];
                            MatMulRef.multiply(w, s[0], s[1], x, ref, t);
                            op.apply(x, y, t);
                            check(layout + "/" + act + " " + s[0] + "x" + s[1] + "/" + s[2] + " perm=" + permute + " t=" + t,
                                    act, ref, y, scale(wa, s[0], s[1], x, t));
                        }
                    }
                }
            }
        }
    }

    @Test
    void rowTileGemmFallbackMatchesReference() {
        Random r = new Random(14);
        boolean saved = SlicedKernel.PANEL_GEMM;
        SlicedKernel.PANEL_GEMM = false;
        try {
            for (int[] s : new int[][] {{19, 2048, 128}, {5, 1930, 128}, {40, 259, 128}, {4, 960, 32}, {3, 700, 256}}) {
                TernaryMatrix m = ternary(r, s[0], s[1], s[2], true);
                TritPlaneMatrix tp = tritPlane(r, s[0], s[1], s[2], true);
                float[] w = m.dequantize(), wa = ternaryAbs(m), w2 = tp.dequantize(), wa2 = tritAbs(tp);
                for (int t : new int[] {4, 9, 30}) {
                    float[] x = gaussian(r, t * s[1], 1f), ref = new float[t * s[0]], y = new float[t * s[0]];
                    MatMulRef.multiply(w, s[0], s[1], x, ref, t);
                    new TernaryLinear(m, TernaryLinear.Layout.SLICED, false).apply(x, y, t);
                    check("row-tile " + s[0] + "x" + s[1] + " t=" + t, Act.F32, ref, y, scale(wa, s[0], s[1], x, t));
                    MatMulRef.multiply(w2, s[0], s[1], x, ref, t);
                    new TritPlaneLinear(tp).apply(x, y, t);
                    check("row-tile tritplane " + s[0] + "x" + s[1] + " t=" + t, Act.F32, ref, y, scale(wa2, s[0], s[1], x, t));
                }
            }
        } finally {
            SlicedKernel.PANEL_GEMM = saved;
        }
    }

    @Test
    void int8RelativeErrorOnLargeLayer() {
        Random r = new Random(9);
        TernaryMatrix m = ternary(r, 300, 2048, 128, true);
        float[] w = m.dequantize(), wa = ternaryAbs(m);
        TernaryLinear op = new TernaryLinear(m, TernaryLinear.Layout.SLICED, true);
        for (int t : new int[] {1, 9}) {
            float[] x = gaussian(r, t * 2048, 1f), ref = new float[t * 300], y = new float[t * 300];
            MatMulRef.multiply(w, 300, 2048, x, ref, t);
            op.apply(x, y, t);
            check("int8 300x2048 t=" + t, Act.INT8, ref, y, scale(wa, 300, 2048, x, t));
        }
    }

    @Test
    void defaultLayoutIsLut3WhereItFits() {
        Random r = new Random(8);
        TernaryLinear op = new TernaryLinear(ternary(r, 4, 256, 128, true));
        assertEquals(TernaryLinear.DEFAULT_INT8 ? TernaryLinear.Layout.LUT3 : TernaryLinear.Layout.SLICED, op.layout());
        assertEquals(TernaryLinear.DEFAULT_INT8, op.int8Activations());
        // groups over 128 columns could overflow the int16 sums: the sliced layout takes them
        assertEquals(TernaryLinear.Layout.SLICED, new TernaryLinear(ternary(r, 4, 512, 256, true)).layout());
    }

    @Test
    void tritPlaneMatchesDequantizedReference() {
        Random r = new Random(4);
        for (Act act : Act.values()) {
            for (int[] s : SHAPES) {
                for (boolean permute : new boolean[] {false, true}) {
                    TritPlaneMatrix m = tritPlane(r, s[0], s[1], s[2], permute);
                    float[] w = m.dequantize(), wa = tritAbs(m);
                    TritPlaneLinear op = new TritPlaneLinear(m, act == Act.INT8);
                    // group sizes the sliced layout cannot take run the f32 lookup-table kernel
                    Act expect = SlicedKernel.supports(s[2]) ? act : Act.F32;
                    for (int t : TOKENS) {
                        float[] x = gaussian(r, t * s[1], 1f), ref = new float[t * s[0]], y = new float[t * s[0]];
                        MatMulRef.multiply(w, s[0], s[1], x, ref, t);
                        op.apply(x, y, t);
                        check("tritplane/" + act + " " + s[0] + "x" + s[1] + "/" + s[2] + " perm=" + permute + " t=" + t,
                                expect, ref, y, scale(wa, s[0], s[1], x, t));
                    }
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
        TritPlaneMatrix tp = tritPlane(r, 333, 1000, 128, true);
        LinearOp[] ops = {new TernaryLinear(m, TernaryLinear.Layout.LUT3), new TernaryLinear(m, TernaryLinear.Layout.SLICED, true),
            new TernaryLinear(m, TernaryLinear.Layout.SLICED, false), new TernaryLinear(m, TernaryLinear.Layout.BASE3),
            new TernaryLinear(m, TernaryLinear.Layout.PLANES2), new TritPlaneLinear(tp, true), new TritPlaneLinear(tp, false)};
        for (LinearOp op : ops) {
            for (int t : new int[] {1, 40}) {
                float[] x = gaussian(r, t * 1000, 1f), a = new float[t * 333], b = new float[t * 333];
                op.apply(x, a, t);
                op.apply(x, b, t);
                assertArrayEquals(a, b, op.format());
            }
        }
    }

    /** Bytes the LUT3 layout keeps for a layer: codes, f16 α and μ per tile-ordered group, i32 permutation. */
    static long lut3Bytes(int out, int in, int gs) {
        long tiles = TernaryPacking.lut3Tiles(out), groups = TernaryPacking.groups(in, gs);
        return 2 * tiles * 32 * TernaryPacking.lut3Words(in, gs) + 2 * 2 * tiles * groups * 32 + 4L * in;
    }

    @Test
    void residentBitsWithinBudget() {
        Random r = new Random(7);
        int out = 256, in = 2048;
        TernaryMatrix m = ternary(r, out, in, 128, true);
        TernaryLinear lut = new TernaryLinear(m, TernaryLinear.Layout.LUT3);
        assertEquals(lut3Bytes(out, in, 128), lut.weightBytes());
        // 2048 columns: 16 groups of 43 triples = 230 words of 16 bits per row, + f16 α, μ per 128 + i32 permutation
        assertEquals((230 * 16 + 16 * 32) / (double) in + 32.0 / out, 8.0 * lut.weightBytes() / ((double) out * in), 1e-9);
        // the budget holds per model: one layer of TinyLlama-1.1B (q, k, v, o, gate, up, down)
        int[][] layer = {{2048, 2048}, {256, 2048}, {256, 2048}, {2048, 2048}, {5632, 2048}, {5632, 2048}, {2048, 5632}};
        long bytes = 0, weights = 0;
        for (int[] s : layer) {
            bytes += lut3Bytes(s[0], s[1], 128);
            weights += (long) s[0] * s[1];
        }
        assertTrue(8.0 * bytes / weights <= 2.1, "TinyLlama layer bits/weight " + 8.0 * bytes / weights);
        // the sliced layout, 1.63-bit codes
        TernaryLinear sliced = new TernaryLinear(m, TernaryLinear.Layout.SLICED);
        assertEquals((13 * 32 * 8.0 + 16 * 32) / in + 32.0 / out, 8.0 * sliced.weightBytes() / ((double) out * in), 1e-9);
        for (int cols : new int[] {4096, 5632, 11008}) {
            double b = (TernaryPacking.slicedRowBytes(cols) * 8.0 + (cols + 127) / 128 * 32) / cols;
            assertTrue(b + 32.0 / 2048 <= 2.1, cols + " columns: " + b);
        }
        double planes = 8.0 * new TernaryLinear(m, TernaryLinear.Layout.PLANES2).weightBytes() / ((double) out * in);
        assertEquals(2.25 + 32.0 / out, planes, 1e-9);
    }
}
