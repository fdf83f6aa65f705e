package dev.tern.io.gguf;

import dev.tern.TernException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Encoders and decoders for the GGML block formats Tern reads and writes. Layouts follow llama.cpp's ggml-common.h
 * and gguf-py's quants.py (the golden tests hold Tern to files those write).
 */
public final class GgmlCodec {
    private GgmlCodec() {}

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Weights per block of every K-quant and ternary type (QK_K). */
    static final int QK_K = 256;
    static final int QK8_0 = 32;

    /** 3^k: multiplying a base-3 fixed-point byte by it brings digit k to the top (TQ1_0). */
    private static final int[] POW3 = {1, 3, 9, 27, 81, 243};

    /** Trits and their per-block scales, as TQ1_0 and TQ2_0 store them. */
    public record Ternary(byte[] trits, float[] d) {}

    public static byte[] encodeF32(float[] v) {
        byte[] out = new byte[checkedBytes(v.length, 4)];
        MemorySegment.copy(v, 0, MemorySegment.ofArray(out), F32_LE, 0, v.length);
        return out;
    }

    /** IEEE half precision, round to nearest even (Float.floatToFloat16, as dev.tern.format.F16). */
    public static byte[] encodeF16(float[] v) {
        byte[] out = new byte[checkedBytes(v.length, 2)];
        for (int i = 0; i < v.length; i++) putShort(out, 2 * i, Float.floatToFloat16(v[i]));
        return out;
    }

    /** bfloat16, round to nearest even; a NaN stays a quiet NaN (as ggml_compute_fp32_to_bf16). */
    public static byte[] encodeBf16(float[] v) {
        byte[] out = new byte[checkedBytes(v.length, 2)];
        for (int i = 0; i < v.length; i++) putShort(out, 2 * i, toBf16(v[i]));
        return out;
    }

    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /**
     * Q8_0 exactly as llama.cpp's reference quantizer: d = max|x| / 127 per 32 weights, q = round-half-away(x / d)
     * computed as x · (1/d) in float, d stored as f16.
     */
    public static byte[] encodeQ8_0(float[] v) {
        if (v.length % QK8_0 != 0) throw new IllegalArgumentException(v.length + " values are not whole Q8_0 blocks of 32");
        int blocks = v.length / QK8_0;
        byte[] out = new byte[checkedBytes(blocks, GgmlType.Q8_0.typeSize())];
        for (int b = 0; b < blocks; b++) {
            float amax = 0;
            for (int j = 0; j < QK8_0; j++) amax = Math.max(amax, Math.abs(v[b * QK8_0 + j]));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            int o = b * 34;
            putShort(out, o, Float.floatToFloat16(d));
            for (int j = 0; j < QK8_0; j++) out[o + 2 + j] = (byte) roundHalfAway(v[b * QK8_0 + j] * id);
        }
        return out;
    }

    /** C's roundf (ties away from zero), which llama.cpp's quantizers and gguf-py's np_roundf use. */
    static float roundHalfAway(float x) {
        return (float) Math.copySign(Math.floor(Math.abs((double) x) + 0.5), x);
    }

    /**
     * TQ2_0: per 256 weights of a row, qs[64] then f16 d. Byte qs[32c + l] holds weights 128c + 32j + l (j = 0..3)
     * in bits 2j..2j+1 as t + 1.
     */
    public static byte[] encodeTq2_0(byte[] trits, int rows, int cols, float[] d) {
        int blocks = checkTernary(trits, rows, cols, d);
        byte[] out = new byte[checkedBytes(blocks, GgmlType.TQ2_0.typeSize())];
        for (int b = 0; b < blocks; b++) {
            int w = b * QK_K, o = b * 66;
            for (int c = 0; c < 2; c++) {
                for (int l = 0; l < 32; l++) {
                    int v = 0;
                    for (int j = 0; j < 4; j++) v |= (trits[w + 128 * c + 32 * j + l] + 1) << (2 * j);
                    out[o + 32 * c + l] = (byte) v;
                }
            }
            putShort(out, o + 64, Float.floatToFloat16(d[b]));
        }
        return out;
    }

    /**
     * TQ1_0: per 256 weights, qs[48], qh[4], f16 d. Each byte is a base-3 fixed-point number: five digits (t + 1)
     * most significant first, stored as ceil(v · 256 / 243), so that multiplying by 3^k and taking the top bits reads
     * digit k. qs[l] holds weights l + 32k (k = 0..4), qs[32 + l] weights 160 + l + 16k, qh[l] four digits, weights
     * 240 + l + 4k (k = 0..3).
     */
    public static byte[] encodeTq1_0(byte[] trits, int rows, int cols, float[] d) {
        int blocks = checkTernary(trits, rows, cols, d);
        byte[] out = new byte[checkedBytes(blocks, GgmlType.TQ1_0.typeSize())];
        for (int b = 0; b < blocks; b++) {
            int w = b * QK_K, o = b * 54;
            for (int l = 0; l < 32; l++) out[o + l] = packBase3(trits, w + l, 32, 5);
            for (int l = 0; l < 16; l++) out[o + 32 + l] = packBase3(trits, w + 160 + l, 16, 5);
            for (int l = 0; l < 4; l++) out[o + 48 + l] = packBase3(trits, w + 240 + l, 4, 4);
            putShort(out, o + 52, Float.floatToFloat16(d[b]));
        }
        return out;
    }

    /** digits trits at first, first + stride, ...; a 4-digit byte leaves its last (least significant) digit zero. */
    private static byte packBase3(byte[] trits, int first, int stride, int digits) {
        int v = 0;
        for (int k = 0; k < 5; k++) v = 3 * v + (k < digits ? trits[first + k * stride] + 1 : 0);
        return (byte) ((v * 256 + 242) / 243);
    }

    /** Digit k (0 = most significant) of a TQ1_0 byte, as t + 1 in 0..2. */
    private static int digit(int q, int k) {
        return ((q * POW3[k]) & 0xFF) * 3 >> 8;
    }

    /**
     * The trits and f16 scales of a TQ1_0 or TQ2_0 tensor of rows × cols (cols a multiple of 256), the exact inverse
     * of the encoders. A TQ2_0 code 3 (which llama.cpp would read as 2·d) is not ternary and is refused.
     */
    public static Ternary decodeTernary(GgmlType t, MemorySegment src, int rows, int cols) {
        if (t != GgmlType.TQ1_0 && t != GgmlType.TQ2_0) throw new IllegalArgumentException(t + " is not a ternary type");
        int blocks = checkShape(rows, cols);
        long need = (long) blocks * t.typeSize();
        if (src.byteSize() != need) {
            throw new IllegalArgumentException(rows + " x " + cols + " " + t + " needs " + need + " bytes, got " + src.byteSize());
        }
        byte[] trits = new byte[rows * cols];
        float[] d = new float[blocks];
        byte[] blk = new byte[t.typeSize()];
        for (int b = 0; b < blocks; b++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, (long) b * blk.length, blk, 0, blk.length);
            int w = b * QK_K;
            if (t == GgmlType.TQ2_0) {
                for (int i = 0; i < 64; i++) {
                    int q = blk[i] & 0xFF;
                    for (int j = 0; j < 4; j++) {
                        int code = (q >>> (2 * j)) & 3;
                        int at = w + 128 * (i / 32) + 32 * j + i % 32;
                        if (code == 3) {
                            throw new TernException("TQ2_0 weight " + at + " has the code 3, which is not a ternary value");
                        }
                        trits[at] = (byte) (code - 1);
                    }
                }
                d[b] = Float.float16ToFloat(getShort(blk, 64));
            } else {
                unpackTq1(blk, trits, w);
                d[b] = Float.float16ToFloat(getShort(blk, 52));
            }
        }
        return new Ternary(trits, d);
    }

    private static void unpackTq1(byte[] blk, byte[] trits, int w) {
        for (int l = 0; l < 32; l++) {
            for (int k = 0; k < 5; k++) trits[w + l + 32 * k] = (byte) (digit(blk[l] & 0xFF, k) - 1);
        }
        for (int l = 0; l < 16; l++) {
            for (int k = 0; k < 5; k++) trits[w + 160 + l + 16 * k] = (byte) (digit(blk[32 + l] & 0xFF, k) - 1);
        }
        for (int l = 0; l < 4; l++) {
            for (int k = 0; k < 4; k++) trits[w + 240 + l + 4 * k] = (byte) (digit(blk[48 + l] & 0xFF, k) - 1);
        }
    }

    /**
     * Converts {@code elements} weights of src (F32, F16, BF16, Q8_0, TQ1_0 or TQ2_0) to floats at dst[dstOffset..],
     * computing each as llama.cpp does (for the block types: the integer code times the f16 scale, in float).
     */
    public static void dequantize(GgmlType t, MemorySegment src, long elements, float[] dst, int dstOffset) {
        if (!t.readable()) throw new TernException("Tern cannot read GGML type " + t + " as floats");
        long need = t.bytes(elements);
        if (src.byteSize() < need) {
            throw new IllegalArgumentException(elements + " weights of " + t + " need " + need + " bytes, got " + src.byteSize());
        }
        if (dstOffset < 0 || elements > dst.length - dstOffset) {
            throw new IllegalArgumentException(elements + " weights do not fit in float[" + dst.length + "] at " + dstOffset);
        }
        int n = (int) elements;
        switch (t) {
            case F32 -> MemorySegment.copy(src, F32_LE, 0, dst, dstOffset, n);
            case F16, BF16 -> halves(t, src, n, dst, dstOffset);
            default -> blocks(t, src, n / t.blockSize(), dst, dstOffset);
        }
    }

    private static void halves(GgmlType t, MemorySegment src, int n, float[] dst, int off) {
        // Chunked so a large tensor never needs a second full-size short[] buffer.
        short[] buf = new short[Math.min(n, 1 << 14)];
        for (int start = 0; start < n; start += buf.length) {
            int len = Math.min(buf.length, n - start);
            MemorySegment.copy(src, I16_LE, 2L * start, buf, 0, len);
            if (t == GgmlType.F16) {
                for (int i = 0; i < len; i++) dst[off + start + i] = Float.float16ToFloat(buf[i]);
            } else {
                for (int i = 0; i < len; i++) dst[off + start + i] = Float.intBitsToFloat(buf[i] << 16);
            }
        }
    }

    private static void blocks(GgmlType t, MemorySegment src, int blocks, float[] dst, int off) {
        byte[] blk = new byte[t.typeSize()];
        byte[] trits = new byte[QK_K];
        for (int b = 0; b < blocks; b++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, (long) b * blk.length, blk, 0, blk.length);
            int o = off + b * t.blockSize();
            switch (t) {
                case Q8_0 -> {
                    float d = Float.float16ToFloat(getShort(blk, 0));
                    for (int j = 0; j < QK8_0; j++) dst[o + j] = blk[2 + j] * d;
                }
                case TQ2_0 -> {
                    float d = Float.float16ToFloat(getShort(blk, 64));
                    for (int i = 0; i < 64; i++) {
                        int q = blk[i] & 0xFF, base = o + 128 * (i / 32) + i % 32;
                        // A code of 3 reads as 2·d, as in llama.cpp: dequantizing never refuses a well-formed block.
                        for (int j = 0; j < 4; j++) dst[base + 32 * j] = (((q >>> (2 * j)) & 3) - 1) * d;
                    }
                }
                case TQ1_0 -> {
                    float d = Float.float16ToFloat(getShort(blk, 52));
                    unpackTq1(blk, trits, 0);
                    for (int i = 0; i < QK_K; i++) dst[o + i] = trits[i] * d;
                }
                default -> throw new AssertionError(t);
            }
        }
    }

    private static int checkTernary(byte[] trits, int rows, int cols, float[] d) {
        int blocks = checkShape(rows, cols);
        if (trits.length != rows * cols) {
            throw new IllegalArgumentException(trits.length + " trits for a " + rows + " x " + cols + " matrix");
        }
        if (d.length != blocks) throw new IllegalArgumentException(d.length + " scales for " + blocks + " blocks of 256");
        for (int i = 0; i < trits.length; i++) {
            if (trits[i] < -1 || trits[i] > 1) throw new IllegalArgumentException("trit " + i + " is " + trits[i]);
        }
        return blocks;
    }

    private static int checkShape(int rows, int cols) {
        if (rows < 0 || cols < 0 || cols % QK_K != 0) {
            throw new IllegalArgumentException(rows + " x " + cols + ": columns must be a non-negative multiple of 256");
        }
        if ((long) rows * cols > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(rows + " x " + cols + " is too large for one array");
        }
        return rows * cols / QK_K;
    }

    private static int checkedBytes(long count, int size) {
        long n = count * size;
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(count + " values are too many for one byte array");
        return (int) n;
    }

    private static void putShort(byte[] b, int at, short v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }

    private static short getShort(byte[] b, int at) {
        return (short) ((b[at] & 0xFF) | (b[at + 1] << 8));
    }
}
