package dev.tern.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.tern.TernException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    static final Path TINY = Path.of("..", "shared", "models", "tinystories-656k", "model.safetensors");

    @TempDir
    Path tmp;

    /** A file with the given declared header length, header text and data bytes. */
    private Path raw(long declaredLen, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLen).put(h);
        Path p = Files.createTempFile(tmp, "bad", ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private Path file(String header, int dataBytes) throws IOException {
        return raw(header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    private static void assertBad(Path p, String... fragments) {
        TernException e = assertThrows(TernException.class, () -> SafetensorsFile.open(p).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(e.getMessage().contains(p.toString()), "message names the file");
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    @Test
    void headerLengthPastEnd() throws IOException {
        assertBad(raw(1000, "{}", 0), "header length 1000 exceeds the file size");
    }

    @Test
    void headerLengthHuge() throws IOException {
        assertBad(raw(1L << 63, "{}", 0), "header length 9223372036854775808 exceeds");
        assertBad(raw(-1L, "{}", 0), "header length 18446744073709551615 exceeds");
    }

    @Test
    void tooShort() throws IOException {
        Path p = tmp.resolve("short.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        assertBad(p, "too short");
    }

    @Test
    void missingFile() {
        Path p = tmp.resolve("nope.safetensors");
        TernException e = assertThrows(TernException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("missing") && e.getMessage().contains(p.toString()));
    }

    @Test
    void nonJsonHeader() throws IOException {
        assertBad(file("this is not json", 0), "not valid JSON");
        assertBad(file("{\"a\": ", 0), "not valid JSON");
        assertBad(file("[1,2]", 0), "not a JSON object");
        assertBad(file("{} trailing", 0), "not valid JSON");
        byte[] junk = {(byte) 0xff, (byte) 0xfe, 0, 1};
        assertBad(file(new String(junk, StandardCharsets.ISO_8859_1), 0), "not valid JSON");
    }

    @Test
    void duplicateKeys() throws IOException {
        String t = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        assertBad(file("{\"a\":" + t + ",\"a\":" + t + "}", 1), "not valid JSON", "Duplicate");
    }

    @Test
    void offsetsPastData() throws IOException {
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8), "past the data");
    }

    @Test
    void beginAfterEnd() throws IOException {
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8), "begin > end");
    }

    @Test
    void overlapping() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertBad(file(h, 12), "overlap", "'a'", "'b'");
    }

    @Test
    void sizeMismatch() throws IOException {
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16), "size mismatch");
    }

    @Test
    void shapeOverflow() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}";
        assertBad(file(h, 0), "overflows");
        String h2 = "{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}";
        assertBad(file(h2, 0), "overflows");
        String h3 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999999],\"data_offsets\":[0,0]}}";
        assertBad(file(h3, 0), "non-negative integers");
    }

    @Test
    void badShapeValues() throws IOException {
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0), "non-negative");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,0]}}", 0), "non-negative");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":\"x\",\"data_offsets\":[0,0]}}", 0), "shape");
        assertBad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0]}}", 0), "data_offsets");
        assertBad(file("{\"a\":{\"shape\":[0],\"data_offsets\":[0,0]}}", 0), "dtype");
        assertBad(file("{\"a\":5}", 0), "not a JSON object");
    }

    @Test
    void unknownDtype() throws IOException {
        assertBad(file("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
                "unsupported dtype", "F8_E4M3");
    }

    @Test
    void badMetadata() throws IOException {
        assertBad(file("{\"__metadata__\":{\"k\":1}}", 0), "__metadata__");
        assertBad(file("{\"__metadata__\":[]}", 0), "__metadata__");
    }

    @Test
    void emptyFileIsValid() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file("{}", 0))) {
            assertTrue(f.names().isEmpty());
        }
    }

    @Test
    void roundTrip() throws IOException {
        Random r = new Random(1);
        float[] a = new float[6];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        float[] h = {0f, 1f, -2.5f, 65504f, 0.0009765625f, Float.POSITIVE_INFINITY};
        float[] bf = {1f, -3f, 0.15625f, 0x1p100f};
        int[] ints = {1, -2, Integer.MAX_VALUE};
        byte[] u8 = {0, 1, (byte) 255};
        SafetensorsWriter w = new SafetensorsWriter()
                .addF32("b.f32", new long[] {2, 3}, a)
                .addF16("a.f16", new long[] {6}, h)
                .addBF16("c.bf16", new long[] {2, 2}, bf)
                .addI32("d.i32", new long[] {3}, ints)
                .addU8("e.u8", new long[] {3}, u8)
                .addF32("empty", new long[] {0, 5}, new float[0])
                .putMetadata("format", "pt")
                .putMetadata("tied", "b.f32");
        Path p = tmp.resolve("sub/rt.safetensors");
        w.write(p);
        byte[] first = Files.readAllBytes(p);
        w.write(p);
        assertArrayEquals(first, Files.readAllBytes(p), "deterministic bytes");
        assertArrayEquals(first, w.toBytes());
        long headerLen = ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8);
        try (var files = Files.list(p.getParent())) {
            assertEquals(1, files.count(), "no temp file left behind");
        }

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt", "tied", "b.f32"), f.metadata());
            assertEquals(6, f.storedNames().size());
            assertTrue(f.has("tied"));
            assertArrayEquals(a, f.floats("b.f32"));
            assertArrayEquals(a, f.floats("tied"));
            assertArrayEquals(new long[] {2, 3}, f.shape("b.f32"));
            assertArrayEquals(h, f.floats("a.f16"));
            assertEquals("F16", f.dtype("a.f16"));
            assertArrayEquals(bf, f.floats("c.bf16"));
            assertEquals("BF16", f.dtype("c.bf16"));
            assertArrayEquals(new long[] {0, 5}, f.shape("empty"));
            assertEquals(0, f.floats("empty").length);
            MemorySegment s = f.segment("d.i32");
            int[] back = new int[3];
            for (int i = 0; i < 3; i++) {
                back[i] = s.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                        4L * i);
            }
            assertArrayEquals(ints, back);
            assertArrayEquals(u8, f.segment("e.u8").toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            TernException e = assertThrows(TernException.class, () -> f.floats("d.i32"));
            assertTrue(e.getMessage().contains("cannot be read as floats"));
            e = assertThrows(TernException.class, () -> f.shape("nope"));
            assertTrue(e.getMessage().contains("no tensor named 'nope'"));
        }
    }

    @Test
    void largeTensorsCrossBufferBoundaries() throws IOException {
        Random r = new Random(7);
        float[] big = new float[300_001]; // > 1 MiB of f32, odd length so chunks split unevenly
        for (int i = 0; i < big.length; i++) big[i] = (float) r.nextGaussian();
        byte[] bytes = new byte[1_234_567];
        r.nextBytes(bytes);
        Path p = tmp.resolve("big.safetensors");
        new SafetensorsWriter().addF32("big", new long[] {big.length}, big)
                .addBF16("bf", new long[] {big.length}, big)
                .addU8("u8", new long[] {bytes.length}, bytes).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(big, f.floats("big"));
            float[] bf = f.floats("bf");
            for (int i = 0; i < big.length; i++) assertEquals(big[i], bf[i], Math.abs(big[i]) / 128 + 1e-30);
            assertArrayEquals(bytes, f.segment("u8").toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void bf16Rounding() {
        assertEquals((short) 0x3F80, SafetensorsWriter.toBf16(1f));
        // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to the even mantissa (1.0).
        assertEquals((short) 0x3F80, SafetensorsWriter.toBf16(Float.intBitsToFloat(0x3F808000)));
        assertEquals((short) 0x3F82, SafetensorsWriter.toBf16(Float.intBitsToFloat(0x3F818000)));
        assertTrue(Float.isNaN(Float.intBitsToFloat(SafetensorsWriter.toBf16(Float.NaN) << 16)));
    }

    @Test
    void failedWriteLeavesNothing() throws IOException {
        Path target = tmp.resolve("out.bin");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, os -> {
            os.write(new byte[100]);
            throw new IllegalStateException("boom");
        }));
        TernException e = assertThrows(TernException.class, () -> AtomicFiles.write(target, os -> {
            throw new IOException("disk full");
        }));
        assertTrue(e.getMessage().contains("disk full") && e.getMessage().contains("out.bin"));
        try (var files = Files.list(tmp)) {
            assertEquals(0, files.count(), "no temp file and no target");
        }
        AtomicFiles.writeString(target, "old");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, os -> {
            os.write("new-partial".getBytes());
            throw new IllegalStateException("boom");
        }));
        assertEquals("old", Files.readString(target), "old content survives a failed replace");
    }

    @Test
    void realTinyStories() {
        try (SafetensorsFile f = SafetensorsFile.open(TINY)) {
            // 20 stored tensors (lm_head, 2 x 9 per layer, final norm); embed_tokens is the 21st name, via the alias.
            assertEquals(20, f.storedNames().size());
            assertFalse(f.storedNames().contains("model.embed_tokens.weight"));
            assertEquals(Map.of("model.embed_tokens.weight", "lm_head.weight"), f.aliases());
            assertEquals(21, f.names().size());
            assertTrue(f.has("model.embed_tokens.weight"));
            assertArrayEquals(new long[] {2048, 128}, f.shape("lm_head.weight"));
            assertArrayEquals(new long[] {2048, 128}, f.shape("model.embed_tokens.weight"));
            float[] emb = f.floats("model.embed_tokens.weight");
            assertArrayEquals(f.floats("lm_head.weight"), emb);
            assertEquals(2048 * 128, emb.length);
            assertTrue(Arrays.stream(new int[] {0, 1000, emb.length - 1}).allMatch(i -> Float.isFinite(emb[i])));
            assertArrayEquals(new long[] {64, 128}, f.shape("model.layers.1.self_attn.k_proj.weight"));
            assertEquals("F32", f.dtype("model.norm.weight"));
        }
    }
}
