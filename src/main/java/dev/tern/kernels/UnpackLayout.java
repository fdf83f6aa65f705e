package dev.tern.kernels;

/**
 * Packed codes and scales shared by {@link UnpackKernel} and {@link FloatDecodeKernel}: rows in tiles of
 * {@link #TILE}, one 16-bit lane per row (rows interleaved so that the 32-bit halves of a vector hold the first and
 * second half of its rows, {@link TernaryPacking#unpackLane}); a word holds 8 consecutive stored columns as
 * q = t + 1 in bits 2k..2k+1 ({@link TernaryPacking#packUnpack}). Columns are cut into chunks of at most 128 inside each group
 * ({@link TernaryPacking#unpackChunks}), each padded to whole words with t = 0. α and μ (f16 values) are held as
 * f32 in [tile][group][lane] order, each vector's lanes split into its even then odd ones
 * ({@link TernaryPacking#tileScalesF32}). 2 bits of codes plus 64 bits of α and μ per row and group: 2.5 bits per
 * weight in memory for groups of 128 (2.25 in the checkpoint).
 */
record UnpackLayout(int out, int in, int groupSize, int groups, int tiles, TernaryPacking.Chunks chunks, short[] codes,
        float[] alpha, float[] mu) {
    /** 16-bit lanes per vector at this JVM's preferred width. */
    static final int LANES = jdk.incubator.vector.ShortVector.SPECIES_PREFERRED.length();
    /** Rows per tile: four vectors (32 rows at 128 bits, 64 at 256, 128 at 512), which the kernels process together. */
    static final int TILE = 4 * LANES;

    /** codes: rows × cols in stored column order, values in {-1, 0, 1}; alpha, mu: f16 [row][group] (mu may be null). */
    static UnpackLayout pack(int out, int in, int groupSize, byte[] codes, short[] alpha, short[] mu) {
        if (out <= 0 || in <= 0 || groupSize <= 0) throw new IllegalArgumentException("bad shape " + out + "x" + in + "/" + groupSize);
        int groups = TernaryPacking.groups(in, groupSize);
        return new UnpackLayout(out, in, groupSize, groups, (out + TILE - 1) / TILE, TernaryPacking.unpackChunks(in, groupSize),
                TernaryPacking.packUnpack(codes, out, in, groupSize, TILE, LANES), TernaryPacking.tileScalesF32(alpha, out, groups, TILE, LANES),
                mu == null ? null : TernaryPacking.tileScalesF32(mu, out, groups, TILE, LANES));
    }

    /** The same layout over fresh copies of the codes and scales. */
    UnpackLayout copy() {
        return new UnpackLayout(out, in, groupSize, groups, tiles, chunks, codes.clone(), alpha.clone(), mu == null ? null : mu.clone());
    }

    int words() {
        return chunks.words();
    }

    long residentBytes() {
        return 2L * codes.length + 4L * alpha.length + (mu == null ? 0 : 4L * mu.length);
    }
}
