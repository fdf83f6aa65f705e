package dev.tern.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link TableKernel}'s prefill: slices of its packed codes ({@link TernaryPacking#packTable}) decoded to the exact
 * f32 weights α·t + μ and run through the panel GEMM of {@link PanelLinear}, as {@link FloatDecodeKernel} does for
 * the UNPACK layout. The decoded weights are the same floats, so the two prefill paths give the same bits, and
 * evaluation does not depend on which of the two kernels a machine picked.
 *
 * <p>Seen as four int lanes, a 16-byte word of a tile holds in lane m the rows m, 8 + m, 4 + m and 12 + m (bytes 0
 * to 3, {@link TernaryPacking#tableByte}), so shifting by 2f, 2f + 16, 2f + 8 and 2f + 24 and masking gives column
 * f's codes of rows 0–3, 4–7, 8–11 and 12–15 in order: four 128-bit conversions per column and tile, at any JVM
 * width.
 */
final class TableFloatKernel extends PanelLinear {
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

    private final int groups, words, tiles;
    private final int[] chunkStart, chunkGroup, chunkWord, colChunk;
    private final byte[] codes;
    private final float[] alpha, mu;

    /** The arrays are TableKernel's own (not copied); perm: the layer's column permutation, or null. */
    TableFloatKernel(int out, int in, int groups, int[] chunkStart, int[] chunkLen, int[] chunkGroup, int[] chunkWord,
            byte[] codes, float[] alpha, float[] mu, int[] perm) {
        super(out, in, perm);
        this.groups = groups;
        this.words = chunkWord[chunkWord.length - 1];
        this.tiles = (out + TableKernel.TILE - 1) / TableKernel.TILE;
        this.chunkStart = chunkStart;
        this.chunkGroup = chunkGroup;
        this.chunkWord = chunkWord;
        this.codes = codes;
        this.alpha = alpha;
        this.mu = mu;
        this.colChunk = new int[in];
        for (int c = 0; c < chunkStart.length; c++) java.util.Arrays.fill(colChunk, chunkStart[c], chunkStart[c] + chunkLen[c], c);
    }

    @Override
    public long weightBytes() {
        return 0; // the arrays belong to the TableKernel that owns this path
    }

    @Override
    public String format() {
        return "ternary-table-128";
    }

    /** One token, one panel: decoded slice by slice (only reached if a caller sends single tokens this way). */
    @Override
    void gemvPanel(float[] x, int xo, int p, float[] y, int yo) {
        float[] w = new float[KC * NR], acc = new float[NR];
        for (int k0 = 0; k0 < in; k0 += KC) {
            int kLen = Math.min(KC, in - k0);
            decode(p, k0, kLen, w);
            for (int k = 0; k < kLen; k++) {
                float xv = x[xo + (gather == null ? k0 + k : gather[k0 + k])];
                for (int i = 0; i < NR; i++) acc[i] = Math.fma(w[k * NR + i], xv, acc[i]);
            }
        }
        System.arraycopy(acc, 0, y, yo, NR);
    }

    @Override
    boolean decodes() {
        return true;
    }

    /**
     * dst[k·NR + i] = α·t + μ of panel p's row i and stored column k0 + k, for k < kLen; t = q − 1 is converted to
     * float and fma(t, α, μ) rounds once, as {@link FloatDecodeKernel#decode} and the record's dequantization do.
     * A panel is NR rows: half a 16-row tile at 128 bits, one or two tiles at 256 or 512.
     */
    @Override
    void decode(int p, int k0, int kLen, float[] dst) {
        for (int h = 0; h < NR / 8; h++) {
            int r = p * NR + 8 * h;
            if (r < tiles * TableKernel.TILE) {
                decodeHalf(r / TableKernel.TILE, (r % TableKernel.TILE) / 8, k0, kLen, dst, 8 * h);
            } else {
                // a wide panel past the last tile: rows the GEMM computes and then drops
                for (int k = 0; k < kLen; k++) java.util.Arrays.fill(dst, k * NR + 8 * h, k * NR + 8 * h + 8, 0f);
            }
        }
    }

    /** Rows 8·half .. 8·half + 7 of one tile into dst[k·NR + rowOff ..]: rows 0–3 and 4–7 of the half, as two quads. */
    private void decodeHalf(int tile, int half, int k0, int kLen, float[] dst, int rowOff) {
        int end = k0 + kLen, sLo = 8 * half, sHi = 16 + 8 * half;
        int k = k0;
        while (k < end) {
            int c = colChunk[k], g = chunkGroup[c];
            int cEnd = Math.min(end, c + 1 < chunkStart.length ? chunkStart[c + 1] : in);
            int po = (tile * groups + g) * TableKernel.TILE + 8 * half;
            FloatVector aLo = FloatVector.fromArray(F4, alpha, po), aHi = FloatVector.fromArray(F4, alpha, po + 4), mLo = FloatVector.zero(F4), mHi = mLo;
            if (mu != null) {
                mLo = FloatVector.fromArray(F4, mu, po);
                mHi = FloatVector.fromArray(F4, mu, po + 4);
            }
            for (; k < cEnd; k++) {
                int j = k - chunkStart[c], f2 = 2 * (j & 3), d = (k - k0) * NR + rowOff;
                IntVector w = ByteVector.fromArray(B16, codes, (tile * words + chunkWord[c] + (j >> 2)) * 16).reinterpretAsInts();
                FloatVector lo = (FloatVector) w.lanewise(VectorOperators.LSHR, f2 + sLo).and(3).sub(1).convert(VectorOperators.I2F, 0);
                FloatVector hi = (FloatVector) w.lanewise(VectorOperators.LSHR, f2 + sHi).and(3).sub(1).convert(VectorOperators.I2F, 0);
                lo.fma(aLo, mLo).intoArray(dst, d);
                hi.fma(aHi, mHi).intoArray(dst, d + 4);
            }
        }
    }
}
