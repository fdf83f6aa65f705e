package dev.tern.kernels;

import static dev.tern.kernels.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.tern.format.TernaryMatrix;
import dev.tern.format.TritPlaneMatrix;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every ternary kernel against the plain dequantize-then-multiply reference (and the integer kernels against an
 * exact scalar model of their own arithmetic), for decode and prefill token counts, odd row, column and group
 * counts, with and without a permutation. Run natively and again under -XX:UseAVX=2 and -XX:MaxVectorSize=16 by
 * the build (tag "kernels"), so each vector width's code is checked on every machine.
 */
@Tag("kernels")
class TernaryKernelsTest {
    static final int[][] SHAPES = { // out, in, groupSize
        {1, 1, 128}, {1, 7, 128}, {3, 5, 128}, {17, 130, 128}, {33, 128, 128}, {40, 259, 128}, {65, 300, 64},
        {9, 103, 7}, {70, 1000, 128}, {5, 23, 5}, {19, 2048, 128}, {6, 1280, 128}, {5, 1930, 128}, {3, 641, 128},
        {4, 960, 32}, {3, 700, 256}, {2, 330, 96}, {37, 515, 200}, {200, 300, 128}
    };
    static final int[] TOKENS = {1, 2, 3, 4, 7, 17, 64};

    /** LUT3 is tested everywhere; where its 512-bit vectors do not fit it runs in the Java fallback, so smaller. */
    static boolean slow(KernelKind k) {
        return !k.fitsThisJvm();
    }

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
    void packingsRoundTrip() {
        Random r = new Random(15);
        for (int[] s : SHAPES) {
            byte[] c = trits(r, s[0] * s[1]);
            for (int[] tl : new int[][] {{32, 8}, {32, 16}, {32, 32}, {64, 64}}) {
                short[] p = TernaryPacking.packUnpack(c, s[0], s[1], s[2], tl[0], tl[1]);
                assertArrayEquals(c, TernaryPacking.unpackUnpack(p, s[0], s[1], s[2], tl[0], tl[1]));
            }
            assertArrayEquals(c, TernaryPacking.unpackTable(TernaryPacking.packTable(c, s[0], s[1], s[2]), s[0], s[1], s[2]));
            if (s[2] <= 128) {
                short[] p = TernaryPacking.packLut3(c, s[0], s[1], s[2]);
                assertEquals(TernaryPacking.lut3Tiles(s[0]) * 32 * TernaryPacking.lut3Words(s[1], s[2]), p.length);
                assertArrayEquals(c, TernaryPacking.unpackLut3(p, s[0], s[1], s[2]));
            }
        }
        // 128-column groups take 43 triples each, so 2048 columns are 16·43 = 688 triples in 230 words
        assertEquals(230, TernaryPacking.lut3Words(2048, 128));
        // UNPACK chunks: at most 128 columns, never across a group; 700 columns in groups of 256 = 128+128, 128+128, 128+60
        TernaryPacking.Chunks ch = TernaryPacking.unpackChunks(700, 256);
        assertArrayEquals(new int[] {0, 128, 256, 384, 512, 640}, ch.start());
        assertArrayEquals(new int[] {128, 128, 128, 128, 128, 60}, ch.len());
        assertArrayEquals(new int[] {0, 0, 1, 1, 2, 2}, ch.group());
        assertEquals(16 * 5 + 8, ch.words());
    }

    /** Rows of a 16-lane vector: the first 8 in the even lanes, the last 8 in the odd lanes; a permutation per vector. */
    @Test
    void unpackLanesInterleaveHalves() {
        for (int lanes : new int[] {8, 16, 32}) {
            boolean[] seen = new boolean[64];
            for (int j = 0; j < 64; j++) {
                int l = TernaryPacking.unpackLane(j, lanes);
                assertEquals(j / lanes, l / lanes, "stays in its vector");
                assertFalse(seen[l]);
                seen[l] = true;
            }
        }
        assertEquals(0, TernaryPacking.unpackLane(0, 16));
        assertEquals(2, TernaryPacking.unpackLane(1, 16));
        assertEquals(1, TernaryPacking.unpackLane(8, 16));
        assertEquals(15, TernaryPacking.unpackLane(15, 16));
        assertEquals(16 + 1, TernaryPacking.unpackLane(16 + 8, 16));
        // TABLE: a permutation of a tile's 16 byte lanes; rows 0..3 sum in even bytes 0, 4, 8, 12 (the low halves of the
        // even bytes' int view), rows 8..11 in odd bytes 1, 5, 9, 13
        boolean[] seen = new boolean[16];
        for (int j = 0; j < 16; j++) {
            assertFalse(seen[TernaryPacking.tableByte(j)]);
            seen[TernaryPacking.tableByte(j)] = true;
        }
        assertArrayEquals(new int[] {0, 4, 8, 12, 2, 6, 10, 14, 1, 5, 9, 13, 3, 7, 11, 15},
                java.util.stream.IntStream.range(0, 16).map(TernaryPacking::tableByte).toArray());
    }

    @Test
    void rejectsNonTernary() {
        assertThrows(IllegalArgumentException.class, () -> TernaryPacking.packLut3(new byte[] {2}, 1, 1, 128));
        assertThrows(IllegalArgumentException.class, () -> TernaryPacking.packUnpack(new byte[] {-2}, 1, 1, 128, 32, 16));
    }

    /**
     * The integer kernels against a scalar model of their arithmetic: activations rounded (to nearest, ties to
     * even) to ±255 per chunk of at most 128 columns, exact integer dot products, then α·d·Σ + μ·Σx in double. Only
     * float rounding of the flush may differ.
     */
    @Test
    void integerKernelsMatchIntegerReference() {
        Random r = new Random(16);
        for (KernelKind kind : new KernelKind[] {KernelKind.UNPACK, KernelKind.UNPACK4, KernelKind.TABLE_128, KernelKind.LUT3_512}) {
            // 600 rows = 19 tiles; 1024 x 8192 spans several parallel chunks, so each thread quantizes on its own;
            // 250, 500 and 1100 rows end in a partial tile of a full four-tile decode unit at 128, 256 or 512 bits, or
            // in a partial unit
            int[][] shapes = slow(kind) ? new int[][] {{70, 1000, 128}, {40, 259, 64}, {9, 103, 7}, {40, 100, 3}}
                    : new int[][] {{70, 1000, 128}, {33, 2048, 128}, {40, 259, 64}, {9, 103, 7}, {600, 400, 128},
                        {1024, 8192, 128}, {40, 100, 3}, {300, 700, 256}, {50, 1000, 200}, {250, 300, 128}, {500, 300, 128},
                        {1100, 300, 128}};
            for (int[] s : shapes) {
                if (!kind.supports(s[2])) continue;
                TernaryMatrix m = ternary(r, s[0], s[1], s[2], true);
                TernaryLinear op = new TernaryLinear(m, kind);
                int[] tokens = kind == KernelKind.UNPACK || kind == KernelKind.UNPACK4 ? new int[] {1, 2, 3, 5, 70} : kind == KernelKind.TABLE_128 ? new int[] {1, 2, 3, 5, 70} : s[1] > 4096 || slow(kind) ? new int[] {1, 2} : new int[] {1, 5, 70};
                for (int t : tokens) {
                    float[] x = gaussian(r, t * s[1], 1f), y = new float[t * s[0]];
                    op.apply(x, y, t);
                    float[] xp = TernaryLinear.permute(x, t, s[1], m.perm());
                    TernaryPacking.Chunks ch = TernaryPacking.unpackChunks(s[1], s[2]);
                    for (int tok = 0; tok < t; tok++) {
                        for (int row = 0; row < s[0]; row++) {
                            double sum = 0, mag = 0;
                            for (int c = 0; c < ch.start().length; c++) {
                                int lo = ch.start()[c], hi = lo + ch.len()[c];
                                float amax = 0f;
                                for (int j = lo; j < hi; j++) amax = Math.max(amax, Math.abs(xp[tok * s[1] + j]));
                                float inv = amax > 1e-30f ? 255f / amax : 0f;
                                long dot = 0;
                                for (int j = lo; j < hi; j++) dot += m.codes()[row * s[1] + j] * (long) Math.rint(xp[tok * s[1] + j] * inv);
                                double a = m.alpha()[row * m.groups() + ch.group()[c]] * (double) (amax / 255f) * dot;
                                sum += a;
                                mag += Math.abs(a);
                            }
                            for (int g = 0; g < m.groups(); g++) {
                                double gsum = 0;
                                for (int j = g * s[2]; j < Math.min(s[1], (g + 1) * s[2]); j++) gsum += xp[tok * s[1] + j];
                                double mu = m.mu()[row * m.groups() + g] * (double) (float) gsum;
                                sum += mu;
                                mag += Math.abs(mu);
                            }
                            assertEquals(sum, y[tok * s[0] + row], 1e-5 * mag + 1e-30,
                                    kind + " " + s[0] + "x" + s[1] + "/" + s[2] + " t=" + tok + " row " + row);
                        }
                    }
                }
            }
        }
    }

    /**
     * UNPACK, TABLE and LUT3 do the same integer arithmetic and flush in the same order, so for decode token counts
     * they agree bit for bit: the kernel the probe picks does not change what a model decodes. The prefill of
     * UNPACK, UNPACK4 and TABLE (UnpackGemm, TableGemm) is that arithmetic too, so they agree at every token count.
     */
    @Test
    void integerKernelsAgreeBitForBit() {
        Random r = new Random(17);
        for (int[] s : new int[][] {{70, 1000, 128}, {33, 2048, 128}, {40, 259, 64}, {9, 103, 7}, {65, 300, 128}, {17, 130, 128},
            {3, 700, 256}, {600, 400, 128}, {250, 300, 128}, {500, 300, 128}, {1100, 300, 128}}) {
            TernaryMatrix m = ternary(r, s[0], s[1], s[2], true);
            TernaryLinear unpack = new TernaryLinear(m, KernelKind.UNPACK);
            for (KernelKind k : new KernelKind[] {KernelKind.UNPACK4, KernelKind.TABLE_128, KernelKind.LUT3_512}) {
                if (!k.supports(s[2]) || slow(k) && s[0] * s[1] > 40_000) continue;
                TernaryLinear b = new TernaryLinear(m, k);
                int[] tokens = k == KernelKind.LUT3_512 ? new int[] {1, 2, 3} : new int[] {1, 2, 3, 4, 17, 70};
                for (int t : tokens) {
                    float[] x = gaussian(r, t * s[1], 1f), ya = new float[t * s[0]], yb = new float[t * s[0]];
                    unpack.apply(x, ya, t);
                    b.apply(x, yb, t);
                    assertArrayEquals(ya, yb, k + " " + s[0] + "x" + s[1] + "/" + s[2] + " t=" + t);
                }
            }
        }
    }

    /**
     * The integer prefill gives every token the bits of decoding that token alone: a prompt's outputs do not depend on
     * whether it was prefilled or decoded token by token, or on where a token sits in its 4-token register tile
     * and 64-token block (70 tokens: a ragged tile and a second block).
     */
    @Test
    void integerPrefillGivesEachTokenItsDecodeBits() {
        Random r = new Random(19);
        for (int[] s : new int[][] {{70, 1000, 128}, {33, 2048, 128}, {40, 259, 64}, {9, 103, 7}, {3, 700, 256}, {600, 400, 128},
            {250, 300, 128}, {1, 7, 128}, {37, 515, 200}}) {
            for (boolean permute : new boolean[] {false, true}) {
                TernaryMatrix m = ternary(r, s[0], s[1], s[2], permute);
                for (KernelKind k : new KernelKind[] {KernelKind.UNPACK, KernelKind.UNPACK4, KernelKind.TABLE_128}) {
                    TernaryLinear op = new TernaryLinear(m, k);
                    for (int t : new int[] {4, 5, 70}) {
                        float[] x = gaussian(r, t * s[1], 1f), y = new float[t * s[0]];
                        op.apply(x, y, t);
                        for (int tok = 0; tok < t; tok++) {
                            float[] one = new float[s[0]];
                            op.apply(java.util.Arrays.copyOfRange(x, tok * s[1], (tok + 1) * s[1]), one, 1);
                            assertArrayEquals(one, java.util.Arrays.copyOfRange(y, tok * s[0], (tok + 1) * s[0]),
                                    k + " " + s[0] + "x" + s[1] + "/" + s[2] + " perm=" + permute + " t=" + t + " token " + tok);
                        }
                    }
                }
            }
        }
    }

    /**
     * A layer small enough to keep its decoded f32 weights after the first prefill gives the bits of the same rows
     * inside a layer too large to keep them, which decodes slice by slice: each output row depends only on its
     * panel's weights, so the two paths must agree exactly.
     */
    @Test
    void smallLayersKeptDecodedGiveTheBitsOfSliceBySliceDecoding() {
        Random r = new Random(18);
        int small = 40, big = 2000, in = 259, gs = 64;
        TernaryMatrix m = ternary(r, big, in, gs, true);
        int groups = m.groups();
        TernaryMatrix head = new TernaryMatrix(small, in, gs, java.util.Arrays.copyOf(m.codes(), small * in),
                java.util.Arrays.copyOf(m.alpha(), small * groups), java.util.Arrays.copyOf(m.mu(), small * groups), m.perm());
        assertTrue(4L * big * in > PanelLinear.DECODED_RESIDENT_BYTES && 4L * 48 * in <= PanelLinear.DECODED_RESIDENT_BYTES);
        // the small layer really takes the kept path, the large one the slice-by-slice path
        PanelLinear keptSmall = (PanelLinear) KernelKind.FLOAT.create(head, true), keptBig = (PanelLinear) KernelKind.FLOAT.create(m, true);
        float[] x5 = gaussian(r, 5 * in, 1f);
        keptSmall.apply(x5, new float[5 * small], 5);
        keptBig.apply(x5, new float[5 * big], 5);
        assertTrue(keptSmall.holdsDecoded() && !keptBig.holdsDecoded());
        for (KernelKind k : new KernelKind[] {KernelKind.UNPACK, KernelKind.UNPACK4, KernelKind.TABLE_128, KernelKind.FLOAT}) {
            if (!k.fitsThisJvm()) continue;
            TernaryLinear a = new TernaryLinear(head, k), b = new TernaryLinear(m, k);
            for (int t : new int[] {5, 17, 17}) {
                float[] x = gaussian(r, t * in, 1f), ya = new float[t * small], yb = new float[t * big];
                a.apply(x, ya, t);
                b.apply(x, yb, t);
                for (int tok = 0; tok < t; tok++) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(yb, tok * big, tok * big + small),
                            java.util.Arrays.copyOfRange(ya, tok * small, tok * small + small), k + " t=" + t + " token " + tok);
                }
            }
        }
    }

    /** Activation mode of a kernel under test: f32 activations must match to float rounding, integer ones to their rounding. */
    enum Act { F32, INT }

    /**
     * f32: within 2e-5 of Σ|w||x| per element. Integer activations: 1e-2 of Σ|w||x| per element, and 1e-2 of ‖ref‖
     * overall when there are enough outputs for the norm to be a meaningful yardstick.
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

    /** Activations the kernel uses: f32 in FLOAT only, integers in the others at every token count. */
    static Act act(KernelKind k) {
        return k == KernelKind.FLOAT ? Act.F32 : Act.INT;
    }

    @Test
    void everyKernelMatchesDequantizedReference() {
        Random r = new Random(3);
        for (KernelKind kind : KernelKind.values()) {
            for (int[] s : SHAPES) {
                if (!kind.supports(s[2]) || slow(kind) && (long) s[0] * s[1] > 20_000) continue;
                for (boolean permute : new boolean[] {false, true}) {
                    TernaryMatrix m = ternary(r, s[0], s[1], s[2], permute);
                    float[] w = m.dequantize(), wa = ternaryAbs(m);
                    TernaryLinear op = new TernaryLinear(m, kind);
                    for (int t : TOKENS) {
                        if (slow(kind) && t > 7) continue;
                        float[] x = gaussian(r, t * s[1], 1f), ref = new float[t * s[0]], y = new float[t * s[0]];
                        MatMulRef.multiply(w, s[0], s[1], x, ref, t);
                        op.apply(x, y, t);
                        check(kind + " " + s[0] + "x" + s[1] + "/" + s[2] + " perm=" + permute + " t=" + t, act(kind), ref, y,
                                scale(wa, s[0], s[1], x, t));
                    }
                }
            }
        }
    }

    @Test
    void integerActivationsOnLargeLayer() {
        Random r = new Random(9);
        TernaryMatrix m = ternary(r, 300, 2048, 128, true);
        float[] w = m.dequantize(), wa = ternaryAbs(m);
        TernaryLinear op = new TernaryLinear(m, KernelKind.UNPACK);
        for (int t : new int[] {1, 3}) {
            float[] x = gaussian(r, t * 2048, 1f), ref = new float[t * 300], y = new float[t * 300];
            MatMulRef.multiply(w, 300, 2048, x, ref, t);
            op.apply(x, y, t);
            check("unpack 300x2048 t=" + t, Act.INT, ref, y, scale(wa, 300, 2048, x, t));
        }
    }

    @Test
    void tritPlaneMatchesDequantizedReference() {
        Random r = new Random(4);
        for (KernelKind kind : KernelKind.values()) {
            for (int[] s : SHAPES) {
                if (!kind.supports(s[2]) || slow(kind) && (long) s[0] * s[1] > 20_000) continue;
                for (boolean permute : new boolean[] {false, true}) {
                    TritPlaneMatrix m = tritPlane(r, s[0], s[1], s[2], permute);
                    float[] w = m.dequantize(), wa = tritAbs(m);
                    TritPlaneLinear op = new TritPlaneLinear(m, kind);
                    for (int t : new int[] {1, 3, 17}) {
                        float[] x = gaussian(r, t * s[1], 1f), ref = new float[t * s[0]], y = new float[t * s[0]];
                        MatMulRef.multiply(w, s[0], s[1], x, ref, t);
                        op.apply(x, y, t);
                        check("tritplane/" + kind + " " + s[0] + "x" + s[1] + "/" + s[2] + " perm=" + permute + " t=" + t,
                                act(kind), ref, y, scale(wa, s[0], s[1], x, t));
                    }
                }
            }
        }
    }

    /** A layer whose μ is all zero (symmetric, as GGUF's TQ types) keeps no μ and computes the same. */
    @Test
    void symmetricLayerKeepsNoMu() {
        Random r = new Random(18);
        TernaryMatrix a = ternary(r, 70, 512, 256, false);
        TernaryMatrix m = new TernaryMatrix(70, 512, 256, a.codes(), a.alpha(), new float[a.mu().length], null);
        float[] w = m.dequantize(), wa = ternaryAbs(m);
        for (KernelKind kind : new KernelKind[] {KernelKind.UNPACK, KernelKind.FLOAT}) {
            TernaryLinear op = new TernaryLinear(m, kind), asym = new TernaryLinear(a, kind);
            long tileRows = (70 + UnpackLayout.TILE - 1) / UnpackLayout.TILE * UnpackLayout.TILE;
            assertEquals(asym.weightBytes() - 4L * tileRows * 2, op.weightBytes(), kind + ": the f32 μ of 2 groups per (padded) row dropped");
            for (int t : new int[] {1, 9}) {
                float[] x = gaussian(r, t * 512, 1f), ref = new float[t * 70], y = new float[t * 70];
                MatMulRef.multiply(w, 70, 512, x, ref, t);
                op.apply(x, y, t);
                check("symmetric " + kind + " t=" + t, act(kind), ref, y, scale(wa, 70, 512, x, t));
            }
        }
    }

    /** Layers sharing an input (q, k, v) give the same bits through the fused one-token pass as one by one. */
    @Test
    void fusedLayersMatchSeparateCalls() {
        Random r = new Random(19);
        TernaryMatrix a = ternary(r, 300, 700, 128, true), b = ternary(r, 70, 700, 128, true), c = ternary(r, 70, 700, 128, false);
        // d has a's permutation, so it reads the same gathered input (and the table kernel shares a's tables)
        TernaryMatrix e = ternary(r, 45, 700, 128, false), d = new TernaryMatrix(45, 700, 128, e.codes(), e.alpha(), e.mu(), a.perm());
        for (KernelKind kind : KernelKind.values()) {
            if (slow(kind)) continue;
            LinearOp[] ops = {new TernaryLinear(a, kind), new TernaryLinear(d, kind), new TernaryLinear(b, kind), new TernaryLinear(c, kind)};
            for (int t : new int[] {1, 5}) {
                float[] x = gaussian(r, t * 700, 1f);
                float[][] fused = {new float[t * 300], new float[t * 45], new float[t * 70], new float[t * 70]};
                LinearOp.applyAll(ops, x, fused, t);
                for (int i = 0; i < ops.length; i++) {
                    float[] one = new float[fused[i].length];
                    ops[i].apply(x, one, t);
                    assertArrayEquals(one, fused[i], kind + " layer " + i + " t=" + t);
                }
            }
        }
    }

    @Test
    void deterministic() {
        Random r = new Random(6);
        TernaryMatrix m = ternary(r, 333, 1000, 128, true);
        TritPlaneMatrix tp = tritPlane(r, 333, 1000, 128, true);
        for (KernelKind kind : KernelKind.values()) {
            if (slow(kind)) continue;
            for (LinearOp op : new LinearOp[] {new TernaryLinear(m, kind), new TritPlaneLinear(tp, kind)}) {
                for (int t : new int[] {1, 2, 40}) {
                    float[] x = gaussian(r, t * 1000, 1f), a = new float[t * 333], b = new float[t * 333];
                    op.apply(x, a, t);
                    op.apply(x, b, t);
                    assertArrayEquals(a, b, op.format());
                }
            }
        }
    }

    @Test
    void vectorF16ConversionMatchesScalar() {
        float[] w = new float[16];
        short[] h = new short[16];
        for (int base = 0; base < 65536; base += 16) {
            for (int i = 0; i < 16; i++) h[i] = (short) (base + i);
            Lut3Kernel.f16ToFloats(h, 0, w, 0);
            for (int i = 0; i < 16; i++) {
                if (((base + i) & 0x7c00) == 0x7c00) continue; // Inf and NaN are never scales
                assertEquals(Float.floatToIntBits(Float.float16ToFloat(h[i])), Float.floatToIntBits(w[i]), "lut3 f16 " + (base + i));
            }
        }
    }

    @Test
    void residentBytes() {
        Random r = new Random(7);
        int out = 256, in = 2048;
        TernaryMatrix m = ternary(r, out, in, 128, true);
        // LUT3: 16 groups of 43 triples = 230 16-bit words per row, + f16 α, μ per 128 + i32 permutation
        TernaryLinear lut = new TernaryLinear(m, KernelKind.LUT3_512);
        assertEquals((230 * 16 + 16 * 32) / (double) in + 32.0 / out, 8.0 * lut.weightBytes() / ((double) out * in), 1e-9);
        // UNPACK and FLOAT share one layout: 2-bit codes + f32 α, μ per 128 + i32 permutation
        // TABLE: the same bits, as bytes of four columns
        for (KernelKind k : new KernelKind[] {KernelKind.UNPACK, KernelKind.FLOAT, KernelKind.TABLE_128}) {
            TernaryLinear op = new TernaryLinear(m, k);
            assertEquals(2 + 64.0 / 128 + 32.0 / out, 8.0 * op.weightBytes() / ((double) out * in), 1e-9, k.label());
        }
    }

    /**
     * A kernel's copy (what the decode probe streams through) computes the same bits from arrays of its own: the
     * probe would otherwise time one layer out of the cache while believing it read many. The layer is permuted, so
     * a copy whose prefill path lost the permutation would give other sums.
     */
    @Test
    void copiesGiveTheSameBitsFromTheirOwnArrays() throws Exception {
        Random r = new Random(23);
        TernaryMatrix m = ternary(r, 70, 300, 128, true);
        for (KernelKind k : KernelKind.values()) {
            TernaryKernel a = k.create(m, true), b = a.copy();
            assertEquals(a.getClass(), b.getClass());
            assertEquals(a.name(), b.name());
            assertEquals(a.residentBytes(), b.residentBytes(), k.label());
            for (int t : new int[] {1, 2, 5}) {
                float[] x = gaussian(r, t * m.cols(), 1f), gs = TernaryLinear.groupSums(x, t, m.cols(), m.groupSize());
                float[] ya = new float[t * m.rows()], yb = new float[t * m.rows()];
                a.apply(x, gs, ya, t);
                b.apply(x, gs, yb, t);
                assertArrayEquals(ya, yb, k.label() + " t=" + t);
            }
            assertTrue(packedArraysDiffer(a, b, k.label(), 0) >= 2, k.label() + ": the codes and scales fields were not found");
        }
    }

    /**
     * Asserts that no codes, alpha or mu array of a (and of the prefill kernel or layout it holds) is b's; returns
     * how many were compared.
     */
    private static int packedArraysDiffer(Object a, Object b, String where, int depth) throws Exception {
        int n = 0;
        for (Class<?> c = a.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                if (java.lang.reflect.Modifier.isStatic(f.getModifiers())) continue;
                f.setAccessible(true);
                Object fa = f.get(a), fb = f.get(b);
                if (fa == null) continue;
                if (f.getName().matches("codes|alpha|mu")) {
                    n++;
                    assertNotSame(fa, fb, where + "." + f.getName() + " is shared with its copy");
                } else if (depth < 2 && f.getName().matches("prefill|layout")) {
                    n += packedArraysDiffer(fa, fb, where + "." + f.getName(), depth + 1);
                }
            }
        }
        return n;
    }
}
