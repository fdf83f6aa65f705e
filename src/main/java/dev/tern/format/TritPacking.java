package dev.tern.format;

/**
 * The on-disk code layouts of Tern checkpoints: ternary codes base-3, five trits per byte (1.6 bits/weight, the
 * densest byte-aligned packing: 3^5 = 243 ≤ 256), and k-bit uniform codes as a little-endian bit stream per row.
 *
 * <p>Trit j of a row lives in byte j/5 as digit j%5: byte = Σ (t_i + 1)·3^i. Kernels may repack into their own
 * resident layout; this one is about compact, simple, byte-stable files.
 */
public final class TritPacking {
    private TritPacking() {}

    public static int bytesPerRow(int cols) {
        return (cols + 4) / 5;
    }

    public static byte[] packBase3(byte[] trits, int rows, int cols) {
        checkDims(rows, cols, 1);
        int bpr = bytesPerRow(cols);
        byte[] out = new byte[rows * bpr];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < bpr; b++) {
                int v = 0;
                for (int i = Math.min(4, cols - 1 - b * 5); i >= 0; i--) {
                    int t = trits[r * cols + b * 5 + i];
                    if (t < -1 || t > 1) throw new IllegalArgumentException("not a trit: " + t);
                    v = v * 3 + (t + 1);
                }
                out[r * bpr + b] = (byte) v;
            }
        }
        return out;
    }

    public static byte[] unpackBase3(byte[] packed, int rows, int cols) {
        checkDims(rows, cols, 1);
        int bpr = bytesPerRow(cols);
        if (packed.length != (long) rows * bpr) throw new IllegalArgumentException("packed length " + packed.length + " != " + rows * bpr);
        byte[] out = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < bpr; b++) {
                int v = packed[r * bpr + b] & 0xff;
                if (v >= 243) throw new IllegalArgumentException("byte " + v + " is not 5 base-3 digits");
                for (int i = 0; i < 5 && b * 5 + i < cols; i++) {
                    out[r * cols + b * 5 + i] = (byte) (v % 3 - 1);
                    v /= 3;
                }
            }
        }
        return out;
    }

    public static int bitBytesPerRow(int cols, int bits) {
        return (int) (((long) cols * bits + 7) / 8);
    }

    public static byte[] packBits(byte[] codes, int rows, int cols, int bits) {
        checkDims(rows, cols, bits);
        int bpr = bitBytesPerRow(cols, bits);
        byte[] out = new byte[rows * bpr];
        for (int r = 0; r < rows; r++) {
            long bit = (long) r * bpr * 8;
            for (int j = 0; j < cols; j++, bit += bits) {
                int c = codes[r * cols + j] & 0xff;
                if (c >>> bits != 0) throw new IllegalArgumentException("code " + c + " does not fit in " + bits + " bits");
                for (int k = 0; k < bits; k++) if ((c >>> k & 1) != 0) out[(int) ((bit + k) >>> 3)] |= (byte) (1 << ((bit + k) & 7));
            }
        }
        return out;
    }

    public static byte[] unpackBits(byte[] packed, int rows, int cols, int bits) {
        checkDims(rows, cols, bits);
        int bpr = bitBytesPerRow(cols, bits);
        if (packed.length != (long) rows * bpr) throw new IllegalArgumentException("packed length " + packed.length + " != " + rows * bpr);
        byte[] out = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            long bit = (long) r * bpr * 8;
            for (int j = 0; j < cols; j++, bit += bits) {
                int c = 0;
                for (int k = 0; k < bits; k++) c |= ((packed[(int) ((bit + k) >>> 3)] >>> ((bit + k) & 7)) & 1) << k;
                out[r * cols + j] = (byte) c;
            }
        }
        return out;
    }

    /**
     * Dimensions come from checkpoint metadata: negative sizes, a bit width a byte code cannot hold, or a rows x cols
     * beyond one Java array would otherwise surface as NegativeArraySize/overflowed lengths instead of this message.
     */
    private static void checkDims(int rows, int cols, int bits) {
        if (rows < 0 || cols < 0 || bits < 1 || bits > 8 || (long) rows * cols > Integer.MAX_VALUE - 8
                || (long) rows * bitBytesPerRow(cols, bits) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("bad packed-code dimensions: " + rows + "x" + cols + " at " + bits + " bits");
        }
    }
}
