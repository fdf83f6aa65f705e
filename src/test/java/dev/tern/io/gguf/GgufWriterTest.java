package dev.tern.io.gguf;

import static org.junit.jupiter.api.Assertions.*;

import dev.tern.TernException;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GgufWriter then GgufFile: every value type and every tensor type comes back as written. */
class GgufWriterTest {
    @TempDir
    Path dir;

    /** Without AtomicFiles' fsyncs, which take a second each on a busy machine; the atomic path has its own test. */
    static void write(GgufWriter w, Path p) {
        try {
            Files.write(p, w.toBytes());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** One key of every value type, extreme values, nested and empty arrays. */
    static GgufWriter everyValueType() {
        return new GgufWriter()
                .putString("s", "h\u00e9llo \uD83D\uDE42").putString("empty", "")
                .putU8("u8", 255).putI8("i8", -128).putU16("u16", 65535).putI16("i16", -32768)
                .putU32("u32", 0xFFFF_FFFFL).putI32("i32", Integer.MIN_VALUE)
                .putU64("u64", -1L).putI64("i64", Long.MIN_VALUE)
                .putF32("f32", -0.15625f).putF64("f64", Math.PI).putBool("t", true).putBool("f", false)
                .putStringArray("strings", List.of("a", "", "\u00fcn\u00ef"))
                .putF32Array("f32s", new float[] {0.5f, Float.NaN, -1e-30f})
                .putI32Array("i32s", new int[] {Integer.MAX_VALUE, -1, 0})
                .putI32Array("no.ints", new int[0])
                .putArray("u8s", new GgufArray(GgufValueType.UINT8, List.of(0, 1, 255)))
                .putArray("u64s", new GgufArray(GgufValueType.UINT64, List.of(-1L, 5L)))
                .putArray("f64s", new GgufArray(GgufValueType.FLOAT64, List.of(1.0 / 3)))
                .putArray("bools", new GgufArray(GgufValueType.BOOL, List.of(true, false)))
                .putArray("nested", new GgufArray(GgufValueType.ARRAY, List.of(
                        new GgufArray(GgufValueType.INT16, List.of(-2, 3)),
                        new GgufArray(GgufValueType.STRING, List.of("x")),
                        new GgufArray(GgufValueType.ARRAY, List.of(new GgufArray(GgufValueType.INT8, List.of(1)))))));
    }

    @Test
    void everyValueTypeRoundTrips() {
        Path p = dir.resolve("kv.gguf");
        write(everyValueType(), p);
        try (GgufFile f = GgufFile.open(p)) {
            GgufMetadata m = f.metadata();
            assertEquals(3, f.version());
            assertEquals(List.of("s", "empty", "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "t", "f",
                    "strings", "f32s", "i32s", "no.ints", "u8s", "u64s", "f64s", "bools", "nested"), List.copyOf(m.keys()));
            assertEquals("h\u00e9llo \uD83D\uDE42", m.requireString("s"));
            assertEquals("", m.requireString("empty"));
            assertEquals(255, m.requireInteger("u8"));
            assertEquals(GgufValueType.UINT8, m.type("u8"));
            assertEquals(-128, m.requireInteger("i8"));
            assertEquals(65535, m.requireInteger("u16"));
            assertEquals(-32768, m.requireInteger("i16"));
            assertEquals(0xFFFF_FFFFL, m.requireInteger("u32"));
            assertEquals(Integer.MIN_VALUE, m.requireInteger("i32"));
            assertEquals("18446744073709551615", m.get("u64"));
            assertEquals(1.8446744073709552e19, m.requireNumber("u64"));
            assertEquals(Long.MIN_VALUE, m.requireInteger("i64"));
            assertEquals(-0.15625, m.requireNumber("f32"));
            assertEquals(GgufValueType.FLOAT32, m.type("f32"));
            assertEquals(Math.PI, m.requireNumber("f64"));
            assertEquals(true, m.bool("t").orElseThrow());
            assertEquals(false, m.requireBool("f"));
            assertEquals(List.of("a", "", "\u00fcn\u00ef"), m.stringArray("strings"));
            float[] fl = m.floatArray("f32s");
            assertEquals(0.5f, fl[0]);
            assertTrue(Float.isNaN(fl[1]));
            assertEquals(-1e-30f, fl[2]);
            assertArrayEquals(new int[] {Integer.MAX_VALUE, -1, 0}, m.intArray("i32s"));
            assertArrayEquals(new int[0], m.intArray("no.ints"));
            assertEquals(GgufValueType.INT32, m.arrayElementType("no.ints"));
            assertArrayEquals(new int[] {0, 1, 255}, m.intArray("u8s"));
            assertArrayEquals(new long[] {-1L, 5L}, m.longArray("u64s"));
            assertThrows(TernException.class, () -> m.intArray("u64s"), "2^64 - 1 does not fit an int");
            assertEquals(List.of(1.0 / 3), m.array("f64s").orElseThrow().values());
            assertEquals(List.of(true, false), m.array("bools").orElseThrow().values());
            GgufArray nested = m.array("nested").orElseThrow();
            assertEquals(new GgufArray(GgufValueType.ARRAY, List.of(
                    new GgufArray(GgufValueType.INT16, List.of(-2L, 3L)),
                    new GgufArray(GgufValueType.STRING, List.of("x")),
                    new GgufArray(GgufValueType.ARRAY, List.of(new GgufArray(GgufValueType.INT8, List.of(1L)))))), nested);
            assertEquals("[array of 3 ARRAY]", f.metadata().get("nested"));
            assertEquals("[array of 3 STRING]", f.metadata().asStrings().get("strings"));
            assertEquals("-0.15625", f.metadata().get("f32"));
            assertEquals("true", f.metadata().get("t"));
            assertFalse(m.has("general.alignment"), "not written unless changed");
            assertEquals(32, f.alignment());
            assertThrows(TernException.class, () -> m.string("u8"));
            assertThrows(TernException.class, () -> m.integer("s"));
            assertThrows(TernException.class, () -> m.floatArray("i32s"));
        }
    }

    /** One tensor of every GGML type with seeded bytes, 1 to 4 dimensions: bytes, shapes and placement come back. */
    @Test
    void everyTensorTypeRoundTrips() throws IOException {
        Random r = new Random(4);
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama");
        byte[][] written = new byte[GgmlType.values().length][];
        for (GgmlType t : GgmlType.values()) {
            int dims = 1 + t.ordinal() % 4;
            long[] shape = new long[dims];
            for (int i = 0; i < dims - 1; i++) shape[i] = 1 + (t.ordinal() + i) % 3;
            shape[dims - 1] = 2L * t.blockSize();
            long elements = 1;
            for (long s : shape) elements *= s;
            byte[] b = new byte[(int) t.bytes(elements)];
            r.nextBytes(b);
            if (t.readable() && t != GgmlType.F32) b = validFloats(t, (int) elements, r);
            written[t.ordinal()] = b;
            w.addTensor("t." + t, t, shape, GgufWriter.TensorBytes.of(b));
        }
        Path p = dir.resolve("types.gguf");
        write(w, p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(GgmlType.values().length, f.tensors().size());
            long end = f.dataStart();
            for (GgmlType t : GgmlType.values()) {
                String n = "t." + t;
                GgufTensorInfo info = f.tensors().get(t.ordinal());
                assertEquals(n, info.name());
                assertEquals(t, info.type());
                assertEquals(t.name(), f.dtype(n));
                assertEquals(0, info.offset() % 32, "aligned");
                assertEquals(end, info.offset(), "tensors follow each other, each padded to the alignment");
                end = info.offset() + (info.bytes() + 31) / 32 * 32;
                assertArrayEquals(written[t.ordinal()], f.data(n).toArray(ValueLayout.JAVA_BYTE), n);
                if (t.readable()) {
                    float[] v = f.floats(n);
                    assertEquals(info.elements(), v.length);
                } else {
                    TernException e = assertThrows(TernException.class, () -> f.floats(n));
                    assertTrue(e.getMessage().contains(n) && e.getMessage().contains(t.name()), e.getMessage());
                }
            }
            assertEquals(end, Files.size(p), "the last tensor is padded too, as gguf-py writes");
        }
    }

    /** Encoded weights of the types Tern writes, so that floats() has real values to return. */
    static byte[] validFloats(GgmlType t, int n, Random r) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        byte[] trits = GgmlCodecTest.randomTrits(r, n);
        return switch (t) {
            case F16 -> GgmlCodec.encodeF16(v);
            case BF16 -> GgmlCodec.encodeBf16(v);
            case Q8_0 -> GgmlCodec.encodeQ8_0(v);
            case TQ1_0 -> GgmlCodec.encodeTq1_0(trits, n / 256, 256, GgmlCodecTest.randomScales(r, n / 256));
            case TQ2_0 -> GgmlCodec.encodeTq2_0(trits, n / 256, 256, GgmlCodecTest.randomScales(r, n / 256));
            default -> throw new AssertionError(t);
        };
    }

    @Test
    void floatsComeBackExactly() {
        float[] v = {1.5f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, 3, 4};
        Path p = dir.resolve("f.gguf");
        write(new GgufWriter().addTensor("w", GgmlType.F32, new long[] {2, 3}, GgufWriter.TensorBytes.of(GgmlCodec.encodeF32(v))), p);
        try (GgufFile f = GgufFile.open(p)) {
            assertArrayEquals(v, f.floats("w"));
            assertArrayEquals(new long[] {2, 3}, f.shape("w"));
            assertArrayEquals(new long[] {3, 2}, f.tensor("w").ne());
        }
    }

    @Test
    void ternaryThroughTheFile() {
        Random r = new Random(5);
        int rows = 3, cols = 512;
        byte[] trits = GgmlCodecTest.randomTrits(r, rows * cols);
        float[] d = GgmlCodecTest.randomScales(r, rows * cols / 256);
        Path p = dir.resolve("t.gguf");
        write(new GgufWriter()
                .addTensor("a", GgmlType.TQ1_0, new long[] {rows, cols}, GgufWriter.TensorBytes.of(GgmlCodec.encodeTq1_0(trits, rows, cols, d)))
                .addTensor("b", GgmlType.TQ2_0, new long[] {rows, cols}, GgufWriter.TensorBytes.of(GgmlCodec.encodeTq2_0(trits, rows, cols, d))), p);
        try (GgufFile f = GgufFile.open(p)) {
            for (String n : List.of("a", "b")) {
                assertArrayEquals(trits, f.ternary(n).trits(), n);
                assertArrayEquals(dev.tern.format.F16.round(d), f.ternary(n).d(), n);
            }
            assertArrayEquals(f.floats("a"), f.floats("b"));
        }
    }

    @Test
    void customAlignmentIsWrittenAndUsed() {
        Path p = dir.resolve("a.gguf");
        write(new GgufWriter().alignment(4096).putString("x", "y")
                .addTensor("a", GgmlType.F16, new long[] {3}, GgufWriter.TensorBytes.of(new byte[6]))
                .addTensor("b", GgmlType.F16, new long[] {5}, GgufWriter.TensorBytes.of(new byte[10])), p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(4096, f.alignment());
            assertEquals(4096, f.metadata().requireInteger("general.alignment"));
            assertEquals(GgufValueType.UINT32, f.metadata().type("general.alignment"));
            assertEquals(4096, f.tensor("a").offset());
            assertEquals(8192, f.tensor("b").offset());
        }
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter().alignment(48));
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter().putU64("general.alignment", 64));
    }

    @Test
    void refusesBadTensors() {
        GgufWriter w = new GgufWriter().addTensor("a", GgmlType.F32, new long[] {1}, GgufWriter.TensorBytes.of(new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("a", GgmlType.F32, new long[] {1}, GgufWriter.TensorBytes.of(new byte[4])));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("b", GgmlType.F32, new long[] {2}, GgufWriter.TensorBytes.of(new byte[4])));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("c", GgmlType.Q8_0, new long[] {2, 16}, GgufWriter.TensorBytes.of(new byte[34])));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("d", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, GgufWriter.TensorBytes.of(new byte[4])));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("e", GgmlType.F32, new long[] {0}, GgufWriter.TensorBytes.of(new byte[0])));
        assertThrows(IllegalArgumentException.class, () -> w.putString("k", "v").putI32("k", 1));
        assertThrows(IllegalArgumentException.class, () -> w.putU8("u", 256));
        assertThrows(IllegalArgumentException.class, () -> w.putArray("m", new GgufArray(GgufValueType.INT8, List.of(1, "x"))));
    }

    /** Data is produced at write time, once per tensor, one after another, and a failure leaves no file behind. */
    @Test
    void streamsAndWritesAtomically() throws IOException {
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger open = new AtomicInteger();
        GgufWriter.TensorBytes counted = new GgufWriter.TensorBytes() {
            public long size() {
                return 8;
            }

            public void writeTo(WritableByteChannel out) throws IOException {
                assertEquals(0, open.getAndIncrement(), "one tensor at a time");
                calls.incrementAndGet();
                out.write(ByteBuffer.wrap(new byte[8]));
                open.decrementAndGet();
            }
        };
        GgufWriter w = new GgufWriter().addTensor("a", GgmlType.F32, new long[] {2}, counted).addTensor("b", GgmlType.F32, new long[] {2}, counted);
        assertEquals(0, calls.get(), "nothing is produced before write()");
        Path p = dir.resolve("s.gguf");
        w.write(p);
        assertEquals(2, calls.get());
        byte[] good = Files.readAllBytes(p);
        assertArrayEquals(good, w.toBytes(), "same input, same bytes");

        GgufWriter.TensorBytes failing = new GgufWriter.TensorBytes() {
            public long size() {
                return 8;
            }

            public void writeTo(WritableByteChannel out) throws IOException {
                out.write(ByteBuffer.wrap(new byte[4]));
                throw new IOException("disk on fire");
            }
        };
        GgufWriter.TensorBytes lying = new GgufWriter.TensorBytes() {
            public long size() {
                return 8;
            }

            public void writeTo(WritableByteChannel out) throws IOException {
                out.write(ByteBuffer.wrap(new byte[4]));
            }
        };
        for (GgufWriter.TensorBytes bad : List.of(failing, lying)) {
            TernException e = assertThrows(TernException.class,
                    () -> new GgufWriter().addTensor("x", GgmlType.F32, new long[] {2}, bad).write(p));
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
            assertArrayEquals(good, Files.readAllBytes(p), "the previous file is untouched");
            Path fresh = dir.resolve("fresh.gguf");
            assertThrows(TernException.class, () -> new GgufWriter().addTensor("x", GgmlType.F32, new long[] {2}, bad).write(fresh));
            assertFalse(Files.exists(fresh));
        }
        try (var s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList(), "no temp files left");
        }
    }

    @Test
    void copiesTensorsFromAnotherFile() throws IOException {
        Path src = GgufGoldenTest.DIR.resolve("tensors.gguf");
        Path p = dir.resolve("copy.gguf");
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter();
            for (GgufTensorInfo t : f.tensors()) w.addTensor(t.name(), t.type(), t.shape(), GgufWriter.TensorBytes.of(f.data(t.name())));
            write(w, p);
            try (GgufFile c = GgufFile.open(p)) {
                for (GgufTensorInfo t : f.tensors()) {
                    assertArrayEquals(f.data(t.name()).toArray(ValueLayout.JAVA_BYTE), c.data(t.name()).toArray(ValueLayout.JAVA_BYTE));
                }
            }
        }
    }
}
