package dev.tern.kernels;

/**
 * Packs ternary codes (one byte per weight in {-1,0,1}, rows x cols, stored column order) into the kernel
 * layouts, and back.
 *
 * <p>Both layouts pad every group to a whole number of code units, so a unit never straddles a group boundary and
 * the per-group scale can be applied to a clean partial sum; the padding trits are 0 and cost
 * {@code (ceil(g/5)*5 - g)} trits per group (2 of 130 for g = 128).
 *
 * <ul>
 *   <li>BASE3: 5 trits per byte, byte = sum (t_k + 1) * 3^k, k = 0..4 over consecutive stored columns (values
 *       0..242). Row r, group g, chunk c lives at {@code r * base3RowBytes + g * ceil(groupSize/5) + c}.
 *   <li>PLANES2: two bit-planes per group of 64-column words: nonzero (bit set when t != 0) and negative (bit set when
 *       t == -1). Word w of group g in row r lives at {@code (r * groups + g) * planeWordsPerGroup + w}.
 *   <li>SLICED (digit-sliced base 3, see {@link #packSliced}): 5 trits per byte as base-3 digits, 32 bytes per chunk
 *       of 160 columns, arranged so that digit i of a chunk's 32 bytes is the trits of 32 contiguous columns. Rows
 *       are cut into 640-column superblocks of 4 chunks, where digit i of chunk k holds columns 128i + 32k + b (so
 *       digit i of the 4 chunks is exactly the i-th 128-column group), then a tail of R < 640 columns in
 *       ceil(R/160) chunks where digit i of chunk c holds columns 160c + 32i + b. The tail is padded with t = 0:
 *       2048 columns = 13 chunks = 416 bytes (1.625 bit per weight).
 *   <li>LUT3 (see {@link #packLut3}): 3 trits per 5-bit code, 3 codes per 16-bit lane, 32-row tiles; 2048
 *       columns = 230 words = 460 bytes per row (1.80 bit per weight).
 * </ul>
 */
public final class TernaryPacking {
    private TernaryPacking() {}

    public static int groups(int cols, int groupSize) {
        return (cols + groupSize - 1) / groupSize;
    }

    /** Bytes per base-3 group (full group). */
    public static int base3ChunksPerGroup(int groupSize) {
        return (groupSize + 4) / 5;
    }

    /** Bytes per packed row: full groups plus a possibly shorter last group. */
    public static int base3RowBytes(int cols, int groupSize) {
        int full = cols / groupSize, rem = cols % groupSize;
        return full * base3ChunksPerGroup(groupSize) + (rem + 4) / 5;
    }

    public static byte[] packBase3(byte[] codes, int rows, int cols, int groupSize) {
        int rowBytes = base3RowBytes(cols, groupSize), cpg = base3ChunksPerGroup(groupSize);
        byte[] out = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++) {
            for (int g0 = 0, g = 0; g0 < cols; g0 += groupSize, g++) {
                int len = Math.min(groupSize, cols - g0);
                for (int c = 0; c * 5 < len; c++) {
                    int v = 0;
                    for (int k = 4; k >= 0; k--) {
                        int j = c * 5 + k;
                        int t = j < len ? codes[r * cols + g0 + j] : 0;
                        if (t < -1 || t > 1) throw new IllegalArgumentException("code " + t + " not ternary");
                        v = v * 3 + (t + 1);
                    }
                    out[r * rowBytes + g * cpg + c] = (byte) v;
                }
            }
        }
        return out;
    }

    public static byte[] unpackBase3(byte[] packed, int rows, int cols, int groupSize) {
        int rowBytes = base3RowBytes(cols, groupSize), cpg = base3ChunksPerGroup(groupSize);
        byte[] codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int g0 = 0, g = 0; g0 < cols; g0 += groupSize, g++) {
                int len = Math.min(groupSize, cols - g0);
                for (int c = 0; c * 5 < len; c++) {
                    int v = packed[r * rowBytes + g * cpg + c] & 0xff;
                    for (int k = 0; k < 5; k++, v /= 3) {
                        int j = c * 5 + k;
                        if (j < len) codes[r * cols + g0 + j] = (byte) (v % 3 - 1);
                    }
                }
            }
        }
        return codes;
    }

    /** 160-column chunks per sliced row: 4 per full 640-column superblock, then ceil(tail / 160). */
    public static int slicedChunks(int cols) {
        return 4 * (cols / 640) + (cols % 640 + 159) / 160;
    }

    public static int slicedRowBytes(int cols) {
        return 32 * slicedChunks(cols);
    }

    /** Stored column held by digit i (0 = most significant) of byte b of chunk c (see the class comment). */
    static int slicedColumn(int cols, int c, int i, int b) {
        int sb = cols / 640;
        if (c < 4 * sb) return 640 * (c / 4) + 128 * i + 32 * (c % 4) + b;
        return 640 * sb + 160 * (c - 4 * sb) + 32 * i + b;
    }

    /**
     * Byte stored for the base-3 value v = sum d_i * 3^(4-i) (digit 0 most significant): q = ceil(v * 256 / 243),
     * the llama.cpp TQ1_0 encoding. It makes q * 3^i mod 256 a fixed-point fraction whose top base-3 digit is d_i,
     * so a kernel extracts any digit with one 16-bit multiply and compares, without divisions.
     */
    static int slicedByte(int v) {
        return (v * 256 + 242) / 243;
    }

    private static final int[] POW3 = {1, 3, 9, 27, 81};

    /** Digit i (0..2, trit + 1) of a sliced byte q: floor(3 * frac(q * 3^i / 256)). */
    static int slicedDigit(int q, int i) {
        return (((q * POW3[i]) & 0xff) * 3) >> 8;
    }

    /**
     * Byte offset inside a sliced row of byte b of chunk c. Chunks are stored in pairs of 64 bytes, interleaved so
     * that a 512-bit load seen as 32 shorts has chunk 2p in the high byte and chunk 2p+1 in the low byte of each
     * lane: (short & 0xff00) and (short << 8) are then both "code << 8", ready for the digit multiply. An odd last
     * chunk is stored plainly (32 bytes) after the pairs.
     */
    static int slicedOffset(int c, int b, int pairs) {
        return c < 2 * pairs ? 64 * (c >> 1) + 2 * b + ((c & 1) == 0 ? 1 : 0) : 64 * pairs + b;
    }

    /** Digit-sliced base-3 layout (see the class comment): rows * slicedRowBytes(cols) bytes. */
    public static byte[] packSliced(byte[] codes, int rows, int cols) {
        int nc = slicedChunks(cols), rb = 32 * nc, pairs = nc / 2;
        byte[] out = new byte[rows * rb];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < nc; c++) {
                for (int b = 0; b < 32; b++) {
                    int v = 0;
                    for (int i = 0; i < 5; i++) {
                        int j = slicedColumn(cols, c, i, b);
                        int t = j < cols ? codes[r * cols + j] : 0;
                        if (t < -1 || t > 1) throw new IllegalArgumentException("code " + t + " not ternary");
                        v = v * 3 + (t + 1);
                    }
                    out[r * rb + slicedOffset(c, b, pairs)] = (byte) slicedByte(v);
                }
            }
        }
        return out;
    }

    public static byte[] unpackSliced(byte[] packed, int rows, int cols) {
        int nc = slicedChunks(cols), rb = 32 * nc, pairs = nc / 2;
        byte[] codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < nc; c++) {
                for (int b = 0; b < 32; b++) {
                    int q = packed[r * rb + slicedOffset(c, b, pairs)] & 0xff;
                    for (int i = 0; i < 5; i++) {
                        int j = slicedColumn(cols, c, i, b);
                        if (j < cols) codes[r * cols + j] = (byte) (slicedDigit(q, i) - 1);
                    }
                }
            }
        }
        return codes;
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

    public static int planeWordsPerGroup(int groupSize) {
        return (groupSize + 63) / 64;
    }

    /** Nonzero and negative bit-planes, each rows * groups * planeWordsPerGroup longs. */
    public record Planes(long[] nonzero, long[] negative) {}

    public static Planes packPlanes(byte[] codes, int rows, int cols, int groupSize) {
        int groups = groups(cols, groupSize), wpg = planeWordsPerGroup(groupSize);
        long[] nz = new long[rows * groups * wpg], neg = new long[nz.length];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                int t = codes[r * cols + j];
                if (t < -1 || t > 1) throw new IllegalArgumentException("code " + t + " not ternary");
                int g = j / groupSize, jj = j % groupSize;
                int w = (r * groups + g) * wpg + jj / 64;
                long bit = 1L << (jj % 64);
                if (t != 0) nz[w] |= bit;
                if (t < 0) neg[w] |= bit;
            }
        }
        return new Planes(nz, neg);
    }

    public static byte[] unpackPlanes(Planes p, int rows, int cols, int groupSize) {
        int groups = groups(cols, groupSize), wpg = planeWordsPerGroup(groupSize);
        byte[] codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                int g = j / groupSize, jj = j % groupSize;
                int w = (r * groups + g) * wpg + jj / 64;
                long bit = 1L << (jj % 64);
                codes[r * cols + j] = (byte) ((p.nonzero()[w] & bit) == 0 ? 0 : (p.negative()[w] & bit) != 0 ? -1 : 1);
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
     * UNPACK layout: per tile of `tile` rows and word w, `tile` shorts (lane = row in the tile); bits 2k..2k+1 of a
     * short hold q = t + 1 of column 8·(w − chunk's first word) + k of the chunk. Padding (rows past the end,
     * columns past a chunk) holds q = 1, i.e. t = 0.
     */
    public static short[] packUnpack(byte[] codes, int rows, int cols, int groupSize, int tile) {
        Chunks ch = unpackChunks(cols, groupSize);
        int tiles = (rows + tile - 1) / tile, words = ch.words();
        short[] out = new short[tiles * words * tile];
        java.util.Arrays.fill(out, (short) 0x5555);
        for (int r = 0; r < rows; r++) {
            int base = (r / tile) * words * tile + r % tile;
            for (int c = 0; c < ch.start().length; c++) {
                for (int j = 0; j < ch.len()[c]; j++) {
                    int t = codes[r * cols + ch.start()[c] + j];
                    if (t < -1 || t > 1) throw new IllegalArgumentException("code " + t + " not ternary");
                    int w = ch.word()[c] + j / 8, k = j % 8, o = base + w * tile;
                    out[o] = (short) ((out[o] & ~(3 << 2 * k)) | (t + 1) << 2 * k);
                }
            }
        }
        return out;
    }

    public static byte[] unpackUnpack(short[] packed, int rows, int cols, int groupSize, int tile) {
        Chunks ch = unpackChunks(cols, groupSize);
        int words = ch.words();
        byte[] codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            int base = (r / tile) * words * tile + r % tile;
            for (int c = 0; c < ch.start().length; c++) {
                for (int j = 0; j < ch.len()[c]; j++) {
                    int w = ch.word()[c] + j / 8, k = j % 8;
                    codes[r * cols + ch.start()[c] + j] = (byte) (((packed[base + w * tile] >>> 2 * k) & 3) - 1);
                }
            }
        }
        return codes;
    }

    /** [row][group] → [tile][group][lane], lane = row within the tile; padding rows get 0. */
    public static short[] tileOrder(short[] p, int rows, int groups, int tile) {
        int tiles = (rows + tile - 1) / tile;
        short[] t = new short[tiles * groups * tile];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) t[((r / tile) * groups + g) * tile + r % tile] = p[r * groups + g];
        }
        return t;
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
