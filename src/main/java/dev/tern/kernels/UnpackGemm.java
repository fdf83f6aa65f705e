package dev.tern.kernels;

import dev.tern.util.Parallel;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Prefill (several tokens) for the {@link UnpackLayout} codes in 16-bit integers: per tile and chunk, the codes of
 * two row vectors are unpacked once to t in {-1, 0, 1} and reused by every 4-token register tile of 16-bit
 * multiplies and adds against the tokens' rounded activations.
 *
 * <p>Why integers: a 16-bit multiply and add do as many products per instruction pair as one f32 FMA does per
 * instruction (twice the lanes), and where multiplies and adds issue on different pipes (Zen 3: two multiplies plus
 * two adds per cycle on its four vector pipes, against two FMAs) the pair runs at twice the FMA rate; the f32 GEMM over decoded weights
 * ({@link FloatDecodeKernel}) is bound by the FMAs. Why exact: activations are rounded per chunk as
 * {@link UnpackKernel}'s decode rounds them, Σ t·x over a chunk lies in ±32640 (128·255), so the int16 sum is the
 * integer decode computes, and it is flushed into f32 by the same operations in the same order
 * ({@link UnpackKernel#flushVector}): every token's output is bit for bit what decoding it alone gives.
 */
final class UnpackGemm {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final int L = S.length(), TILE = UnpackLayout.TILE, SUB = TILE / L;
    /** Tokens per register tile. */
    static final int MR = 4;
    /**
     * Tokens per work item, whose rounded activations (2 bytes per column) a tile's pass over all chunks reads: at
     * 64 tokens a 5632-column layer's were 720 KB, beyond a Zen 3's 512 KB L2, and its prefill ran at 1.07x the f32
     * GEMM natively against 1.34x at 32 tokens (16 gave no more).
     */
    static final int TOKEN_BLOCK = 32;
    /** Widest chunk ({@link TernaryPacking#unpackChunks}): the unpacked-codes scratch holds one chunk. */
    static final int MAX_CHUNK = 128;

    private final int out, in, groups, tiles, words, chunks;
    private final int[] chunkStart, chunkLen, chunkGroup, chunkWord;
    /** First column of each chunk among the columns padded to whole words (8 per word). */
    private final int[] chunkColumn;
    private final short[] codes;
    private final float[] alpha, mu;

    UnpackGemm(UnpackLayout p) {
        this.out = p.out();
        this.in = p.in();
        this.groups = p.groups();
        this.tiles = p.tiles();
        this.words = p.words();
        this.chunkStart = p.chunks().start();
        this.chunkLen = p.chunks().len();
        this.chunkGroup = p.chunks().group();
        this.chunkWord = p.chunks().word();
        this.chunks = chunkStart.length;
        this.chunkColumn = new int[chunks];
        for (int c = 0; c < chunks; c++) chunkColumn[c] = 8 * chunkWord[c];
        this.codes = p.codes();
        this.alpha = p.alpha();
        this.mu = p.mu();
    }

    /** y[t][out] for xp[t][in] in stored column order; gs[t][groups] the group sums of xp (null without μ). */
    void apply(float[] xp, float[] gs, float[] y, int tokens) {
        short[] xs = new short[(tokens + MR - 1) / MR * MR * 8 * words];
        float[] dq = new float[tokens * chunks];
        quantize(xp, tokens, in, chunkStart, chunkLen, chunkColumn, 8 * words, xs, dq);
        int blocks = (tokens + TOKEN_BLOCK - 1) / TOKEN_BLOCK;
        Parallel.forRange(tiles * blocks, 1, (a, b) -> {
            Scratch s = new Scratch(Math.min(tokens, TOKEN_BLOCK));
            for (int item = a; item < b; item++) {
                int tile = item / blocks, t0 = (item % blocks) * TOKEN_BLOCK;
                tileRows(tile, t0, Math.min(tokens, t0 + TOKEN_BLOCK), xs, dq, gs, y, s);
            }
        });
    }

    /**
     * Every token's activations rounded per chunk (dq[t][c] = the chunk's scale), written as shorts into its register
     * tile's k-major slots, xs[((t / MR)·padded + col[c] + j)·MR + t % MR] for column j of chunk c (padded: the
     * columns of all chunks, each padded to whole words; padding is left 0).
     */
    static void quantize(float[] xp, int tokens, int in, int[] chunkStart, int[] chunkLen, int[] col, int padded, short[] xs, float[] dq) {
        int chunks = chunkStart.length;
        Parallel.forRange(tokens, 8, (t0, t1) -> {
            int[] q = new int[MAX_CHUNK];
            for (int t = t0; t < t1; t++) {
                int base = (t / MR) * MR * padded, lane = t % MR;
                for (int c = 0; c < chunks; c++) {
                    int n = chunkLen[c];
                    float amax = ChunkQuantizer.quantize(xp, t * in + chunkStart[c], n, q, 0);
                    dq[t * chunks + c] = amax / 255f;
                    for (int j = 0, o = base + col[c] * MR + lane; j < n; j++, o += MR) xs[o] = (short) q[j];
                }
            }
        });
    }

    /** Rows of one tile for tokens [t0, t1): chunk by chunk, two row vectors unpacked at a time. */
    private void tileRows(int tile, int t0, int t1, short[] xs, float[] dq, float[] gs, float[] y, Scratch s) {
        float[] f = s.f;
        int n = t1 - t0;
        java.util.Arrays.fill(f, 0, n * TILE, 0f);
        short[] tw = s.tw, acc = s.acc;
        for (int c = 0; c < chunks; c++) {
            int nw = (chunkLen[c] + 7) >> 3, nk = 8 * nw, g = chunkGroup[c], po = (tile * groups + g) * TILE;
            for (int sv = 0; sv < SUB; sv += 2) {
                unpack(tile, c, sv, nw, tw);
                for (int t = t0; t < t1; t += MR) {
                    micro(tw, xs, ((t / MR) * 8 * words + chunkColumn[c]) * MR, nk, acc);
                    for (int i = 0, m = Math.min(MR, t1 - t); i < m; i++) {
                        float d = dq[(t + i) * chunks + c];
                        int fo = (t + i - t0) * TILE;
                        UnpackKernel.flushVector(acc, 2 * i * L, (short) 0, alpha, po + sv * L, d, f, fo + sv * L);
                        UnpackKernel.flushVector(acc, (2 * i + 1) * L, (short) 0, alpha, po + (sv + 1) * L, d, f, fo + (sv + 1) * L);
                    }
                }
            }
            if (mu != null && (c + 1 == chunks || chunkGroup[c + 1] != g)) {
                for (int t = t0; t < t1; t++) UnpackKernel.addMu(mu, po, gs[t * groups + g], f, (t - t0) * TILE);
            }
        }
        int r0 = tile * TILE, rows = Math.min(TILE, out - r0);
        for (int t = t0; t < t1; t++) System.arraycopy(f, (t - t0) * TILE, y, t * out + r0, rows);
    }

    /** tw[(h·MAX_CHUNK + k)·L ..] = t of column k of chunk c for row vectors sv and sv + 1 of the tile (h = 0, 1). */
    private void unpack(int tile, int c, int sv, int nw, short[] tw) {
        for (int h = 0; h < 2; h++) {
            int o = (tile * words + chunkWord[c]) * TILE + (sv + h) * L, d = h * MAX_CHUNK * L;
            for (int w = 0; w < nw; w++, o += TILE) {
                IntVector v = ShortVector.fromArray(S, codes, o).reinterpretAsInts();
                // a constant shift per field: C2 unrolls this and shifts by an immediate
                for (int k = 0; k < 8; k++, d += L) {
                    v.and(0x00030003).reinterpretAsShorts().sub((short) 1).intoArray(tw, d);
                    v = v.lanewise(VectorOperators.LSHR, 2);
                }
            }
        }
    }

    /**
     * acc[(2i + h)·L ..] = Σ_k t[h][k]·x_i[k] (int16) over nk columns for the MR tokens of one register tile, x_i[k]
     * at xs[xo + k·MR + i]: 8 accumulators, 2 code vectors and a broadcast fit the 16 registers of AVX2 and SSE.
     */
    static void micro(short[] tw, short[] xs, int xo, int nk, short[] acc) {
        ShortVector z = ShortVector.zero(S);
        ShortVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        for (int k = 0; k < nk; k++) {
            ShortVector w0 = ShortVector.fromArray(S, tw, k * L), w1 = ShortVector.fromArray(S, tw, (MAX_CHUNK + k) * L);
            int xi = xo + k * MR;
            ShortVector b = ShortVector.broadcast(S, xs[xi]);
            c00 = c00.add(w0.mul(b));
            c01 = c01.add(w1.mul(b));
            b = ShortVector.broadcast(S, xs[xi + 1]);
            c10 = c10.add(w0.mul(b));
            c11 = c11.add(w1.mul(b));
            b = ShortVector.broadcast(S, xs[xi + 2]);
            c20 = c20.add(w0.mul(b));
            c21 = c21.add(w1.mul(b));
            b = ShortVector.broadcast(S, xs[xi + 3]);
            c30 = c30.add(w0.mul(b));
            c31 = c31.add(w1.mul(b));
        }
        // stored, not flushed here: with the flush's float code inlined as well, C2 ran out of its node budget and
        // left vector calls in the Java fallback
        c00.intoArray(acc, 0);
        c01.intoArray(acc, L);
        c10.intoArray(acc, 2 * L);
        c11.intoArray(acc, 3 * L);
        c20.intoArray(acc, 4 * L);
        c21.intoArray(acc, 5 * L);
        c30.intoArray(acc, 6 * L);
        c31.intoArray(acc, 7 * L);
    }

    /** One thread's buffers: a chunk's unpacked codes for two row vectors, the accumulators, f32 rows per token. */
    private static final class Scratch {
        final short[] tw = new short[2 * MAX_CHUNK * L], acc = new short[2 * MR * L];
        final float[] f;

        Scratch(int tokens) {
            f = new float[tokens * TILE];
        }
    }
}
