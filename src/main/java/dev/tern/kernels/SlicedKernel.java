package dev.tern.kernels;

import dev.tern.util.Parallel;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Multiplication-free matmul over the digit-sliced base-3 layout ({@link TernaryPacking#packSliced}).
 *
 * <p>Decoding: a 64-byte load seen as 32 shorts gives two chunks as {@code code << 8} per lane (mask / shift, see
 * {@link TernaryPacking#slicedOffset}). Multiplying by 3^i (16-bit wrap-around) leaves {@code (code * 3^i mod 256)
 * << 8}, whose top base-3 digit is the trit of column 32i + lane: two unsigned compares against 86 << 8 and 171 << 8
 * give the t = -1 and t = +1 lane masks of 32 contiguous columns. Those multiplies touch only codes, never inputs.
 *
 * <p>Int8 path (default): activations are quantized per token and per group to int8 values (one f32 scale per
 * group, as llama.cpp's Q8 for TQ1_0) held in 16-bit lanes; t·x for 32 weights is one masked add and one masked
 * subtract. A group's partial sums stay in int16 (|sum| per lane ≤ groupSize/32 * 127), then adjacent lanes are
 * added in int32, converted once, and y += α_g·scale_g·acc + μ_g·Σx_g. For groups of 128 the GEMV decodes in
 * registers (group i of a superblock = digit i of its 4 chunks); other group sizes go through decoded masks.
 *
 * <p>Float path: the same masks (moved through a long) select f32 activations in two 16-lane halves; it is exact up
 * to float rounding and serves as the reference-accurate option.
 *
 * <p>GEMM (tokens > 1): a block of rows is decoded once into lane masks (two longs per 32 weights) that are then
 * reused for every tile of 4 tokens, so decoding costs 1/tokens per weight.
 *
 * <p>Every output is produced by one thread in a fixed order (lane folds by fixed shuffles), so results are
 * bit-reproducible across runs, thread counts and JIT tiers.
 */
final class SlicedKernel {
    private static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    /** code·3^i < 86 (as the high byte) means digit 0 (t = -1); ≥ 171 means digit 2 (t = +1). */
    private static final short NEG = 86 << 8, POS = (short) (171 << 8), HI = (short) 0xff00;
    private static final short[] POW3 = {1, 3, 9, 27, 81};
    private static final ShortVector ZS = ShortVector.zero(S512);
    private static final VectorShuffle<Float> X8 = VectorShuffle.fromOp(F512, i -> i ^ 8);
    private static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F512, i -> i ^ 4);
    private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F512, i -> i ^ 2);
    private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F512, i -> i ^ 1);
    /** Tokens per GEMM tile (int8 path): one decoded mask pair feeds this many masked add/sub pairs. */
    private static final int TT = 4;
    /** Rows whose masks are decoded together in GEMM; their masks and a token tile's activations stay in L1. */
    private static final int RB = 16;

    final int out, in, groupSize, groups, spg, chunks, pairs, rowBytes, slices, padCols, superblocks;
    final byte[][] codes;
    final short[][] alpha;
    final short[] mu;
    private short[] xq = new short[0];
    private float[] dq = new float[0], xf = new float[0];

    static boolean supports(int groupSize) {
        // int16 accumulation: a lane sums groupSize/32 values of |x| ≤ 127, two lanes must fit 32767
        return groupSize % 32 == 0 && groupSize <= 4096;
    }

    SlicedKernel(int out, int in, int groupSize, byte[][] codes, short[][] alpha, short[] mu) {
        if (!supports(groupSize)) throw new IllegalArgumentException("group size " + groupSize + " not a multiple of 32");
        this.out = out;
        this.in = in;
        this.groupSize = groupSize;
        this.groups = TernaryPacking.groups(in, groupSize);
        this.spg = groupSize / 32;
        this.chunks = TernaryPacking.slicedChunks(in);
        this.pairs = chunks / 2;
        this.rowBytes = TernaryPacking.slicedRowBytes(in);
        this.slices = (in + 31) / 32;
        this.padCols = 32 * slices;
        this.superblocks = in / 640;
        this.codes = codes;
        this.alpha = alpha;
        this.mu = mu;
    }

    long residentBytes() {
        long b = 0;
        for (byte[] c : codes) b += c.length;
        for (short[] a : alpha) b += 2L * a.length;
        if (mu != null) b += 2L * mu.length;
        return b;
    }

    /** xp is [tokens][in] in stored (permuted) column order, gs is [tokens][groups] (null without μ). */
    void apply(float[] xp, float[] gs, float[] y, int tokens, boolean int8) {
        if (int8) {
            int padTokens = tokens == 1 ? 1 : (tokens + TT - 1) / TT * TT;
            quantize(xp, tokens, padTokens);
            if (tokens == 1) {
                Parallel.forRange(out, 16, (r0, r1) -> {
                    long[] pos = spg == 4 ? null : new long[slices], neg = spg == 4 ? null : new long[slices];
                    float[] acc = new float[16];
                    for (int r = r0; r < r1; r++) {
                        float sum = 0f;
                        for (int p = 0; p < codes.length; p++) {
                            if (spg == 4) {
                                sum += rowQ8(codes[p], alpha[p], r, acc);
                            } else {
                                decodeMasks(codes[p], r, pos, neg, 0);
                                sum += rowMasksQ8(pos, neg, 0, alpha[p], r * groups, 0, 0, acc);
                            }
                        }
                        y[r] = sum + muTerm(r, gs, 0);
                    }
                });
            } else {
                gemmQ8(gs, y, tokens);
            }
        } else {
            padFloat(xp, tokens);
            floatPath(gs, y, tokens);
        }
    }

    // ---------------------------------------------------------------- activations

    /** Per token and group: scale d = max|x| / 127 and x/d rounded to int8 in 16-bit lanes; padding stays 0. */
    private void quantize(float[] xp, int tokens, int padTokens) {
        if (xq.length < padTokens * padCols) xq = new short[padTokens * padCols];
        if (dq.length < padTokens * groups) dq = new float[padTokens * groups];
        short[] q = xq;
        float[] d = dq;
        java.util.Arrays.fill(q, tokens * padCols, padTokens * padCols, (short) 0);
        java.util.Arrays.fill(d, tokens * groups, padTokens * groups, 0f);
        Parallel.forParts(tokens, tokens < 4 ? 1 : Parallel.threads(), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int xo = t * in, qo = t * padCols;
                for (int g = 0; g < groups; g++) {
                    int lo = g * groupSize, hi = Math.min(in, lo + groupSize);
                    float amax = 0f;
                    for (int j = lo; j < hi; j++) amax = Math.max(amax, Math.abs(xp[xo + j]));
                    float inv = amax > 0f ? 127f / amax : 0f;
                    for (int j = lo; j < hi; j++) q[qo + j] = (short) Math.round(xp[xo + j] * inv);
                    d[t * groups + g] = amax / 127f;
                }
                for (int j = in; j < padCols; j++) q[qo + j] = 0;
            }
        });
    }

    private void padFloat(float[] xp, int tokens) {
        if (xf.length < tokens * padCols) xf = new float[tokens * padCols];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(xp, t * in, xf, t * padCols, in);
            java.util.Arrays.fill(xf, t * padCols + in, (t + 1) * padCols, 0f);
        }
    }

    private float muTerm(int r, float[] gs, int go) {
        if (mu == null) return 0f;
        float m = 0f;
        int mo = r * groups;
        for (int g = 0; g < groups; g++) m += Float.float16ToFloat(mu[mo + g]) * gs[go + g];
        return m;
    }

    /**
     * Lane sum of acc[off..off+16) in a fixed butterfly order (reduceLanes may reassociate differently between JIT
     * tiers). Vectors cross method boundaries only through such arrays: C2 stops inlining Vector API calls after
     * ~18000 IR nodes (about 35 vector ops), and a vector passed to a non-inlined method is boxed and loses its
     * intrinsics.
     */
    private static float sum16(float[] acc, int off) {
        FloatVector f = FloatVector.fromArray(F512, acc, off);
        f = f.add(f.rearrange(X8));
        f = f.add(f.rearrange(X4));
        f = f.add(f.rearrange(X2));
        return f.add(f.rearrange(X1)).lane(0);
    }

    // ---------------------------------------------------------------- decoding

    /** Chunk c of the row at byte offset cb, as code << 8 in 32 short lanes. */
    private ShortVector chunkQ(byte[] code, int cb, int c) {
        if (c < 2 * pairs) {
            ShortVector raw = ByteVector.fromArray(B512, code, cb + 64 * (c >> 1)).reinterpretAsShorts();
            return (c & 1) == 0 ? raw.and(HI) : raw.lanewise(VectorOperators.LSHL, 8);
        }
        // odd last chunk, stored plainly: widen (sign bits are shifted out again)
        return ((ShortVector) ByteVector.fromArray(B256, code, cb + 64 * pairs)
                .convertShape(VectorOperators.B2S, S512, 0)).lanewise(VectorOperators.LSHL, 8);
    }

    /** Lane masks (bit j = column 32s + j) of t = +1 and t = -1 for every slice s of row r, at pos/neg[off + s]. */
    private void decodeMasks(byte[] code, int r, long[] pos, long[] neg, int off) {
        int cb = r * rowBytes;
        for (int sb = 0; sb < superblocks; sb++) {
            // chunk k digit i = slice 20 sb + 4 i + k
            for (int k = 0; k < 4; k++) {
                ShortVector q = chunkQ(code, cb, 4 * sb + k);
                for (int i = 0; i < 5; i++, q = q.mul((short) 3)) {
                    int s = off + 20 * sb + 4 * i + k;
                    pos[s] = q.compare(VectorOperators.UGE, POS).toLong();
                    neg[s] = q.compare(VectorOperators.ULT, NEG).toLong();
                }
            }
        }
        for (int c = 4 * superblocks, s = 20 * superblocks; c < chunks; c++) {
            ShortVector q = chunkQ(code, cb, c);
            for (int i = 0; i < 5 && s < slices; i++, s++, q = q.mul((short) 3)) {
                pos[off + s] = q.compare(VectorOperators.UGE, POS).toLong();
                neg[off + s] = q.compare(VectorOperators.ULT, NEG).toLong();
            }
        }
    }

    // ---------------------------------------------------------------- int8 GEMV

    /**
     * Σ_g α_g·d_g·(t·xq)_g over one plane of row r (token 0 of xq/dq), groups of 128. In a superblock group i is
     * digit i of its 4 chunks, so one loop body (4 masked add/sub steps, a flush, 4 multiplies by 3 to expose the
     * next digit) serves every group; it is small enough for C2 to inline everything (no vector boxing).
     */
    private float rowQ8(byte[] code, short[] al, int r, float[] acc) {
        superblocksQ8(code, al, r, acc);
        if (20 * superblocks < slices) tailQ8(code, al, r, acc);
        return sum16(acc, 0);
    }

    /** acc[0..16) = the superblock part of {@link #rowQ8}. */
    private void superblocksQ8(byte[] code, short[] al, int r, float[] acc) {
        short[] x = xq;
        float[] d = dq;
        int cb = r * rowBytes, ab = r * groups;
        FloatVector f = FloatVector.zero(F512);
        for (int sb = 0; sb < superblocks; sb++) {
            ShortVector r0 = ByteVector.fromArray(B512, code, cb + 128 * sb).reinterpretAsShorts();
            ShortVector r1 = ByteVector.fromArray(B512, code, cb + 128 * sb + 64).reinterpretAsShorts();
            ShortVector c0 = r0.and(HI), c1 = r0.lanewise(VectorOperators.LSHL, 8);
            ShortVector c2 = r1.and(HI), c3 = r1.lanewise(VectorOperators.LSHL, 8);
            for (int i = 0, g = 5 * sb, xo = 640 * sb; i < 5; i++, g++, xo += 128) {
                ShortVector a = step(ZS, c0, x, xo);
                a = step(a, c1, x, xo + 32);
                a = step(a, c2, x, xo + 64);
                a = step(a, c3, x, xo + 96);
                f = flush(a, Float.float16ToFloat(al[ab + g]) * d[g], f);
                c0 = c0.mul((short) 3);
                c1 = c1.mul((short) 3);
                c2 = c2.mul((short) 3);
                c3 = c3.mul((short) 3);
            }
        }
        f.intoArray(acc, 0);
    }

    /** acc[0..16) += the tail (< 640 columns, chunk c digit i = slice 5c + i), one branch-counted slice at a time. */
    private void tailQ8(byte[] code, short[] al, int r, float[] acc) {
        short[] x = xq;
        float[] d = dq;
        int cb = r * rowBytes, ab = r * groups;
        FloatVector f = FloatVector.fromArray(F512, acc, 0);
        ShortVector a = ZS;
        int s0 = 20 * superblocks, g = 5 * superblocks, k = 0;
        for (int s = s0; s < slices; s++) {
            int ts = s - s0;
            ShortVector qs = chunkQ(code, cb, 4 * superblocks + ts / 5).mul(POW3[ts % 5]);
            a = step(a, qs, x, 32 * s);
            if (++k == spg) {
                f = flush(a, Float.float16ToFloat(al[ab + g]) * d[g], f);
                a = ZS;
                k = 0;
                g++;
            }
        }
        if (k > 0) f = flush(a, Float.float16ToFloat(al[ab + g]) * d[g], f);
        f.intoArray(acc, 0);
    }

    /** Same sum from decoded masks (any group size that is a multiple of 32), token at xq[xo], scales at dq[d0]. */
    private float rowMasksQ8(long[] pos, long[] neg, int mo, short[] al, int ab, int xo, int d0, float[] acc) {
        short[] x = xq;
        float[] d = dq;
        FloatVector f = FloatVector.zero(F512);
        for (int g = 0; g < groups; g++) {
            ShortVector a = ZS;
            int se = Math.min(slices, (g + 1) * spg);
            for (int s = g * spg; s < se; s++) {
                ShortVector v = ShortVector.fromArray(S512, x, xo + 32 * s);
                a = a.add(v, VectorMask.fromLong(S512, pos[mo + s])).sub(v, VectorMask.fromLong(S512, neg[mo + s]));
            }
            f = flush(a, Float.float16ToFloat(al[ab + g]) * d[d0 + g], f);
        }
        f.intoArray(acc, 0);
        return sum16(acc, 0);
    }

    /** acc + t·x for the 32 columns whose digit is the top base-3 digit of qi's high bytes. */
    private static ShortVector step(ShortVector acc, ShortVector qi, short[] x, int xo) {
        ShortVector xv = ShortVector.fromArray(S512, x, xo);
        return acc.add(xv, qi.compare(VectorOperators.UGE, POS)).sub(xv, qi.compare(VectorOperators.ULT, NEG));
    }

    /** f + scale · (int16 group sums, adjacent lanes added in int32, as 16 floats). */
    private static FloatVector flush(ShortVector a, float scale, FloatVector f) {
        IntVector v = a.reinterpretAsInts();
        // high half of v + (v << 16) is lo + hi without carry (the low half of v << 16 is 0); shift it down signed
        IntVector s = v.add(v.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
        return ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F512, scale), f);
    }

    // ---------------------------------------------------------------- int8 GEMM

    private void gemmQ8(float[] gs, float[] y, int tokens) {
        int planes = codes.length, tiles = (tokens + TT - 1) / TT;
        Parallel.forRange(out, RB, (r0, r1) -> {
            long[] pos = new long[RB * planes * slices], neg = new long[pos.length];
            float[] facc = new float[TT * 16];
            for (int rb = r0; rb < r1; rb += RB) {
                int re = Math.min(r1, rb + RB);
                for (int r = rb; r < re; r++) {
                    for (int p = 0; p < planes; p++) decodeMasks(codes[p], r, pos, neg, ((r - rb) * planes + p) * slices);
                }
                for (int tile = 0; tile < tiles; tile++) {
                    for (int r = rb; r < re; r++) {
                        java.util.Arrays.fill(facc, 0f);
                        for (int p = 0; p < planes; p++) {
                            tileQ8(pos, neg, ((r - rb) * planes + p) * slices, alpha[p], r * groups, tile * TT, facc);
                        }
                        for (int i = 0; i < TT; i++) {
                            int t = tile * TT + i;
                            if (t < tokens) {
                                y[t * out + r] = sum16(facc, 16 * i) + muTerm(r, gs, t * groups);
                            }
                        }
                    }
                }
            }
        });
    }

    /** facc[i] += Σ_g α_g·d_g·(t·xq)_g for tokens t0..t0+3 of one plane of one row, from decoded masks. */
    private void tileQ8(long[] pos, long[] neg, int mo, short[] al, int ab, int t0, float[] facc) {
        short[] q = xq;
        float[] d = dq;
        int x0 = t0 * padCols, x1 = x0 + padCols, x2 = x1 + padCols, x3 = x2 + padCols;
        int d0 = t0 * groups;
        FloatVector f0 = FloatVector.fromArray(F512, facc, 0), f1 = FloatVector.fromArray(F512, facc, 16);
        FloatVector f2 = FloatVector.fromArray(F512, facc, 32), f3 = FloatVector.fromArray(F512, facc, 48);
        for (int g = 0; g < groups; g++) {
            ShortVector a0 = ZS, a1 = ZS, a2 = ZS, a3 = ZS;
            int se = Math.min(slices, (g + 1) * spg);
            for (int s = g * spg; s < se; s++) {
                VectorMask<Short> pm = VectorMask.fromLong(S512, pos[mo + s]), nm = VectorMask.fromLong(S512, neg[mo + s]);
                int o = 32 * s;
                ShortVector v = ShortVector.fromArray(S512, q, x0 + o);
                a0 = a0.add(v, pm).sub(v, nm);
                v = ShortVector.fromArray(S512, q, x1 + o);
                a1 = a1.add(v, pm).sub(v, nm);
                v = ShortVector.fromArray(S512, q, x2 + o);
                a2 = a2.add(v, pm).sub(v, nm);
                v = ShortVector.fromArray(S512, q, x3 + o);
                a3 = a3.add(v, pm).sub(v, nm);
            }
            float al0 = Float.float16ToFloat(al[ab + g]);
            f0 = flush(a0, al0 * d[d0 + g], f0);
            f1 = flush(a1, al0 * d[d0 + groups + g], f1);
            f2 = flush(a2, al0 * d[d0 + 2 * groups + g], f2);
            f3 = flush(a3, al0 * d[d0 + 3 * groups + g], f3);
        }
        f0.intoArray(facc, 0);
        f1.intoArray(facc, 16);
        f2.intoArray(facc, 32);
        f3.intoArray(facc, 48);
    }

    // ---------------------------------------------------------------- float path

    private void floatPath(float[] gs, float[] y, int tokens) {
        int planes = codes.length;
        Parallel.forRange(out, 16, (r0, r1) -> {
            long[] pos = new long[planes * slices], neg = new long[pos.length];
            float[] acc = new float[16];
            for (int r = r0; r < r1; r++) {
                for (int p = 0; p < planes; p++) decodeMasks(codes[p], r, pos, neg, p * slices);
                for (int t = 0; t < tokens; t++) {
                    java.util.Arrays.fill(acc, 0f);
                    for (int p = 0; p < planes; p++) rowF(pos, neg, p * slices, alpha[p], r * groups, t * padCols, acc);
                    y[t * out + r] = sum16(acc, 0) + muTerm(r, gs, t * groups);
                }
            }
        });
    }

    /** acc[0..16) += Σ_g α_g·(t·x)_g with f32 activations: each 32-lane mask is split into two 16-lane float masks. */
    private void rowF(long[] pos, long[] neg, int mo, short[] al, int ab, int xo, float[] acc) {
        float[] x = xf;
        FloatVector f = FloatVector.fromArray(F512, acc, 0);
        for (int g = 0; g < groups; g++) {
            FloatVector a = FloatVector.zero(F512), b = a;
            int se = Math.min(slices, (g + 1) * spg);
            for (int s = g * spg; s < se; s++) {
                long pm = pos[mo + s], nm = neg[mo + s];
                int o = xo + 32 * s;
                FloatVector lo = FloatVector.fromArray(F512, x, o), hi = FloatVector.fromArray(F512, x, o + 16);
                a = a.add(lo, VectorMask.fromLong(F512, pm & 0xffff)).sub(lo, VectorMask.fromLong(F512, nm & 0xffff));
                b = b.add(hi, VectorMask.fromLong(F512, pm >>> 16)).sub(hi, VectorMask.fromLong(F512, nm >>> 16));
            }
            f = a.add(b).fma(FloatVector.broadcast(F512, Float.float16ToFloat(al[ab + g])), f);
        }
        f.intoArray(acc, 0);
    }
}
