package dev.tern.io.gguf;

import static org.junit.jupiter.api.Assertions.*;

import dev.tern.TernException;
import dev.tern.format.F16;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GgmlCodecTest {
    static byte[] randomTrits(Random r, int n) {
        byte[] t = new byte[n];
        for (int i = 0; i < n; i++) t[i] = (byte) (r.nextInt(3) - 1);
        return t;
    }

    static float[] randomScales(Random r, int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (float) (r.nextGaussian() * 0.03);
        return d;
    }

    static byte[] encode(GgmlType t, byte[] trits, int rows, int cols, float[] d) {
        return t == GgmlType.TQ1_0 ? GgmlCodec.encodeTq1_0(trits, rows, cols, d) : GgmlCodec.encodeTq2_0(trits, rows, cols, d);
    }

    @Test
    void ternaryRoundTripsExactly() {
        Random r = new Random(1);
        for (GgmlType t : new GgmlType[] {GgmlType.TQ1_0, GgmlType.TQ2_0}) {
            int rows = 5, cols = 768;
            byte[] trits = randomTrits(r, rows * cols);
            float[] d = randomScales(r, rows * cols / 256);
            byte[] enc = encode(t, trits, rows, cols, d);
            assertEquals(t.bytes((long) rows * cols), enc.length);
            GgmlCodec.Ternary back = GgmlCodec.decodeTernary(t, MemorySegment.ofArray(enc), rows, cols);
            assertArrayEquals(trits, back.trits(), t.name());
            assertArrayEquals(F16.round(d), back.d(), t + ": scales come back as their f16 rounding");
            float[] deq = new float[rows * cols + 3];
            GgmlCodec.dequantize(t, MemorySegment.ofArray(enc), (long) rows * cols, deq, 3);
            float[] d16 = F16.round(d);
            for (int i = 0; i < rows * cols; i++) assertEquals(d16[i / 256] * trits[i], deq[3 + i], 0f, t + " weight " + i);
        }
    }

    /** Every base-3 byte value 0..242 in every TQ1_0 position (qs, the 16-byte tail of qs, and the 4-digit qh). */
    @Test
    void tq1AllDigitPatterns() {
        int blocks = 243;
        byte[] trits = new byte[blocks * 256];
        for (int v = 0; v < blocks; v++) {
            int[] digits = new int[5];
            for (int k = 4, x = v; k >= 0; k--, x /= 3) digits[k] = x % 3;
            int w = v * 256;
            for (int l = 0; l < 32; l++) for (int k = 0; k < 5; k++) trits[w + l + 32 * k] = (byte) (digits[k] - 1);
            for (int l = 0; l < 16; l++) for (int k = 0; k < 5; k++) trits[w + 160 + l + 16 * k] = (byte) (digits[k] - 1);
            for (int l = 0; l < 4; l++) for (int k = 0; k < 4; k++) trits[w + 240 + l + 4 * k] = (byte) (digits[k] - 1);
        }
        byte[] enc = GgmlCodec.encodeTq1_0(trits, blocks, 256, new float[blocks]);
        assertArrayEquals(trits, GgmlCodec.decodeTernary(GgmlType.TQ1_0, MemorySegment.ofArray(enc), blocks, 256).trits());
        // Byte of v is ceil(v · 256 / 243): 0 -> 0, 121 (all trits 0 = digits 11111) -> 128, 242 -> 255.
        assertEquals(0, enc[0] & 0xFF);
        assertEquals(128, enc[121 * 54] & 0xFF);
        assertEquals(255, enc[242 * 54] & 0xFF);
    }

    /** The bit position of one weight in TQ2_0, written out from ggml-common.h's layout. */
    @Test
    void tq2BitLayout() {
        byte[] trits = new byte[256];
        trits[128 + 32 * 2 + 5] = 1; // chunk 1, shift 4, lane 5
        trits[3] = -1; // chunk 0, shift 0, lane 3
        byte[] enc = GgmlCodec.encodeTq2_0(trits, 1, 256, new float[] {1.5f});
        for (int i = 0; i < 64; i++) {
            int want = i == 32 + 5 ? 0x65 : i == 3 ? 0x54 : 0x55; // zeros are code 1 in every 2-bit field
            assertEquals(want, enc[i] & 0xFF, "byte " + i);
        }
        assertEquals(Float.floatToFloat16(1.5f), (short) ((enc[64] & 0xFF) | (enc[65] << 8)));
    }

    @Test
    void tq2Code3IsRefusedAsTritButDequantizesLikeLlamaCpp() {
        byte[] enc = GgmlCodec.encodeTq2_0(new byte[256], 1, 256, new float[] {0.5f});
        enc[7] = (byte) 0x57; // weight 7 gets code 3
        TernException e = assertThrows(TernException.class,
                () -> GgmlCodec.decodeTernary(GgmlType.TQ2_0, MemorySegment.ofArray(enc), 1, 256));
        assertTrue(e.getMessage().contains("code 3"), e.getMessage());
        float[] out = new float[256];
        GgmlCodec.dequantize(GgmlType.TQ2_0, MemorySegment.ofArray(enc), 256, out, 0);
        assertEquals(1.0f, out[7]);
        assertEquals(0f, out[8]);
    }

    @Test
    void f16IsFormatF16Rounding() {
        Random r = new Random(2);
        float[] v = new float[4096];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
        v[0] = 1 + 1f / 2048; // a tie: rounds to even (1.0)
        v[1] = 1 + 3f / 2048; // a tie: rounds to even (1 + 2/1024)
        float[] back = new float[v.length];
        GgmlCodec.dequantize(GgmlType.F16, MemorySegment.ofArray(GgmlCodec.encodeF16(v)), v.length, back, 0);
        assertArrayEquals(F16.round(v), back);
        assertEquals(1f, back[0]);
        assertEquals(1 + 2f / 1024, back[1]);
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaN() {
        float[] v = {Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000), Float.intBitsToFloat(0x3F808001),
                Float.NaN, Float.intBitsToFloat(0x7F800001), Float.POSITIVE_INFINITY, -0f};
        float[] back = new float[v.length];
        GgmlCodec.dequantize(GgmlType.BF16, MemorySegment.ofArray(GgmlCodec.encodeBf16(v)), v.length, back, 0);
        assertEquals(0x3F800000, Float.floatToRawIntBits(back[0]), "tie to even (down)");
        assertEquals(0x3F820000, Float.floatToRawIntBits(back[1]), "tie to even (up)");
        assertEquals(0x3F810000, Float.floatToRawIntBits(back[2]), "above the tie rounds up");
        assertTrue(Float.isNaN(back[3]) && Float.isNaN(back[4]), "a signalling NaN must not truncate to infinity");
        assertEquals(Float.POSITIVE_INFINITY, back[5]);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(back[6]));
    }

    @Test
    void q8RoundTripWithinHalfAStep() {
        Random r = new Random(3);
        float[] v = new float[32 * 9];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        for (int i = 64; i < 96; i++) v[i] = 0; // an all-zero block: d = 0, no division by zero
        byte[] enc = GgmlCodec.encodeQ8_0(v);
        assertEquals(GgmlType.Q8_0.bytes(v.length), enc.length);
        float[] back = new float[v.length];
        GgmlCodec.dequantize(GgmlType.Q8_0, MemorySegment.ofArray(enc), v.length, back, 0);
        for (int b = 0; b < 9; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(v[32 * b + j]));
            float step = amax / 127;
            for (int j = 0; j < 32; j++) {
                int i = 32 * b + j;
                assertEquals(v[i], back[i], step * 0.5f + amax * 1e-3f, "weight " + i);
            }
        }
        for (int i = 64; i < 96; i++) assertEquals(0f, back[i]);
    }

    @Test
    void refusesWhatItCannotDo() {
        MemorySegment s = MemorySegment.ofArray(new byte[144]);
        TernException e = assertThrows(TernException.class, () -> GgmlCodec.dequantize(GgmlType.Q4_K, s, 256, new float[256], 0));
        assertTrue(e.getMessage().contains("Q4_K"));
        assertThrows(TernException.class, () -> GgmlCodec.dequantize(GgmlType.Q8_0, s, 33, new float[33], 0));
        assertThrows(IllegalArgumentException.class, () -> GgmlCodec.dequantize(GgmlType.F32, s, 37, new float[37], 0));
        assertThrows(IllegalArgumentException.class, () -> GgmlCodec.dequantize(GgmlType.F32, s, 36, new float[36], 1));
        assertThrows(IllegalArgumentException.class, () -> GgmlCodec.encodeTq2_0(new byte[100], 1, 100, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> GgmlCodec.encodeTq2_0(new byte[] {2}, 1, 256, new float[1]));
        byte[] bad = new byte[256];
        bad[9] = 2;
        assertThrows(IllegalArgumentException.class, () -> GgmlCodec.encodeTq1_0(bad, 1, 256, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> GgmlCodec.encodeTq1_0(new byte[256], 1, 256, new float[2]));
        assertThrows(IllegalArgumentException.class,
                () -> GgmlCodec.decodeTernary(GgmlType.TQ1_0, MemorySegment.ofArray(new byte[53]), 1, 256));
        assertThrows(TernException.class, () -> GgmlType.of(99));
        assertEquals("unknown GGML tensor type 99", assertThrows(TernException.class, () -> GgmlType.of(99)).getMessage());
        assertThrows(TernException.class, () -> GgmlType.of(32));
        assertThrows(TernException.class, () -> GgmlType.TQ2_0.bytes(100));
        assertEquals(66, GgmlType.TQ2_0.bytes(256));
    }
}
