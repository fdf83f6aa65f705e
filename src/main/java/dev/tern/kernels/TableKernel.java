package dev.tern.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Ternary kernel built on one 128-bit byte shuffle (pshufb on x86, tbl on ARM): per token and pair of columns, a
 * 16-entry byte table holds t_a·x_a + t_b·x_b for every pair of codes, and the pair's two 2-bit codes of 16 rows,
 * one nibble per row, index it, so one shuffle does 32 multiply-adds. 128-bit byte shuffles are single instructions
 * on every SSSE3, AVX2, AVX-512 and NEON CPU; wider ones are not (AVX2 has no byte permute across its 128-bit halves).
 *
 * <p>Activations are rounded to ±255 per chunk exactly as {@link UnpackKernel} rounds them ({@link ChunkQuantizer}),
 * and split x = 8·h + l with h in ±31 and l in ±7: a byte table of pair sums of h lies in ±62 and one of l in ±14.
 * Each chunk's integer Σ t·x = 8·Σ(h part) + Σ(l part) is therefore exact, the same integer unpack computes, and it
 * is flushed into f32 with the same arithmetic in the same order: the two kernels give bit-identical outputs.
 *
 * <p>The tables hold their entries plus a bias (63, 14) so that they are unsigned bytes, and the two h lookups of a
 * word add as bytes (at most 252). Bytes are then summed as shorts without widening: the 16-bit sum of a vector seen
 * as shorts is (even byte) + 256·(odd byte) modulo 2^16, and a second sum of its odd bytes alone gives the odd
 * bytes' sum, from which the even bytes' follows. The small l-table bytes are first summed as bytes over a block of
 * 8 lookups (at most 224).
 *
 * <p>From {@link UnpackKernel#PREFILL_TOKENS} tokens on, the layer runs through {@link TableGemm}, the integer
 * GEMM of unpack's prefill over these codes, whose sums are finished here as the decode's are.
 *
 * <p>Layout: {@link TernaryPacking#packTable}. Every output is produced by one thread in a fixed order.
 */
final class TableKernel implements TiledDecode.Kernel {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_128;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
    /** Rows per tile: one byte lane each. */
    static final int TILE = 16;
    /**
     * Words (two lookups each) whose l-table bytes are summed as bytes before widening (8 · 28 ≤ 255); chunks are
     * padded to whole blocks.
     */
    static final int BLOCK = 4;
    /** Tiles per decode tile of TiledDecode (see {@link #tileRows}). */
    static final int GROUP = 4;
    /** Table biases: h-table entries in ±62, l-table entries in ±14. */
    private static final int H_BIAS = 63, L_BIAS = 14;
    /** Table lanes i = qa + 4·qb: masks of the lanes where qa (qb) is 2 (t = +1) and where it is 0 (t = −1). */
    private static final ByteVector PA, NA, PB, NB;

    static {
        byte[] pa = new byte[16], na = new byte[16], pb = new byte[16], nb = new byte[16];
        for (int i = 0; i < 16; i++) {
            pa[i] = (byte) ((i & 3) == 2 ? -1 : 0);
            na[i] = (byte) ((i & 3) == 0 ? -1 : 0);
            pb[i] = (byte) ((i >> 2) == 2 ? -1 : 0);
            nb[i] = (byte) ((i >> 2) == 0 ? -1 : 0);
        }
        PA = ByteVector.fromArray(B, pa, 0);
        NA = ByteVector.fromArray(B, na, 0);
        PB = ByteVector.fromArray(B, pb, 0);
        NB = ByteVector.fromArray(B, nb, 0);
    }


    private final int out, in, groups, tiles, words, chunks;
    private final int[] chunkStart, chunkLen, chunkGroup, chunkWord;
    private final byte[] codes;
    /** α and μ as f32 in [tile][group][lane] order, each 8-lane half tile split into even then odd lanes. */
    private final float[] alpha, mu;
    private final TableGemm prefill;

    /**
     * codes: rows × cols in stored column order; alpha, mu: f16 [row][group] (mu may be null).
     */
    TableKernel(int out, int in, int groupSize, byte[] codes, short[] alpha, short[] mu) {
        this.out = out;
        this.in = in;
        this.groups = TernaryPacking.groups(in, groupSize);
        this.tiles = (out + TILE - 1) / TILE;
        TernaryPacking.Chunks ch = TernaryPacking.unpackChunks(in, groupSize);
        int[] cw = TernaryPacking.tableWords(ch);
        this.chunkStart = ch.start();
        this.chunkLen = ch.len();
        this.chunkGroup = ch.group();
        this.chunkWord = cw;
        this.chunks = chunkStart.length;
        this.words = cw[chunks];
        this.codes = TernaryPacking.packTable(codes, out, in, groupSize);
        this.alpha = TernaryPacking.tileScalesF32(alpha, out, groups, TILE, 8);
        this.mu = mu == null ? null : TernaryPacking.tileScalesF32(mu, out, groups, TILE, 8);
        this.prefill = new TableGemm(this, in, tiles, chunkStart, chunkLen, chunkWord, this.codes);
    }

    /** src's kernel over fresh copies of its packed codes and scales. */
    private TableKernel(TableKernel src) {
        this.out = src.out;
        this.in = src.in;
        this.groups = src.groups;
        this.tiles = src.tiles;
        this.chunkStart = src.chunkStart;
        this.chunkLen = src.chunkLen;
        this.chunkGroup = src.chunkGroup;
        this.chunkWord = src.chunkWord;
        this.chunks = src.chunks;
        this.words = src.words;
        this.codes = src.codes.clone();
        this.alpha = src.alpha.clone();
        this.mu = src.mu == null ? null : src.mu.clone();
        this.prefill = new TableGemm(this, in, tiles, chunkStart, chunkLen, chunkWord, codes);
    }

    @Override
    public TernaryKernel copy() {
        return new TableKernel(this);
    }

    @Override
    public String name() {
        return "table-128";
    }

    @Override
    public long residentBytes() {
        return codes.length + 4L * alpha.length + (mu == null ? 0 : 4L * mu.length);
    }

    @Override
    public void apply(float[] xp, float[] gs, float[] y, int tokens) {
        if (tokens >= UnpackKernel.PREFILL_TOKENS) {
            prefill.apply(xp, gs, y, tokens);
            return;
        }
        TiledDecode.run(this, xp, gs, y, tokens);
    }

    /** Decode tiles of TiledDecode are GROUP 16-row tiles, read chunk by chunk together ({@link #tileRows}). */
    @Override public int tiles() { return (tiles + GROUP - 1) / GROUP; }
    @Override public int rowsPerTile() { return GROUP * TILE; }
    @Override public int in() { return in; }
    @Override public TiledDecode.Slot newSlot() { return new Scratch(); }
    @Override public Class<? extends TiledDecode.Slot> slotClass() { return Scratch.class; }

    @Override
    public void prepare(float[] xp, int tokens, TiledDecode.Slot slot) {
        Scratch s = (Scratch) slot;
        s.ensure(tokens, words, chunks);
        for (int t = 0; t < tokens; t++) tables(xp, t, s);
    }

    @Override
    public void runTile(int tile, TiledDecode.Slot slot, int t, float[] gs, float[] y) {
        int a = GROUP * tile;
        tileRows(a, Math.min(GROUP, tiles - a), (Scratch) slot, t, gs, y);
    }

    @Override
    public int[] inputLayout() {
        return chunkLen;
    }

    // ---------------------------------------------------------------- tables

    /** Token t of xp → the h and l tables of every column pair in s, and the chunks' scales d (slot t of each). */
    private void tables(float[] xp, int t, Scratch s) {
        int[] xq = s.xq;
        byte[] ht = s.ht, lt = s.lt;
        int to = t * words * 32;
        for (int c = 0; c < chunks; c++) {
            int n = chunkLen[c];
            float amax = ChunkQuantizer.quantize(xp, t * in + chunkStart[c], n, xq, 0);
            s.dq[t * chunks + c] = amax / 255f;
            int nw = chunkWord[c + 1] - chunkWord[c];
            java.util.Arrays.fill(xq, n, 4 * nw, 0);
            for (int p = 0; p < 2 * nw; p++) {
                int xa = xq[2 * p], xb = xq[2 * p + 1];
                int ha = Math.max(-31, Math.min(31, (xa + 4) >> 3)), hb = Math.max(-31, Math.min(31, (xb + 4) >> 3));
                int o = to + (chunkWord[c] * 2 + p) * 16;
                pairTable(ha, hb, H_BIAS).intoArray(ht, o);
                pairTable(xa - 8 * ha, xb - 8 * hb, L_BIAS).intoArray(lt, o);
            }
        }
    }

    /** Lane qa + 4·qb: (qa − 1)·a + (qb − 1)·b + bias, modulo 256 (lanes with a code of 3 are never looked up). */
    private static ByteVector pairTable(int a, int b, int bias) {
        ByteVector va = ByteVector.broadcast(B, (byte) a), vb = ByteVector.broadcast(B, (byte) b);
        return va.and(PA).sub(va.and(NA)).add(vb.and(PB)).sub(vb.and(NB)).add((byte) bias);
    }

    // ---------------------------------------------------------------- a few tiles, one token

    /**
     * y rows of n consecutive tiles from a for token t: first every chunk's int16 sums, then the f32 flush in its own
     * method, so that the JIT inlines the flush's vector code there instead of giving up on it inside the large
     * unrolled dot loop (it did: f16 conversions left as calls fell into the Vector API's Java fallback).
     *
     * <p>The tiles go chunk by chunk, so n code streams are in flight instead of one. On
     * a Sapphire Rapids at 128 bits, decode from memory larger than L2 ran at 34-35 G multiply-adds/s (2 threads,
     * 2048x5632) one tile at a time and at 42 with four, where the L2-resident case stays at 61-62; reading all
     * four in one loop instead spilled registers (16 at AVX2) and ran 4x slower.
     */
    private void tileRows(int a, int n, Scratch s, int t, float[] gs, float[] y) {
        short[] acc = s.acc(n * chunks);
        int to = t * words * 32, stride = 16 * chunks;
        for (int c = 0; c < chunks; c++) {
            for (int u = 0; u < n; u++) dot(a + u, c, s.ht, s.lt, to, acc, u * stride + 16 * c);
        }
        for (int u = 0; u < n; u++) finishRows(a + u, acc, u * stride, s.dq, t, gs, y, s.f);
    }

    /**
     * y rows of one tile for token t from its chunks' int16 sums at acc[ao + 16·c ..], both halves (see
     * {@link #finish}); dq[t·chunks + c] the chunks' scales, f 16 floats of scratch. Shared with {@link TableGemm}.
     */
    void finishRows(int tile, short[] acc, int ao, float[] dq, int t, float[] gs, float[] y, float[] f) {
        finish(tile, 0, acc, ao, dq, t, gs, y, f);
        finish(tile, 1, acc, ao, dq, t, gs, y, f);
    }

    /**
     * y rows h·8 .. h·8+7 of one tile = Σ over chunks α·d·sum, plus μ·gsum after each group's last chunk (unpack's
     * order). Half a tile per call: with all 16 rows (and f16 scales, converted here then), the JIT's node budget ran
     * out before the μ term was inlined.
     */
    private void finish(int tile, int h, short[] acc, int ao, float[] dq, int t, float[] gs, float[] y, float[] f) {
        FloatVector f0 = FloatVector.zero(F), f1 = f0;
        for (int c = 0; c < chunks; c++) {
            int g = chunkGroup[c], po = (tile * groups + g) * TILE + 8 * h;
            IntVector a = ShortVector.fromArray(S, acc, ao + 16 * c + 8 * h).reinterpretAsInts();
            float d = dq[t * chunks + c];
            f0 = low(a).fma(FloatVector.fromArray(F, alpha, po).mul(d), f0);
            f1 = high(a).fma(FloatVector.fromArray(F, alpha, po + 4).mul(d), f1);
            if (mu != null && (c + 1 == chunks || chunkGroup[c + 1] != g)) {
                FloatVector gv = FloatVector.broadcast(F, gs[t * groups + g]);
                f0 = FloatVector.fromArray(F, mu, po).fma(gv, f0);
                f1 = FloatVector.fromArray(F, mu, po + 4).fma(gv, f1);
            }
        }
        int r0 = tile * TILE + 8 * h, n = Math.min(8, out - r0), yo = t * out + r0;
        if (n == 8) {
            f0.intoArray(y, yo);
            f1.intoArray(y, yo + 4);
        } else if (n > 0) {
            f0.intoArray(f, 0);
            f1.intoArray(f, 4);
            System.arraycopy(f, 0, y, yo, n);
        }
    }

    /** The int16 sums in the low (high) halves of a's int lanes, as floats. */
    private static FloatVector low(IntVector a) {
        return (FloatVector) a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
    }

    private static FloatVector high(IntVector a) {
        return (FloatVector) a.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
    }

    /**
     * acc[ao..ao+16) = Σ t·x over chunk c for the 16 rows of one tile, in {@link TernaryPacking#tableByte} order of the
     * even bytes' rows, then the odd bytes'.
     */
    private void dot(int tile, int c, byte[] ht, byte[] lt, int to, short[] acc, int ao) {
        byte[] cd = codes;
        int w0 = chunkWord[c], nw = chunkWord[c + 1] - w0, base = (tile * words + w0) * 16, tb = to + w0 * 32;
        IntVector raw = IntVector.zero(I), odd = raw, lraw = raw, lodd = raw;
        for (int b0 = 0; b0 < nw; b0 += BLOCK) {
            ByteVector lacc = ByteVector.zero(B);
            // a constant trip count (chunks are padded to whole blocks): C2 unrolls it
            for (int k = 0; k < BLOCK; k++) {
                int w = b0 + k, o = tb + 32 * w;
                // selectFrom wraps each index to its low 4 bits (the lane count is 16), which is the mask a nibble needs
                ByteVector i0 = ByteVector.fromArray(B, cd, base + 16 * w);
                ByteVector i1 = i0.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes();
                // h-table bytes are at most 126 each, so two add as bytes
                IntVector h = i0.selectFrom(ByteVector.fromArray(B, ht, o)).add(i1.selectFrom(ByteVector.fromArray(B, ht, o + 16))).reinterpretAsInts();
                raw = raw.reinterpretAsShorts().add(h.reinterpretAsShorts()).reinterpretAsInts();
                // odd bytes moved down into the low byte of each short: int shifts take an immediate, short shifts do not
                odd = odd.reinterpretAsShorts().add(h.lanewise(VectorOperators.LSHR, 8).and(0x00ff00ff).reinterpretAsShorts()).reinterpretAsInts();
                lacc = lacc.add(i0.selectFrom(ByteVector.fromArray(B, lt, o))).add(i1.selectFrom(ByteVector.fromArray(B, lt, o + 16)));
            }
            IntVector l = lacc.reinterpretAsInts();
            lraw = lraw.reinterpretAsShorts().add(l.reinterpretAsShorts()).reinterpretAsInts();
            lodd = lodd.reinterpretAsShorts().add(l.lanewise(VectorOperators.LSHR, 8).and(0x00ff00ff).reinterpretAsShorts()).reinterpretAsInts();
        }
        short hb = (short) (2 * nw * H_BIAS), lb = (short) (2 * nw * L_BIAS);
        // even bytes' sums: raw − 256·odd (mod 2^16); every sum is exact in 16 bits (|Σ t·x| ≤ 128·255)
        ShortVector o16 = odd.reinterpretAsShorts(), lo16 = lodd.reinterpretAsShorts();
        ShortVector he = raw.reinterpretAsShorts().sub(o16.lanewise(VectorOperators.LSHL, 8)).sub(hb), ho = o16.sub(hb);
        ShortVector le = lraw.reinterpretAsShorts().sub(lo16.lanewise(VectorOperators.LSHL, 8)).sub(lb), lo = lo16.sub(lb);
        he.lanewise(VectorOperators.LSHL, 3).add(le).intoArray(acc, ao);
        ho.lanewise(VectorOperators.LSHL, 3).add(lo).intoArray(acc, ao + 8);
    }

    /** One thread's buffers for one layer (tables, scales, accumulators), grown on demand. */
    private static final class Scratch extends TiledDecode.Slot {
        byte[] ht = new byte[0], lt = new byte[0];
        float[] dq = new float[0], f = new float[TILE];
        /** One chunk's rounded activations, padded to whole words. */
        final int[] xq = new int[128];
        private short[] acc = new short[0];

        void ensure(int tokens, int words, int chunks) {
            if (ht.length < tokens * words * 32) {
                ht = new byte[tokens * words * 32];
                lt = new byte[tokens * words * 32];
            }
            if (dq.length < tokens * chunks) dq = new float[tokens * chunks];
        }

        /** Room for the int16 sums of one tile's chunks. */
        short[] acc(int chunks) {
            if (acc.length < 16 * chunks) acc = new short[16 * chunks];
            return acc;
        }
    }
}
