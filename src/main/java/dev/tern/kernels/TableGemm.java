package dev.tern.kernels;

import dev.tern.util.Parallel;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Prefill for the {@link TableKernel} codes: the same 16-bit integer GEMM as {@link UnpackGemm} (its register tile
 * and activation rounding), fed by unpacking the table layout's bytes instead of unpack's words. A register tile's
 * two row vectors hold 2·L rows, i.e. 2·L/16 table tiles, each tile's even-byte rows then odd-byte rows, which is
 * the order of the table decode's int16 sums; those sums are then finished by the table kernel itself
 * ({@link TableKernel#finishRows}), so every prefilled token gets the bits the table decode gives it, which are
 * unpack's.
 */
final class TableGemm {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final int L = ShortVector.SPECIES_PREFERRED.length(), MR = UnpackGemm.MR, MAX_CHUNK = UnpackGemm.MAX_CHUNK;
    /** Table tiles (16 rows) per register tile of 2·L rows. */
    private static final int G = 2 * L / TableKernel.TILE;

    private final TableKernel kernel;
    private final int in, tiles, words, chunks;
    private final int[] chunkStart, chunkLen, chunkWord;
    /** First column of each chunk among the columns padded to whole table words (4 per word). */
    private final int[] chunkColumn;
    private final byte[] codes;

    /** chunkWord: first table word of each chunk, and the total at [chunks]; codes: {@link TernaryPacking#packTable}. */
    TableGemm(TableKernel kernel, int in, int tiles, int[] chunkStart, int[] chunkLen, int[] chunkWord, byte[] codes) {
        this.kernel = kernel;
        this.in = in;
        this.tiles = tiles;
        this.chunkStart = chunkStart;
        this.chunkLen = chunkLen;
        this.chunkWord = chunkWord;
        this.chunks = chunkStart.length;
        this.words = chunkWord[chunks];
        this.chunkColumn = new int[chunks];
        for (int c = 0; c < chunks; c++) chunkColumn[c] = 4 * chunkWord[c];
        this.codes = codes;
    }

    /** y[t][out] for xp[t][in] in stored column order; gs[t][groups] the group sums of xp (null without μ). */
    void apply(float[] xp, float[] gs, float[] y, int tokens) {
        short[] xs = new short[(tokens + MR - 1) / MR * MR * 4 * words];
        float[] dq = new float[tokens * chunks];
        UnpackGemm.quantize(xp, tokens, in, chunkStart, chunkLen, chunkColumn, 4 * words, xs, dq);
        int rowBlocks = (tiles + G - 1) / G, blocks = (tokens + UnpackGemm.TOKEN_BLOCK - 1) / UnpackGemm.TOKEN_BLOCK;
        Parallel.forRange(rowBlocks * blocks, 1, (a, b) -> {
            int n = Math.min(tokens, UnpackGemm.TOKEN_BLOCK);
            short[] tw = new short[2 * MAX_CHUNK * L], acc = new short[2 * MR * L], sums = new short[n * G * 16 * chunks];
            float[] f = new float[TableKernel.TILE];
            for (int item = a; item < b; item++) {
                int rb = item / blocks, t0 = (item % blocks) * UnpackGemm.TOKEN_BLOCK;
                blockRows(rb, t0, Math.min(tokens, t0 + UnpackGemm.TOKEN_BLOCK), xs, dq, gs, y, tw, acc, sums, f);
            }
        });
    }

    /** Rows of the G table tiles of register block rb for tokens [t0, t1): all chunks' int16 sums, then the flush. */
    private void blockRows(int rb, int t0, int t1, short[] xs, float[] dq, float[] gs, float[] y, short[] tw, short[] acc, short[] sums, float[] f) {
        int stride = 16 * chunks;
        for (int c = 0; c < chunks; c++) {
            unpack(rb, c, tw);
            int nk = 4 * (chunkWord[c + 1] - chunkWord[c]);
            for (int t = t0; t < t1; t += MR) {
                UnpackGemm.micro(tw, xs, ((t / MR) * 4 * words + chunkColumn[c]) * MR, nk, acc);
                for (int i = 0, m = Math.min(MR, t1 - t); i < m; i++) {
                    for (int j = 0; j < G; j++) System.arraycopy(acc, 2 * i * L + 16 * j, sums, ((t + i - t0) * G + j) * stride + 16 * c, 16);
                }
            }
        }
        for (int t = t0; t < t1; t++) {
            for (int j = 0, tile = rb * G; j < G && tile < tiles; j++, tile++) kernel.finishRows(tile, sums, ((t - t0) * G + j) * stride, dq, t, gs, y, f);
        }
    }

    /**
     * tw as {@link UnpackGemm#micro} reads it, t = q − 1 of chunk c for register block rb: table tile j's even-byte
     * rows at lanes 16j..16j+7 of the two vectors seen end to end, its odd-byte rows at 16j+8..16j+15; tiles past
     * the last are zero.
     */
    private void unpack(int rb, int c, short[] tw) {
        int w0 = chunkWord[c], nw = chunkWord[c + 1] - w0;
        for (int j = 0; j < G; j++) {
            int tile = rb * G + j;
            for (int h = 0; h < 2; h++) {
                int lane = 16 * j + 8 * h, d0 = (lane / L) * MAX_CHUNK * L + lane % L;
                if (tile >= tiles) {
                    for (int k = 0; k < 4 * nw; k++) java.util.Arrays.fill(tw, d0 + k * L, d0 + k * L + 8, (short) 0);
                    continue;
                }
                for (int w = 0, o = (tile * words + w0) * 16; w < nw; w++, o += 16) {
                    // seen as 8 shorts, short i holds bytes 2i (low) and 2i + 1 (high): the even-byte rows' fields
                    // are the low byte of each short, the odd-byte rows' the high byte
                    IntVector v = ByteVector.fromArray(B, codes, o).reinterpretAsInts();
                    if (h == 1) v = v.lanewise(VectorOperators.LSHR, 8);
                    for (int k = 0; k < 4; k++) {
                        v.and(0x00030003).reinterpretAsShorts().sub((short) 1).intoArray(tw, d0 + (4 * w + k) * L);
                        v = v.lanewise(VectorOperators.LSHR, 2);
                    }
                }
            }
        }
    }
}
