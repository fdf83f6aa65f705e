package dev.tern.kernels;

import dev.tern.util.Parallel;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
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
 * <p>"Int8" path (default): activations are quantized per token and per group (one f32 scale per group, as
 * llama.cpp's Q8 for TQ1_0) to ±255 (9 bits; ±127 where int16 sums could overflow) in 16-bit lanes; t·x for 32
 * weights is one masked add and one masked subtract. A group's partial sums stay in int16, then are converted once
 * and y += α_g·scale_g·acc + μ_g·Σx_g. For groups of 128 the GEMV decodes in registers (group i of a superblock =
 * digit i of its 4 chunks); other group sizes go through decoded masks. The GEMV is multiplication-free.
 *
 * <p>Float path: the same masks (moved through a long) select f32 activations in two 16-lane halves; it is exact up
 * to float rounding and serves as the reference-accurate option.
 *
 * <p>GEMM (from {@link #GEMM_MIN_TOKENS} tokens; measured with LinearBench, 2048→5632 and 5632→2048, 128 tokens,
 * 2 threads on a shared Zen 4 VM): masked add/sub with lanes along columns costs a decode per weight per token, so
 * the first GEMM (a mask pair per 32 weights reused over 4-token tiles) ran at 0.06x f32. Now the masks of a
 * 32-row panel are bit-transposed so that each column yields two 32-lane masks over rows:
 * <ul>
 *   <li>int8 activations ({@link #gemmQ8Panels}): per token, the broadcast activation is added / subtracted into
 *       int16 row accumulators; still multiplication-free, 2 integer ops per 32 multiply-accumulates; about 1.1-1.2x
 *       the f32 GEMM. Perplexity on tinystories-656k: 177.795 vs 177.850 with f32 activations (0.03%; with ±127
 *       activations it was 0.24%, over the 0.1% budget).
 *   <li>f32 activations ({@link #gemmPanels}): the transposed masks select α + μ, μ or μ - α per row into an f32
 *       panel, k-major, consumed by an 8-token FMA microkernel (PanelLinear's layout); this path multiplies, and is
 *       about 0.95-1.0x f32 (the decode is amortised over the tokens; the FMAs are the same as f32).
 * </ul>
 * {@link #gemmDecoded} (row-major f32 tiles, 4x4 dot kernel) is the fallback when 512-bit panels are unavailable.
 *
 * <p>Every output is produced by one thread in a fixed order (lane folds by fixed shuffles), so results are
 * bit-reproducible across runs, thread counts and JIT tiers; int16 sums are exact, so pairing or tiling never
 * changes an output's float operations.
 */
final class SlicedKernel {
    private static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Long> L512 = LongVector.SPECIES_512;
    private static final VectorShuffle<Long> SW4 = VectorShuffle.fromOp(L512, i -> i ^ 4);
    private static final VectorShuffle<Long> SW2 = VectorShuffle.fromOp(L512, i -> i ^ 2);
    private static final VectorShuffle<Long> SW1 = VectorShuffle.fromOp(L512, i -> i ^ 1);
    private static final VectorMask<Long> SET4 = VectorMask.fromLong(L512, 0xf0), SET2 = VectorMask.fromLong(L512, 0xcc);
    private static final VectorMask<Long> SET1 = VectorMask.fromLong(L512, 0xaa);
    /** code·3^i < 86 (as the high byte) means digit 0 (t = -1); ≥ 171 means digit 2 (t = +1). */
    private static final short NEG = 86 << 8, POS = (short) (171 << 8), HI = (short) 0xff00;
    private static final short[] POW3 = {1, 3, 9, 27, 81};
    private static final ShortVector ZS = ShortVector.zero(S512);
    private static final VectorShuffle<Float> X8 = VectorShuffle.fromOp(F512, i -> i ^ 8);
    private static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F512, i -> i ^ 4);
    private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F512, i -> i ^ 2);
    private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F512, i -> i ^ 1);
    private static final VectorMask<Float> M8 = VectorMask.fromLong(F512, 0xff00L), M4 = VectorMask.fromLong(F512, 0xf0f0L);
    private static final VectorMask<Float> M2 = VectorMask.fromLong(F512, 0xccccL), M1 = VectorMask.fromLong(F512, 0xaaaaL);
    /** From this many tokens on, decoded-tile GEMM beats running the GEMV once per token. */
    static final int GEMM_MIN_TOKENS = Integer.getInteger("tern.sliced.gemm", 4);
    /**
     * GEMM through PanelLinear's microkernel (needs 512-bit float vectors: one panel = 32 rows = one bit mask);
     * otherwise, or with -Dtern.sliced.panels=false, the row-tile dot kernel.
     */
    static boolean PANEL_GEMM = PanelLinear.NR == 32 && !"false".equals(System.getProperty("tern.sliced.panels"));
    /** Multiplication-free int8 GEMM for int8-activation layers (-Dtern.sliced.gemm8=false: f32 panels). */
    static final boolean INT8_GEMM = !"false".equals(System.getProperty("tern.sliced.gemm8"));
    /** Tokens per int8 GEMM register tile (8 int16 accumulators of 32 rows). */
    private static final int QT = 8;
    /** Tokens per GEMM register tile. */
    private static final int MR8 = 8;
    /** Panels per GEMM work item: they share each KC block of packed activations while it is in L2. */
    private static final int PANELS_PER_ITEM = 4;
    /** GEMM register tile: GR rows x GT tokens (16 accumulators). */
    private static final int GR = 4, GT = 4;
    /** GEMM work item: RB rows; their decoded KC-column f32 tile (RB·KC·4 bytes) stays in L2 across all tokens. */
    private static final int RB = Integer.getInteger("tern.sliced.rb", 32), KC = Integer.getInteger("tern.sliced.kc", 1024);

    final int out, in, groupSize, groups, spg, chunks, pairs, rowBytes, slices, padCols, superblocks;
    final byte[][] codes;
    final short[][] alpha;
    final short[] mu;
    private short[] xq = new short[0];
    private float[] dq = new float[0], xf = new float[0];

    static boolean supports(int groupSize) {
        // int16 accumulation (GEMV): a lane sums groupSize/32 values of |x| ≤ 127, two lanes must fit 32767
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
        return residentBytes(codes, alpha, mu);
    }

    /** Bytes of code planes, their f16 α and the shared f16 μ (mu may be null); also {@link Base3Kernel}'s. */
    static long residentBytes(byte[][] codes, short[][] alpha, short[] mu) {
        long b = 0;
        for (byte[] c : codes) b += c.length;
        for (short[] a : alpha) b += 2L * a.length;
        if (mu != null) b += 2L * mu.length;
        return b;
    }

    /** xp is [tokens][in] in stored (permuted) column order, gs is [tokens][groups] (null without μ). */
    void apply(float[] xp, float[] gs, float[] y, int tokens, boolean int8) {
        if (tokens >= GEMM_MIN_TOKENS) {
            if (PANEL_GEMM && int8 && INT8_GEMM && groupSize <= 256) {
                gemmQ8Panels(xp, gs, y, tokens);
            } else if (PANEL_GEMM) {
                gemmPanels(xp, y, tokens);
            } else {
                gemmDecoded(xp, y, tokens);
            }
        } else if (int8) {
            for (int t = 0; t < tokens; t++) {
                quantize(xp, t);
                gemvQ8(gs, y, t);
            }
        } else {
            padFloat(xp, tokens, tokens, padCols);
            floatPath(gs, y, tokens);
        }
    }

    private void gemvQ8(float[] gs, float[] y, int t) {
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
                y[t * out + r] = sum + muTerm(r, gs, t * groups, acc);
            }
        });
    }

    // ---------------------------------------------------------------- activations

    /** Token t into slot 0: per group, scale d = max|x| / qmax and x/d rounded in 16-bit lanes; padding 0. */
    private void quantize(float[] xp, int t) {
        if (xq.length < padCols) xq = new short[padCols];
        if (dq.length < groups) dq = new float[groups];
        short[] q = xq;
        float[] d = dq;
        int xo = t * in;
        // ±255 (9 bits) is free here: a lane sums groupSize/32 values, two lanes ≤ groupSize/16·255 < 32768
        float qmax = groupSize <= 2048 ? 255f : 127f;
        for (int g = 0; g < groups; g++) {
            int lo = g * groupSize, hi = Math.min(in, lo + groupSize);
            float amax = 0f;
            for (int j = lo; j < hi; j++) amax = Math.max(amax, Math.abs(xp[xo + j]));
            float inv = amax > 0f ? qmax / amax : 0f;
            for (int j = lo; j < hi; j++) q[j] = (short) Math.round(xp[xo + j] * inv);
            d[g] = amax / qmax;
        }
        java.util.Arrays.fill(q, in, padCols, (short) 0);
    }

    /** xf = xp with every token zero-padded to stride columns, plus zero tokens up to padTokens. */
    private void padFloat(float[] xp, int tokens, int padTokens, int stride) {
        if (xf.length < padTokens * stride) xf = new float[padTokens * stride];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(xp, t * in, xf, t * stride, in);
            java.util.Arrays.fill(xf, t * stride + in, (t + 1) * stride, 0f);
        }
        java.util.Arrays.fill(xf, tokens * stride, padTokens * stride, 0f);
    }

    /**
     * Σ_g μ_g·gs_g of row r: 16 groups per step in f32 lanes (the scalar loop is a serial chain of FMAs, about as
     * long as the row's whole masked-add work), folded in a fixed order; tmp is a 16-float scratch.
     */
    private float muTerm(int r, float[] gs, int go, float[] tmp) {
        if (mu == null) return 0f;
        int mo = r * groups, g = 0;
        float m = 0f;
        if (groups >= 16) {
            FloatVector v = FloatVector.zero(F512);
            for (; g + 16 <= groups; g += 16) {
                v = f16x16(mu, mo + g).fma(FloatVector.fromArray(F512, gs, go + g), v);
            }
            v.intoArray(tmp, 0);
            m = sum16(tmp, 0);
        }
        for (; g < groups; g++) m += Float.float16ToFloat(mu[mo + g]) * gs[go + g];
        return m;
    }

    /**
     * 16 f16 values (finite) as floats: magnitude bits moved to the f32 exponent/mantissa position and scaled by
     * 2^112 (exact for normals and subnormals), then the sign. Same values as Float.float16ToFloat.
     */
    static FloatVector f16x16(short[] h, int o) {
        IntVector v = (IntVector) ShortVector.fromArray(S256, h, o).convertShape(VectorOperators.S2I, I512, 0);
        FloatVector mag = v.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        return mag.reinterpretAsInts().or(v.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
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
        ShortVector z = ShortVector.zero(S512);
        for (int sb = 0; sb < superblocks; sb++) {
            ShortVector r0 = ByteVector.fromArray(B512, code, cb + 128 * sb).reinterpretAsShorts();
            ShortVector r1 = ByteVector.fromArray(B512, code, cb + 128 * sb + 64).reinterpretAsShorts();
            ShortVector c0 = r0.and(HI), c1 = r0.lanewise(VectorOperators.LSHL, 8);
            ShortVector c2 = r1.and(HI), c3 = r1.lanewise(VectorOperators.LSHL, 8);
            for (int i = 0, g = 5 * sb, xo = 640 * sb; i < 5; i++, g++, xo += 128) {
                // two independent add/sub chains halve the serial latency per group
                ShortVector a = step(z, c0, x, xo), b = step(z, c1, x, xo + 32);
                a = step(a, c2, x, xo + 64);
                b = step(b, c3, x, xo + 96);
                f = flush(a.add(b), Float.float16ToFloat(al[ab + g]) * d[g], f);
                c0 = c0.mul((short) 3);
                c1 = c1.mul((short) 3);
                c2 = c2.mul((short) 3);
                c3 = c3.mul((short) 3);
            }
        }
        f.intoArray(acc, 0);
    }

    /**
     * acc[0..16) += the tail (< 640 columns, chunk c digit i = slice 5c + i): each chunk is loaded once and its next
     * digit exposed by a multiply by 3, as in the superblocks; groups may straddle chunks, hence the slice counter.
     */
    private void tailQ8(byte[] code, short[] al, int r, float[] acc) {
        short[] x = xq;
        float[] d = dq;
        int cb = r * rowBytes, ab = r * groups;
        FloatVector f = FloatVector.fromArray(F512, acc, 0);
        ShortVector zs = ShortVector.zero(S512), a = zs;
        int s = 20 * superblocks, g = 5 * superblocks, k = 0;
        for (int c = 4 * superblocks; c < chunks; c++) {
            ShortVector q = chunkQ(code, cb, c);
            for (int i = 0; i < 5 && s < slices; i++, s++) {
                a = step(a, q, x, 32 * s);
                q = q.mul((short) 3);
                if (++k == spg) {
                    f = flush(a, Float.float16ToFloat(al[ab + g]) * d[g], f);
                    a = zs;
                    k = 0;
                    g++;
                }
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
            ShortVector a = ShortVector.zero(S512);
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

    // ---------------------------------------------------------------- int8 GEMM on transposed masks

    /**
     * Multiplication-free GEMM: for a panel of 32 rows and one group, the trit masks are bit-transposed so that
     * column k gives two 32-lane masks over the rows; then per token y_rows += x_k (int8 in int16 lanes, broadcast)
     * under the t = +1 mask and -= under the t = -1 mask. A group's int16 sums (≤ 128·255 per lane for groups of
     * 128) are flushed once into f32 as α_row·d_token,group·acc + μ_row·Σx_token,group. Per 32 multiply-accumulates
     * this is 2 integer ops plus a broadcast, against 2 FMAs in f32.
     */
    private void gemmQ8Panels(float[] xp, float[] gs, float[] y, int tokens) {
        int tiles = (tokens + QT - 1) / QT, panels = (out + 31) / 32, planes = codes.length;
        quantizeTiles(xp, tokens, tiles);
        short[] x = xq;
        float[] d = dq;
        Parallel.forRange(panels, 1, (p0, p1) -> {
            long[] tm = new long[spg * 32];
            short[] acc = new short[QT * 32];
            float[] f = new float[tiles * QT * 32], par = new float[64];
            for (int p = p0; p < p1; p++) {
                int r0 = 32 * p, nValid = Math.min(32, out - r0);
                java.util.Arrays.fill(f, 0f);
                for (int g = 0; g < groups; g++) {
                    int s0 = g * spg, ns = Math.min(spg, slices - s0);
                    for (int pl = 0; pl < planes; pl++) {
                        for (int i = 0; i < 32; i++) {
                            if (i < nValid) {
                                sliceMasks(codes[pl], (r0 + i) * rowBytes, s0, ns, tm, i);
                            } else {
                                for (int j = 0; j < ns; j++) tm[32 * j + i] = 0L;
                            }
                        }
                        for (int j = 0; j < ns; j++) transpose32x2(tm, 32 * j);
                        rowParams(alpha[pl], r0, nValid, g, par, 0);
                        boolean withMu = pl == 0 && mu != null;
                        if (withMu) rowParams(mu, r0, nValid, g, par, 32);
                        for (int tile = 0; tile < tiles; tile++) {
                            accumulateQ8(tm, 32 * ns, x, (tile * padCols + 32 * s0) * QT, acc);
                            for (int t = 0; t < QT; t++) {
                                int tok = tile * QT + t;
                                if (tok >= tokens) break;
                                flushRows(acc, 32 * t, par, 0, 32, d[tok * groups + g], withMu ? gs[tok * groups + g] : 0f,
                                        withMu, f, 32 * tok);
                            }
                        }
                    }
                }
                // f holds even rows in lanes 0..15 and odd rows in lanes 16..31
                for (int t = 0; t < tokens; t++) {
                    for (int i = 0; i < nValid; i++) y[t * out + r0 + i] = f[32 * t + (i >> 1) + ((i & 1) << 4)];
                }
            }
        });
    }

    /** par[o + j] = param of row r0 + 2j and par[o + 16 + j] = of row r0 + 2j + 1 (the flush's even/odd split). */
    private void rowParams(short[] src, int r0, int nValid, int g, float[] par, int o) {
        for (int i = 0; i < 32; i++) {
            par[o + (i >> 1) + ((i & 1) << 4)] = i < nValid ? Float.float16ToFloat(src[(r0 + i) * groups + g]) : 0f;
        }
    }

    /**
     * xq = activations in int16, per token and group scaled by d = max|x|/qmax (dq[token·groups + g]), packed
     * k-major in tiles of QT tokens: xq[(tile·padCols + k)·QT + t]; padding columns and tokens are 0.
     */
    private void quantizeTiles(float[] xp, int tokens, int tiles) {
        int n = tiles * padCols * QT;
        if (xq.length < n) xq = new short[n];
        if (dq.length < tiles * QT * groups) dq = new float[tiles * QT * groups];
        short[] q = xq;
        float[] d = dq;
        java.util.Arrays.fill(q, 0, n, (short) 0);
        // as many levels as the int16 group sums allow: ±255 for groups up to 128 columns (128·255 < 32768)
        float qmax = groupSize <= 128 ? 255f : 127f;
        Parallel.forParts(tokens, Math.min(tokens, Parallel.threads()), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int xo = t * in, qo = (t / QT) * padCols * QT + t % QT;
                for (int g = 0; g < groups; g++) {
                    int lo = g * groupSize, hi = Math.min(in, lo + groupSize);
                    float amax = 0f;
                    for (int j = lo; j < hi; j++) amax = Math.max(amax, Math.abs(xp[xo + j]));
                    float inv = amax > 0f ? qmax / amax : 0f;
                    for (int j = lo; j < hi; j++) q[qo + j * QT] = (short) Math.round(xp[xo + j] * inv);
                    d[t * groups + g] = amax / qmax;
                }
            }
        });
    }

    /**
     * acc[32 t + i] = Σ_k t(row i, column k)·x[xo + k·QT + t] over kLen columns for QT = 8 tokens, from the
     * transposed masks tm[k] (rows with t = +1 in the low half, t = -1 in the high half). Wrapping int16 sums are
     * exact while |sum| ≤ 32767 (groups of ≤ 128 columns of |x| ≤ 255, or ≤ 256 of |x| ≤ 127).
     */
    private static void accumulateQ8(long[] tm, int kLen, short[] x, int xo, short[] acc) {
        ShortVector z = ShortVector.zero(S512);
        ShortVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        for (int k = 0; k < kLen; k++) {
            long m = tm[k];
            VectorMask<Short> pm = VectorMask.fromLong(S512, m & 0xffffffffL), nm = VectorMask.fromLong(S512, m >>> 32);
            int xi = xo + k * QT;
            ShortVector v = ShortVector.broadcast(S512, x[xi]);
            a0 = a0.add(v, pm).sub(v, nm);
            v = ShortVector.broadcast(S512, x[xi + 1]);
            a1 = a1.add(v, pm).sub(v, nm);
            v = ShortVector.broadcast(S512, x[xi + 2]);
            a2 = a2.add(v, pm).sub(v, nm);
            v = ShortVector.broadcast(S512, x[xi + 3]);
            a3 = a3.add(v, pm).sub(v, nm);
            v = ShortVector.broadcast(S512, x[xi + 4]);
            a4 = a4.add(v, pm).sub(v, nm);
            v = ShortVector.broadcast(S512, x[xi + 5]);
            a5 = a5.add(v, pm).sub(v, nm);
            v = ShortVector.broadcast(S512, x[xi + 6]);
            a6 = a6.add(v, pm).sub(v, nm);
            v = ShortVector.broadcast(S512, x[xi + 7]);
            a7 = a7.add(v, pm).sub(v, nm);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 32);
        a2.intoArray(acc, 64);
        a3.intoArray(acc, 96);
        a4.intoArray(acc, 128);
        a5.intoArray(acc, 160);
        a6.intoArray(acc, 192);
        a7.intoArray(acc, 224);
    }

    /**
     * f[fo..fo+32) += α·d·acc[ao..ao+32) (+ μ·gsum) with α at par[pa..pa+32) and μ at par[pm..pm+32): the int16
     * lanes are split into even rows (sign-extended low halves of the int32 view) and odd rows (high halves),
     * matching rowParams' layout (also Lut3Kernel's).
     */
    static void flushRows(short[] acc, int ao, float[] par, int pa, int pm, float d, float gsum, boolean withMu,
            float[] f, int fo) {
        IntVector v = ShortVector.fromArray(S512, acc, ao).reinterpretAsInts();
        FloatVector ev = (FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .convert(VectorOperators.I2F, 0);
        FloatVector od = (FloatVector) v.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
        FloatVector fe = FloatVector.fromArray(F512, f, fo), fd = FloatVector.fromArray(F512, f, fo + 16);
        FloatVector sd = FloatVector.broadcast(F512, d);
        fe = ev.fma(FloatVector.fromArray(F512, par, pa).mul(sd), fe);
        fd = od.fma(FloatVector.fromArray(F512, par, pa + 16).mul(sd), fd);
        if (withMu) {
            FloatVector sg = FloatVector.broadcast(F512, gsum);
            fe = FloatVector.fromArray(F512, par, pm).fma(sg, fe);
            fd = FloatVector.fromArray(F512, par, pm + 16).fma(sg, fd);
        }
        fe.intoArray(f, fo);
        fd.intoArray(f, fo + 16);
    }

    // ---------------------------------------------------------------- GEMM on decoded panels

    /**
     * y = W·x for many tokens through the f32 GEMM microkernel of {@link PanelLinear}: for every panel of NR = 32
     * rows and KC columns, the exact weights α·t + μ (summed over planes) are decoded once, k-major, into a scratch
     * panel that then serves every 6-token tile. Decoding costs about one scalar op per weight and is amortised over
     * the tokens; the products are f32 FMAs, so prefill is not multiplication-free (see the class comment).
     */
    private void gemmPanels(float[] xp, float[] y, int tokens) {
        int mr = MR8, nr = PanelLinear.NR, kc = PanelLinear.KC;
        int tiles = (tokens + mr - 1) / mr, panels = (out + nr - 1) / nr;
        if (xf.length < tiles * padCols * mr) xf = new float[tiles * padCols * mr];
        float[] x = xf;
        Parallel.forParts(tiles, Math.min(tiles, Parallel.threads()), (t0, t1) -> {
            for (int tile = t0; tile < t1; tile++) {
                int base = tile * padCols * mr;
                for (int i = 0; i < mr; i++) {
                    int tok = tile * mr + i;
                    for (int k = 0; k < padCols; k++) {
                        x[base + k * mr + i] = tok < tokens && k < in ? xp[tok * in + k] : 0f;
                    }
                }
            }
        });
        int pb = PANELS_PER_ITEM, items = (panels + pb - 1) / pb;
        Parallel.forRange(items, 1, (i0, i1) -> {
            float[] panel = new float[pb * kc * nr], par = new float[3 * nr], acc = new float[8 * 32];
            long[] tm = new long[kc];
            for (int item = i0; item < i1; item++) {
                int p0 = item * pb, p1 = Math.min(panels, p0 + pb);
                for (int k0 = 0; k0 < padCols; k0 += kc) {
                    int kLen = Math.min(kc, padCols - k0);
                    for (int p = p0; p < p1; p++) {
                        int po = (p - p0) * kc * nr, nValid = Math.min(nr, out - p * nr);
                        decodePanel(p * nr, nValid, k0, kLen, panel, po, tm, par);
                        for (int tile = 0; tile < tiles; tile++) {
                            micro8(panel, po, x, (tile * padCols + k0) * mr, kLen, acc);
                            store8(acc, y, tile * mr * out + p * nr, Math.min(mr, tokens - tile * mr), nValid, k0 == 0, out);
                        }
                    }
                }
            }
        });
    }

    /**
     * {@link PanelLinear#micro} with 8 tokens instead of 6: 16 accumulators, 2 panel loads and 8 broadcasts per 16
     * FMAs (the decoded panel is L1-resident, so fewer loads per FMA is the remaining lever), and 128 tokens fill
     * 16 tiles exactly.
     */
    private static void micro8(float[] wp, int wo, float[] xp, int xo, int kLen, float[] acc) {
        FloatVector z = FloatVector.zero(F512);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int k = 0; k < kLen; k++) {
            FloatVector w0 = FloatVector.fromArray(F512, wp, wo + k * 32);
            FloatVector w1 = FloatVector.fromArray(F512, wp, wo + k * 32 + 16);
            int xi = xo + k * 8;
            FloatVector b = FloatVector.broadcast(F512, xp[xi]);
            c00 = w0.fma(b, c00);
            c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(F512, xp[xi + 1]);
            c10 = w0.fma(b, c10);
            c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(F512, xp[xi + 2]);
            c20 = w0.fma(b, c20);
            c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(F512, xp[xi + 3]);
            c30 = w0.fma(b, c30);
            c31 = w1.fma(b, c31);
            b = FloatVector.broadcast(F512, xp[xi + 4]);
            c40 = w0.fma(b, c40);
            c41 = w1.fma(b, c41);
            b = FloatVector.broadcast(F512, xp[xi + 5]);
            c50 = w0.fma(b, c50);
            c51 = w1.fma(b, c51);
            b = FloatVector.broadcast(F512, xp[xi + 6]);
            c60 = w0.fma(b, c60);
            c61 = w1.fma(b, c61);
            b = FloatVector.broadcast(F512, xp[xi + 7]);
            c70 = w0.fma(b, c70);
            c71 = w1.fma(b, c71);
        }
        // through an array: 8 inlined put() calls would push C2 past its inlining node budget (boxed vectors)
        c00.intoArray(acc, 0);
        c01.intoArray(acc, 16);
        c10.intoArray(acc, 32);
        c11.intoArray(acc, 48);
        c20.intoArray(acc, 64);
        c21.intoArray(acc, 80);
        c30.intoArray(acc, 96);
        c31.intoArray(acc, 112);
        c40.intoArray(acc, 128);
        c41.intoArray(acc, 144);
        c50.intoArray(acc, 160);
        c51.intoArray(acc, 176);
        c60.intoArray(acc, 192);
        c61.intoArray(acc, 208);
        c70.intoArray(acc, 224);
        c71.intoArray(acc, 240);
    }

    /** y rows yo + t·out (t < mValid), columns < nValid: = or += acc[32 t ..] (first: the first KC block). */
    private static void store8(float[] acc, float[] y, int yo, int mValid, int nValid, boolean first, int out) {
        for (int t = 0; t < mValid; t++) {
            int o = yo + t * out;
            if (nValid == 32 && !first) {
                FloatVector.fromArray(F512, acc, 32 * t).add(FloatVector.fromArray(F512, y, o)).intoArray(y, o);
                FloatVector.fromArray(F512, acc, 32 * t + 16).add(FloatVector.fromArray(F512, y, o + 16)).intoArray(y, o + 16);
            } else if (first) {
                System.arraycopy(acc, 32 * t, y, o, nValid);
            } else {
                for (int i = 0; i < nValid; i++) y[o + i] += acc[32 * t + i];
            }
        }
    }

    /**
     * panel[po + k·32 + i] = weight of row r0 + i at stored column k0 + k (i < 32, k < kLen, kLen a multiple of 32):
     * per 32-column slice, the row-wise trit masks of the 32 rows are bit-transposed into column-wise row masks,
     * which select α + μ, μ or μ - α per row (later planes add ±α or 0: the same floats the dequantized reference
     * computes). Rows from nValid on are 0.
     */
    private void decodePanel(int r0, int nValid, int k0, int kLen, float[] panel, int po, long[] tm, float[] par) {
        int ns = kLen / 32, s0 = k0 / 32;
        for (int p = 0; p < codes.length; p++) {
            byte[] code = codes[p];
            for (int i = 0; i < 32; i++) {
                if (i < nValid) {
                    sliceMasks(code, (r0 + i) * rowBytes, s0, ns, tm, i);
                } else {
                    for (int j = 0; j < ns; j++) tm[32 * j + i] = 0L;
                }
            }
            int gPrev = -1;
            for (int j = 0; j < ns; j++) {
                int g = (k0 + 32 * j) / groupSize;
                if (g != gPrev) {
                    groupParams(p, r0, nValid, g, par);
                    gPrev = g;
                }
                transpose32x2(tm, 32 * j);
                expandColumns(tm, 32 * j, par, panel, po + 32 * 32 * j, p == 0);
            }
        }
    }

    /** par = per row i < 32: [μ | α + μ | μ - α] (μ only on plane 0; rows from nValid on are 0). */
    private void groupParams(int p, int r0, int nValid, int g, float[] par) {
        for (int i = 0; i < 32; i++) {
            float a = 0f, m = 0f;
            if (i < nValid) {
                int gi = (r0 + i) * groups + g;
                a = Float.float16ToFloat(alpha[p][gi]);
                if (p == 0 && mu != null) m = Float.float16ToFloat(mu[gi]);
            }
            par[i] = m;
            par[32 + i] = a + m;
            par[64 + i] = m - a;
        }
    }

    /**
     * tm[32 j + i] = bits (column 32 s + b) of t = +1 (low half) and t = -1 (high half) for slices s = s0 + j < s0 + ns
     * of the row at byte cb.
     */
    private void sliceMasks(byte[] code, int cb, int s0, int ns, long[] tm, int i) {
        for (int j = 0; j < ns; j++) {
            int s = s0 + j, sb = s / 20, c, d;
            if (sb < superblocks) {
                c = 4 * sb + (s % 20) % 4;
                d = (s % 20) / 4;
            } else {
                int ts = s - 20 * superblocks;
                c = 4 * superblocks + ts / 5;
                d = ts % 5;
            }
            ShortVector q = chunkQ(code, cb, c).mul(POW3[d]);
            tm[32 * j + i] = (q.compare(VectorOperators.UGE, POS).toLong() & 0xffffffffL)
                    | q.compare(VectorOperators.ULT, NEG).toLong() << 32;
        }
    }

    /**
     * Transposes the two 32x32 bit matrices held in the low and high halves of a[o..o+32) at once (bit c of half h
     * of a[o + r] = element (r, c) of matrix h). Stage j swaps bit j of the row index with bit j of the column index
     * (no bit moves across the halves); the stages commute. Rows live in 4 vectors of 8 longs: stages 16 and 8 pair
     * whole vectors, stages 4, 2, 1 pair lanes. Split in two methods to stay under C2's inlining node budget.
     */
    static void transpose32x2(long[] a, int o) {
        LongVector v0 = LongVector.fromArray(L512, a, o), v1 = LongVector.fromArray(L512, a, o + 8);
        LongVector v2 = LongVector.fromArray(L512, a, o + 16), v3 = LongVector.fromArray(L512, a, o + 24);
        long m16 = 0x0000ffff0000ffffL, m8 = 0x00ff00ff00ff00ffL;
        LongVector t = v0.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.XOR, v2).and(m16);
        v2 = v2.lanewise(VectorOperators.XOR, t);
        v0 = v0.lanewise(VectorOperators.XOR, t.lanewise(VectorOperators.LSHL, 16));
        t = v1.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.XOR, v3).and(m16);
        v3 = v3.lanewise(VectorOperators.XOR, t);
        v1 = v1.lanewise(VectorOperators.XOR, t.lanewise(VectorOperators.LSHL, 16));
        t = v0.lanewise(VectorOperators.LSHR, 8).lanewise(VectorOperators.XOR, v1).and(m8);
        v1 = v1.lanewise(VectorOperators.XOR, t);
        v0 = v0.lanewise(VectorOperators.XOR, t.lanewise(VectorOperators.LSHL, 8));
        t = v2.lanewise(VectorOperators.LSHR, 8).lanewise(VectorOperators.XOR, v3).and(m8);
        v3 = v3.lanewise(VectorOperators.XOR, t);
        v2 = v2.lanewise(VectorOperators.XOR, t.lanewise(VectorOperators.LSHL, 8));
        v0.intoArray(a, o);
        v1.intoArray(a, o + 8);
        v2.intoArray(a, o + 16);
        v3.intoArray(a, o + 24);
        for (int q = 0; q < 4; q++) transposeLanes(a, o + 8 * q);
    }

    /**
     * Stages 4, 2, 1 of {@link #transpose32x2} on rows a[o..o+8): per stage, lo/hi = the lower/upper row of each
     * lane's pair, t = the bits to swap; written out per stage because a helper taking vectors is not always inlined
     * (its vectors would then be boxed).
     */
    private static void transposeLanes(long[] a, int o) {
        LongVector v = LongVector.fromArray(L512, a, o);
        LongVector x = v.rearrange(SW4), lo = v.blend(x, SET4), hi = x.blend(v, SET4);
        LongVector t = lo.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.XOR, hi).and(0x0f0f0f0f0f0f0f0fL);
        v = v.lanewise(VectorOperators.XOR, t.lanewise(VectorOperators.LSHL, 4).blend(t, SET4));
        x = v.rearrange(SW2);
        lo = v.blend(x, SET2);
        hi = x.blend(v, SET2);
        t = lo.lanewise(VectorOperators.LSHR, 2).lanewise(VectorOperators.XOR, hi).and(0x3333333333333333L);
        v = v.lanewise(VectorOperators.XOR, t.lanewise(VectorOperators.LSHL, 2).blend(t, SET2));
        x = v.rearrange(SW1);
        lo = v.blend(x, SET1);
        hi = x.blend(v, SET1);
        t = lo.lanewise(VectorOperators.LSHR, 1).lanewise(VectorOperators.XOR, hi).and(0x5555555555555555L);
        v.lanewise(VectorOperators.XOR, t.lanewise(VectorOperators.LSHL, 1).blend(t, SET1)).intoArray(a, o);
    }

    /** Scalar reference of {@link #transpose32x2}. */
    static void transpose32x2Ref(long[] a, int o) {
        long m = 0x0000ffff0000ffffL;
        for (int j = 16; j != 0; j >>>= 1, m ^= m << j) {
            for (int k = 0; k < 32; k = (k + j + 1) & ~j) {
                long t = ((a[o + k] >>> j) ^ a[o + k + j]) & m;
                a[o + k + j] ^= t;
                a[o + k] ^= t << j;
            }
        }
    }

    /** 32 k-major columns of 32 rows: row masks tm[o + c] (t = +1 low, -1 high) pick values from par (groupParams). */
    private static void expandColumns(long[] tm, int o, float[] par, float[] w, int wo, boolean first) {
        FloatVector b0 = FloatVector.fromArray(F512, par, 0), b1 = FloatVector.fromArray(F512, par, 16);
        FloatVector p0 = FloatVector.fromArray(F512, par, 32), p1 = FloatVector.fromArray(F512, par, 48);
        FloatVector n0 = FloatVector.fromArray(F512, par, 64), n1 = FloatVector.fromArray(F512, par, 80);
        for (int c = 0; c < 32; c++) {
            long m = tm[o + c];
            int wi = wo + 32 * c;
            FloatVector lo = b0.blend(p0, VectorMask.fromLong(F512, m)).blend(n0, VectorMask.fromLong(F512, m >>> 32));
            FloatVector hi = b1.blend(p1, VectorMask.fromLong(F512, m >>> 16)).blend(n1, VectorMask.fromLong(F512, m >>> 48));
            if (!first) {
                lo = lo.add(FloatVector.fromArray(F512, w, wi));
                hi = hi.add(FloatVector.fromArray(F512, w, wi + 16));
            }
            lo.intoArray(w, wi);
            hi.intoArray(w, wi + 16);
        }
    }

    // ---------------------------------------------------------------- GEMM on decoded row tiles (fallback)

    /**
     * y = W·x for many tokens: per block of RB rows and KC columns, the exact weights α·t + μ (sum over planes) are
     * decoded once into an f32 tile and reused by every 4-token tile, through {@link #dot4x4}. Decoding is amortised
     * over the tokens; the products are f32 FMAs, so prefill is not multiplication-free (see the class comment).
     */
    private void gemmDecoded(float[] xp, float[] y, int tokens) {
        int padTokens = (tokens + GT - 1) / GT * GT;
        // row strides 64 bytes off a multiple of 4 KiB: the 8 streams of dot4x4 would otherwise share L1 sets
        int xs = padCols + 16;
        padFloat(xp, tokens, padTokens, xs);
        float[] x = xf;
        int planes = codes.length, blocks = (out + RB - 1) / RB, tiles = padTokens / GT;
        int kc = Math.min(KC, padCols), ws = kc + 16;
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            long[] pos = new long[RB * planes * slices], neg = new long[pos.length];
            float[] wt = new float[RB * ws], part = new float[tiles * RB * GT], acc = new float[256];
            for (int b = b0; b < b1; b++) {
                int rb = b * RB, rows = Math.min(RB, out - rb);
                for (int i = 0; i < rows; i++) {
                    for (int p = 0; p < planes; p++) decodeMasks(codes[p], rb + i, pos, neg, (i * planes + p) * slices);
                }
                java.util.Arrays.fill(part, 0f);
                for (int k0 = 0; k0 < padCols; k0 += kc) {
                    int len = Math.min(kc, padCols - k0);
                    for (int i = 0; i < RB; i++) {
                        if (i < rows) {
                            for (int p = 0; p < planes; p++) {
                                expand(pos, neg, (i * planes + p) * slices, p, rb + i, k0, len, wt, i * ws);
                            }
                        } else {
                            java.util.Arrays.fill(wt, i * ws, i * ws + len, 0f);
                        }
                    }
                    // a 4-row slice of the tile stays in L1 while the activations stream from L2
                    for (int sub = 0; sub < RB; sub += GR) {
                        for (int tile = 0; tile < tiles; tile++) {
                            dot4x4(wt, sub * ws, ws, x, tile * GT * xs + k0, xs, len, acc);
                            fold16(acc, part, (tile * RB + sub) * GT);
                        }
                    }
                }
                // part[(tile·RB + sub)·4 + 4t + i] = row rb+sub+i, token 4·tile+t
                for (int tile = 0; tile < tiles; tile++) {
                    for (int sub = 0; sub < rows; sub += GR) {
                        int po = (tile * RB + sub) * GT;
                        for (int t = 0; t < GT; t++) {
                            int tok = tile * GT + t;
                            if (tok >= tokens) break;
                            for (int i = 0; i < GR && sub + i < rows; i++) y[tok * out + rb + sub + i] = part[po + 4 * t + i];
                        }
                    }
                }
            }
        });
    }

    /**
     * w[wo + j] (j < len) = weights of row r at stored columns k0 + j for plane p: plane 0 writes α·t + μ, later
     * planes add α·t, exactly as the dequantized reference computes them (the selected values are the same floats).
     */
    private void expand(long[] pos, long[] neg, int mo, int p, int r, int k0, int len, float[] w, int wo) {
        short[] al = alpha[p];
        boolean first = p == 0;
        for (int j = 0; j < len; j += 32) {
            int s = (k0 + j) >> 5, g = r * groups + (k0 + j) / groupSize;
            float a = Float.float16ToFloat(al[g]), m = first && mu != null ? Float.float16ToFloat(mu[g]) : 0f;
            long pm = pos[mo + s], nm = neg[mo + s];
            FloatVector base = FloatVector.broadcast(F512, m);
            FloatVector ap = FloatVector.broadcast(F512, a + m), an = FloatVector.broadcast(F512, m - a);
            FloatVector lo = base.blend(ap, VectorMask.fromLong(F512, pm & 0xffff)).blend(an, VectorMask.fromLong(F512, nm & 0xffff));
            FloatVector hi = base.blend(ap, VectorMask.fromLong(F512, pm >>> 16)).blend(an, VectorMask.fromLong(F512, nm >>> 16));
            if (!first) {
                lo = lo.add(FloatVector.fromArray(F512, w, wo + j));
                hi = hi.add(FloatVector.fromArray(F512, w, wo + j + 16));
            }
            lo.intoArray(w, wo + j);
            hi.intoArray(w, wo + j + 16);
        }
    }

    /**
     * The 16 vector accumulators (along j) of Σ_j w[wo + i·ws + j] · x[xo + t·xs + j] for 4 rows i and 4 tokens t,
     * j < len (a multiple of 16), into acc for {@link #fold16}.
     */
    private static void dot4x4(float[] w, int wo, int ws, float[] x, int xo, int xs, int len, float[] acc) {
        FloatVector z = FloatVector.zero(F512);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        for (int j = 0; j < len; j += 16) {
            FloatVector w0 = FloatVector.fromArray(F512, w, wo + j);
            FloatVector w1 = FloatVector.fromArray(F512, w, wo + ws + j);
            FloatVector w2 = FloatVector.fromArray(F512, w, wo + 2 * ws + j);
            FloatVector w3 = FloatVector.fromArray(F512, w, wo + 3 * ws + j);
            FloatVector v = FloatVector.fromArray(F512, x, xo + j);
            c00 = w0.fma(v, c00);
            c01 = w1.fma(v, c01);
            c02 = w2.fma(v, c02);
            c03 = w3.fma(v, c03);
            v = FloatVector.fromArray(F512, x, xo + xs + j);
            c10 = w0.fma(v, c10);
            c11 = w1.fma(v, c11);
            c12 = w2.fma(v, c12);
            c13 = w3.fma(v, c13);
            v = FloatVector.fromArray(F512, x, xo + 2 * xs + j);
            c20 = w0.fma(v, c20);
            c21 = w1.fma(v, c21);
            c22 = w2.fma(v, c22);
            c23 = w3.fma(v, c23);
            v = FloatVector.fromArray(F512, x, xo + 3 * xs + j);
            c30 = w0.fma(v, c30);
            c31 = w1.fma(v, c31);
            c32 = w2.fma(v, c32);
            c33 = w3.fma(v, c33);
        }
        // stored in bit-reversed order of 4t + i, see fold16
        c00.intoArray(acc, 0);
        c20.intoArray(acc, 16);
        c10.intoArray(acc, 32);
        c30.intoArray(acc, 48);
        c02.intoArray(acc, 64);
        c22.intoArray(acc, 80);
        c12.intoArray(acc, 96);
        c32.intoArray(acc, 112);
        c01.intoArray(acc, 128);
        c21.intoArray(acc, 144);
        c11.intoArray(acc, 160);
        c31.intoArray(acc, 176);
        c03.intoArray(acc, 192);
        c23.intoArray(acc, 208);
        c13.intoArray(acc, 224);
        c33.intoArray(acc, 240);
    }

    /**
     * part[po + n] += lane sum of the n-th of 16 accumulators, where acc holds them in bit-reversed order: after four
     * halving folds (strides 8, 4, 2, 1) lane n holds the sum of input bitrev4(n). A separate method because C2 stops
     * inlining into dot4x4 (NodeCountInliningCutoff) and would box the vectors passed to fold.
     */
    private static void fold16(float[] acc, float[] part, int po) {
        FloatVector a0 = fold(ld(acc, 0), ld(acc, 1), M8, X8), a1 = fold(ld(acc, 2), ld(acc, 3), M8, X8);
        FloatVector a2 = fold(ld(acc, 4), ld(acc, 5), M8, X8), a3 = fold(ld(acc, 6), ld(acc, 7), M8, X8);
        FloatVector a4 = fold(ld(acc, 8), ld(acc, 9), M8, X8), a5 = fold(ld(acc, 10), ld(acc, 11), M8, X8);
        FloatVector a6 = fold(ld(acc, 12), ld(acc, 13), M8, X8), a7 = fold(ld(acc, 14), ld(acc, 15), M8, X8);
        FloatVector b0 = fold(a0, a1, M4, X4), b1 = fold(a2, a3, M4, X4), b2 = fold(a4, a5, M4, X4), b3 = fold(a6, a7, M4, X4);
        FloatVector d0 = fold(b0, b1, M2, X2), d1 = fold(b2, b3, M2, X2);
        fold(d0, d1, M1, X1).add(FloatVector.fromArray(F512, part, po)).intoArray(part, po);
    }

    private static FloatVector ld(float[] acc, int i) {
        return FloatVector.fromArray(F512, acc, 16 * i);
    }

    /** Lanes with bit s clear: a[n] + a[n ^ s]; lanes with bit s set: b[n] + b[n ^ s] (s = the mask's stride). */
    private static FloatVector fold(FloatVector a, FloatVector b, VectorMask<Float> hi, VectorShuffle<Float> swap) {
        return a.blend(b, hi).add(b.blend(a, hi).rearrange(swap));
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
                    y[t * out + r] = sum16(acc, 0) + muTerm(r, gs, t * groups, acc);
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
