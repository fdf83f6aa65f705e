package dev.tern.kernels;

/**
 * Packs ternary codes (one byte per weight in {-1,0,1}, rows x cols, stored column order) into the kernel layouts,
 * and back. Both layouts pad every group to a whole number of code units, so a unit never straddles a group
 * boundary and the per-group scale applies to a clean partial sum; padding trits are 0.
 *
 * <ul>
 *   <li>UNPACK (see {@link #packUnpack}): 2-bit q = t + 1, 8 columns per 16-bit lane, one lane per row; chunks of
 *       at most 128 columns per group. 2.0 bits per weight of codes.
 *   <li>LUT3 (see {@link #packLut3}): 3 trits per 5-bit code, 3 codes per 16-bit lane, 32-row tiles; 2048
 *       columns = 230 words = 460 bytes per row (1.80 bits per weight).
 * </ul>
 */
public final class TernaryPacking {
    private static final int[] POW3 = {1, 3, 9, 27, 81};

    private TernaryPacking() {}

    public static int groups(int cols, int groupSize) {
        return (cols + groupSize - 1) / groupSize;
    }

    /** Triples per full group in the LUT3 layout: the group is padded with t = 0 to a multiple of 3 columns. */
    public static int lut3TriplesPerGroup(int groupSize) {
        return (groupSize + 2) / 3;
    }

    /** Exclusive end triple of every group (the last group may be shorter). */
    public static int[] lut3GroupEnds(int cols, int groupSize) {
        int groups = groups(cols, groupSize), tpg = lut3TriplesPerGroup(groupSize);
        int[] end = new int[groups];
        for (int g = 0; g < groups; g++) end[g] = g * tpg + (Math.min(groupSize, cols - g * groupSize) + 2) / 3;
        return end;
    }

    /** Full groups of a LUT3 row taken three at a time ("super-groups", see {@link #packLut3}). */
    public static int lut3SuperGroups(int cols, int groupSize) {
        return cols / groupSize / 3;
    }

    /** 16-bit words per LUT3 row: three 5-bit triple codes per word. */
    public static int lut3Words(int cols, int groupSize) {
        int[] end = lut3GroupEnds(cols, groupSize);
        int tpg = lut3TriplesPerGroup(groupSize), sg = lut3SuperGroups(cols, groupSize);
        return sg * tpg + (end[end.length - 1] - 3 * sg * tpg + 2) / 3;
    }

    /** Row tiles of 32 rows (the last one padded with t = 0). */
    public static int lut3Tiles(int rows) {
        return (rows + 31) / 32;
    }

    /** 3·word + field holding triple j (see {@link #packLut3}). */
    static int lut3Slot(int j, int cols, int groupSize) {
        int tpg = lut3TriplesPerGroup(groupSize), sg = lut3SuperGroups(cols, groupSize);
        if (j < 3 * sg * tpg) {
            int g = j / tpg;
            return 3 * ((g / 3) * tpg + j - g * tpg) + g % 3;
        }
        return j; // the tail keeps consecutive triples, three per word, right after the super-groups
    }

    /**
     * LUT3 layout: per 32-row tile and word w, 32 shorts (lane = row in the tile); bits 5f..5f+4 of a short hold the
     * code of one triple of columns, code = Σ_k (t_k + 1)·3^k (0..26; padding trits are 0, code 13). Group g's
     * columns start at triple g·ceil(groupSize/3), so a triple never straddles two groups. Full groups are taken
     * three at a time: word k of super-group s holds triple k of groups 3s, 3s + 1, 3s + 2 in fields 0, 1, 2, so one
     * code load serves three group accumulators and no word straddles a group. The remaining groups (at most two
     * full ones and a partial last one) follow with consecutive triples, three per word.
     */
    public static short[] packLut3(byte[] codes, int rows, int cols, int groupSize) {
        int words = lut3Words(cols, groupSize), tiles = lut3Tiles(rows), tpg = lut3TriplesPerGroup(groupSize);
        int[] end = lut3GroupEnds(cols, groupSize);
        int triples = end[end.length - 1];
        int[] slot = new int[triples];
        for (int j = 0; j < triples; j++) slot[j] = lut3Slot(j, cols, groupSize);
        int[] digits = new int[3 * triples];
        int[] word = new int[words];
        short[] out = new short[tiles * words * 32];
        for (int r = 0; r < tiles * 32; r++) {
            java.util.Arrays.fill(digits, 1);
            if (r < rows) {
                for (int j = 0; j < cols; j++) {
                    int t = codes[r * cols + j];
                    if (t < -1 || t > 1) throw new IllegalArgumentException("code " + t + " not ternary");
                    int g = j / groupSize;
                    digits[3 * g * tpg + j - g * groupSize] = t + 1;
                }
            }
            // unused fields hold code 13 (three zero trits)
            java.util.Arrays.fill(word, 13 | 13 << 5 | 13 << 10);
            for (int j = 0; j < triples; j++) {
                int code = digits[3 * j] + 3 * digits[3 * j + 1] + 9 * digits[3 * j + 2], w = slot[j] / 3, f = slot[j] % 3;
                word[w] = (word[w] & ~(31 << (5 * f))) | code << (5 * f);
            }
            for (int w = 0; w < words; w++) out[((r / 32) * words + w) * 32 + r % 32] = (short) word[w];
        }
        return out;
    }

    public static byte[] unpackLut3(short[] packed, int rows, int cols, int groupSize) {
        int words = lut3Words(cols, groupSize), tpg = lut3TriplesPerGroup(groupSize);
        byte[] codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                int g = j / groupSize, p = 3 * g * tpg + j - g * groupSize, slot = lut3Slot(p / 3, cols, groupSize);
                int v = packed[((r / 32) * words + slot / 3) * 32 + r % 32];
                int code = (v >>> (5 * (slot % 3))) & 31;
                codes[r * cols + j] = (byte) ((code / POW3[p % 3]) % 3 - 1);
            }
        }
        return codes;
    }

    // ---------------------------------------------------------------- UNPACK layout (2-bit codes, lane = row)

    /** Column chunks of the UNPACK layout: each at most 128 columns inside one group; words = 8 columns. */
    public record Chunks(int[] start, int[] len, int[] group, int[] word, int words) {}

    /** Chunks of up to 128 columns in every group (the unit of one activation scale and one int16 sum). */
    public static Chunks unpackChunks(int cols, int groupSize) {
        int groups = groups(cols, groupSize), per = (groupSize + 127) / 128, n = 0;
        int[] start = new int[groups * per], len = new int[start.length], group = new int[start.length], word = new int[start.length];
        int w = 0;
        for (int g = 0; g < groups; g++) {
            int end = Math.min(cols, (g + 1) * groupSize);
            for (int c0 = g * groupSize; c0 < end; c0 += 128, n++) {
                start[n] = c0;
                len[n] = Math.min(128, end - c0);
                group[n] = g;
                word[n] = w;
                w += (len[n] + 7) / 8;
            }
        }
        return new Chunks(java.util.Arrays.copyOf(start, n), java.util.Arrays.copyOf(len, n), java.util.Arrays.copyOf(group, n),
                java.util.Arrays.copyOf(word, n), w);
    }

    /**
     * Lane of row j of a tile in the UNPACK layout for vectors of `lanes` 16-bit lanes: within each vector's rows,
     * the first half goes to the even lanes and the second half to the odd lanes. Seen as 32-bit lanes, the low
     * halves then hold rows 0..lanes/2−1 and the high halves the rest, in order, so the kernels widen int16 sums to
     * f32 with two shifts and no cross-lane shuffle (which AVX2 can only emulate).
     */
    static int unpackLane(int j, int lanes) {
        int base = j - j % lanes, i = j % lanes, half = lanes / 2;
        return base + (i < half ? 2 * i : 2 * (i - half) + 1);
    }

    /**
     * UNPACK layout: per tile of `tile` rows and word w, `tile` shorts, one lane per row ({@link #unpackLane});
     * bits 2k..2k+1 of a short hold q = t + 1 of column 8·(w − chunk's first word) + k of the chunk. Padding
     * (rows past the end, columns past a chunk) holds q = 1, i.e. t = 0.
     */
    public static short[] packUnpack(byte[] codes, int rows, int cols, int groupSize, int tile, int lanes) {
        Chunks ch = unpackChunks(cols, groupSize);
        int tiles = (rows + tile - 1) / tile, words = ch.words(), nc = ch.start().length;
        int[] start = ch.start(), len = ch.len(), word = ch.word();
        short[] out = new short[tiles * words * tile];
        // row tiles in parallel: a TinyLlama-sized model has about a billion codes to pack at load time
        dev.tern.util.Parallel.forRange(tiles, 1, (t0, t1) -> {
            for (int r = t0 * tile; r < t1 * tile; r++) { // rows past the end are padding (q = 1)
                int base = (r / tile) * words * tile + unpackLane(r % tile, lanes), ro = r * cols;
                for (int c = 0; c < nc; c++) {
                    for (int w = 0, j = 0; j < len[c]; w++) {
                        int v = 0;
                        for (int k = 0; k < 8; k++, j++) {
                            int q = 1;
                            if (r < rows && j < len[c]) {
                                q = codes[ro + start[c] + j] + 1;
                                if (q < 0 || q > 2) throw new IllegalArgumentException("code " + (q - 1) + " not ternary");
                            }
                            v |= q << 2 * k;
                        }
                        out[base + (word[c] + w) * tile] = (short) v;
                    }
                }
            }
        });
        return out;
    }

    public static byte[] unpackUnpack(short[] packed, int rows, int cols, int groupSize, int tile, int lanes) {
        Chunks ch = unpackChunks(cols, groupSize);
        int words = ch.words();
        byte[] codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            int base = (r / tile) * words * tile + unpackLane(r % tile, lanes);
            for (int c = 0; c < ch.start().length; c++) {
                for (int j = 0; j < ch.len()[c]; j++) {
                    int w = ch.word()[c] + j / 8, k = j % 8;
                    codes[r * cols + ch.start()[c] + j] = (byte) (((packed[base + w * tile] >>> 2 * k) & 3) - 1);
                }
            }
        }
        return codes;
    }

    /**
     * Words of 4 columns per chunk ({@link #unpackChunks}) in the TABLE layout, padded to whole blocks of
     * {@link TableKernel#BLOCK} words: the first word of each chunk, then the total.
     */
    public static int[] tableWords(Chunks ch) {
        int n = ch.start().length, b = TableKernel.BLOCK;
        int[] w = new int[n + 1];
        for (int c = 0; c < n; c++) w[c + 1] = w[c] + ((ch.len()[c] + 3) / 4 + b - 1) / b * b;
        return w;
    }

    /**
     * Byte lane of row j (0..15) of a 16-row tile in the TABLE layout: the rows whose sums a byte lookup leaves in
     * the even bytes are j with unpackLane(j, 8) &lt; 8, the others go to the odd bytes, so that after the even and odd
     * bytes are summed as two vectors of 8 shorts their int views widen like the UNPACK layout's ({@link #unpackLane}).
     */
    static int tableByte(int j) {
        int s = unpackLane(j, 8);
        return s < 8 ? 2 * s : 2 * (s - 8) + 1;
    }

    /**
     * TABLE layout: per tile of 16 rows and word w (4 columns of a chunk), 16 bytes, one per row ({@link #tableByte});
     * bits 2k..2k+1 hold q = t + 1 of column 4·(w − chunk's first word) + k, so each nibble is one column pair's
     * 4-bit table index. Padding holds q = 1 (t = 0).
     */
    public static byte[] packTable(byte[] codes, int rows, int cols, int groupSize) {
        Chunks ch = unpackChunks(cols, groupSize);
        int[] cw = tableWords(ch);
        int tiles = (rows + 15) / 16, words = cw[cw.length - 1], nc = ch.start().length;
        byte[] out = new byte[tiles * words * 16];
        java.util.Arrays.fill(out, (byte) 0x55);
        dev.tern.util.Parallel.forRange(tiles, 1, (t0, t1) -> {
            for (int r = t0 * 16; r < Math.min(rows, t1 * 16); r++) {
                int base = (r / 16) * words * 16 + tableByte(r % 16), ro = r * cols;
                for (int c = 0; c < nc; c++) {
                    for (int j = 0; j < ch.len()[c]; j++) {
                        int q = codes[ro + ch.start()[c] + j] + 1;
                        if (q < 0 || q > 2) throw new IllegalArgumentException("code " + (q - 1) + " not ternary");
                        int o = base + (cw[c] + j / 4) * 16, sh = 2 * (j % 4);
                        out[o] = (byte) (out[o] & ~(3 << sh) | q << sh);
                    }
                }
            }
        });
        return out;
    }

    public static byte[] unpackTable(byte[] packed, int rows, int cols, int groupSize) {
        Chunks ch = unpackChunks(cols, groupSize);
        int[] cw = tableWords(ch);
        int words = cw[cw.length - 1];
        byte[] codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            int base = (r / 16) * words * 16 + tableByte(r % 16);
            for (int c = 0; c < ch.start().length; c++) {
                for (int j = 0; j < ch.len()[c]; j++) {
                    codes[r * cols + ch.start()[c] + j] = (byte) (((packed[base + (cw[c] + j / 4) * 16] >>> 2 * (j % 4)) & 3) - 1);
                }
            }
        }
        return codes;
    }

    /** [row][group] → [tile][group][lane] with the lanes of {@link #unpackLane}; padding rows get 0. */
    public static short[] tileOrder(short[] p, int rows, int groups, int tile, int lanes) {
        int tiles = (rows + tile - 1) / tile;
        short[] t = new short[tiles * groups * tile];
        for (int r = 0; r < rows; r++) {
            int lane = unpackLane(r % tile, lanes);
            for (int g = 0; g < groups; g++) t[((r / tile) * groups + g) * tile + lane] = p[r * groups + g];
        }
        return t;
    }

    /**
     * f16 [row][group] scales → f32 in {@link #tileOrder}, each block of `lanes` lanes (one 16-bit vector of a tile)
     * reordered to its even lanes then its odd ones: a 16-bit vector seen as int lanes holds the even lanes' rows in its low halves and the
     * odd lanes' in its high halves, so the flush after an int16 dot product reads the two halves' scales with two
     * plain f32 loads. (Converting f16 in the flush with shifts and masks had cost 25-45 % of decode speed.)
     */
    static float[] tileScalesF32(short[] f16, int rows, int groups, int tile, int lanes) {
        return splitHalvesF32(tileOrder(f16, rows, groups, tile, lanes), lanes);
    }

    /** The reordering and widening of {@link #tileScalesF32}, on scales already in tile order. */
    private static float[] splitHalvesF32(short[] f16, int block) {
        if (f16.length % block != 0) throw new IllegalArgumentException(f16.length + " scales, blocks of " + block);
        float[] f = new float[f16.length];
        int half = block / 2;
        for (int b = 0; b < f16.length; b += block) {
            for (int j = 0; j < half; j++) {
                f[b + j] = Float.float16ToFloat(f16[b + 2 * j]);
                f[b + half + j] = Float.float16ToFloat(f16[b + 2 * j + 1]);
            }
        }
        return f;
    }

    /** f32 → f16 bits per element (round to nearest even), for the per-group parameters. */
    public static short[] toF16(float[] a) {
        short[] s = new short[a.length];
        for (int i = 0; i < a.length; i++) s[i] = Float.floatToFloat16(a[i]);
        return s;
    }

    public static float[] fromF16(short[] s) {
        float[] a = new float[s.length];
        for (int i = 0; i < s.length; i++) a[i] = Float.float16ToFloat(s[i]);
        return a;
    }
}
