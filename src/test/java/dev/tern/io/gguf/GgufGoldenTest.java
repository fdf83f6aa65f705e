package dev.tern.io.gguf;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TernException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Tern's reader and encoders against files and values written by llama.cpp's own Python package (gguf-py), made by
 * tools/golden/gguf_fixtures.py. Every float is compared as its bit pattern.
 */
class GgufGoldenTest {
    static final Path DIR = Path.of("src/test/resources/gguf");
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode json(String name) throws IOException {
        return JSON.readTree(DIR.resolve(name).toFile());
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (int) a.get(i).asLong(); // uint32 bit patterns wrap to int
        return out;
    }

    static float[] floats(JsonNode bits) {
        int[] b = ints(bits);
        float[] out = new float[b.length];
        for (int i = 0; i < b.length; i++) out[i] = Float.intBitsToFloat(b[i]);
        return out;
    }

    static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Float.floatToRawIntBits(v[i]);
        return out;
    }

    static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void typeTableMatchesGgufPy() throws IOException {
        JsonNode table = json("types.json");
        Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        table.fields().forEachRemaining(e -> {
            GgmlType t = GgmlType.valueOf(e.getKey());
            JsonNode v = e.getValue();
            assertEquals(v.get(0).asInt(), t.id(), t + " id");
            assertEquals(v.get(1).asInt(), t.blockSize(), t + " block size");
            assertEquals(v.get(2).asInt(), t.typeSize(), t + " type size");
            assertSame(t, GgmlType.of(t.id()));
            seen.add(t);
        });
        assertEquals(EnumSet.allOf(GgmlType.class), seen, "every Tern type is one of gguf-py's and vice versa");
    }

    @Test
    void tensorsReadBitForBit() throws IOException {
        JsonNode exp = json("tensors.json");
        try (GgufFile f = GgufFile.open(DIR.resolve("tensors.gguf"))) {
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
            assertEquals(exp.get("data_offset").asLong(), f.dataStart());
            assertEquals("tern-test", f.metadata().requireString("general.architecture"));
            List<String> names = new ArrayList<>();
            for (JsonNode t : exp.get("tensors")) {
                String name = t.get("name").asText();
                names.add(name);
                GgufTensorInfo info = f.tensor(name);
                assertEquals(GgmlType.valueOf(t.get("type").asText()), info.type(), name);
                long[] ne = new long[t.get("ne").size()];
                for (int i = 0; i < ne.length; i++) ne[i] = t.get("ne").get(i).asLong();
                assertArrayEquals(ne, info.ne(), name);
                long[] shape = new long[ne.length];
                for (int i = 0; i < ne.length; i++) shape[i] = ne[ne.length - 1 - i];
                assertArrayEquals(shape, f.shape(name), name);
                assertEquals(t.get("offset").asLong(), info.offset(), name);
                assertEquals(t.get("bytes").asLong(), info.bytes(), name);
                assertEquals(info.bytes(), f.data(name).byteSize(), name);
                assertEquals(info.type().name(), f.dtype(name));
                if (info.type() == GgmlType.I32) {
                    int[] got = f.data(name).toArray(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                    assertArrayEquals(ints(t.get("ints")), got);
                    TernException e = assertThrows(TernException.class, () -> f.floats(name));
                    assertTrue(e.getMessage().contains(name) && e.getMessage().contains("I32")
                            && e.getMessage().contains("tensors.gguf"), e.getMessage());
                    continue;
                }
                assertArrayEquals(ints(t.get("values")), bits(f.floats(name)), name + " dequantized as gguf-py does");
            }
            assertEquals(names, f.tensors().stream().map(GgufTensorInfo::name).toList(), "file order");
            assertEquals(Set.copyOf(names), f.names());
        }
    }

    /** Tern's encoders produce exactly the bytes gguf-py's quantizers wrote from the same floats. */
    @Test
    void encodersMatchGgufPyBytes() throws IOException {
        JsonNode exp = json("tensors.json");
        try (GgufFile f = GgufFile.open(DIR.resolve("tensors.gguf"))) {
            for (JsonNode t : exp.get("tensors")) {
                String name = t.get("name").asText();
                GgmlType type = GgmlType.valueOf(t.get("type").asText());
                byte[] want = bytes(f.data(name));
                byte[] got = switch (type) {
                    case F32 -> GgmlCodec.encodeF32(floats(t.get("source")));
                    case F16 -> GgmlCodec.encodeF16(floats(t.get("source")));
                    case BF16 -> GgmlCodec.encodeBf16(floats(t.get("source")));
                    case Q8_0 -> GgmlCodec.encodeQ8_0(floats(t.get("source")));
                    case TQ1_0, TQ2_0 -> {
                        GgufTensorInfo info = f.tensor(name);
                        int cols = (int) info.rowLength(), rows = (int) (info.elements() / cols);
                        byte[] trits = tritsOf(t);
                        float[] d = halves(t.get("d_f16"));
                        yield type == GgmlType.TQ1_0 ? GgmlCodec.encodeTq1_0(trits, rows, cols, d)
                                : GgmlCodec.encodeTq2_0(trits, rows, cols, d);
                    }
                    default -> want;
                };
                assertArrayEquals(want, got, name);
            }
        }
    }

    /** Trits and scales read back from gguf-py's TQ files equal the ones computed from the source floats. */
    @Test
    void ternaryDecodesToTheTritsGgufPyQuantized() throws IOException {
        JsonNode exp = json("tensors.json");
        int checked = 0;
        try (GgufFile f = GgufFile.open(DIR.resolve("tensors.gguf"))) {
            for (JsonNode t : exp.get("tensors")) {
                if (!t.has("trits")) continue;
                String name = t.get("name").asText();
                GgmlCodec.Ternary tern = f.ternary(name);
                byte[] want = tritsOf(t);
                assertArrayEquals(want, tern.trits(), name);
                assertArrayEquals(bits(halves(t.get("d_f16"))), bits(tern.d()), name);
                // The dequantized floats are exactly d · t.
                float[] deq = f.floats(name);
                for (int i = 0; i < deq.length; i++) assertEquals(tern.d()[i / 256] * want[i], deq[i], 0f, name + " " + i);
                long nonZero = 0;
                for (byte b : want) nonZero += b != 0 ? 1 : 0;
                assertTrue(nonZero > 0 && nonZero < want.length, "the fixture mixes trits");
                checked++;
            }
        }
        assertEquals(2, checked);
    }

    static byte[] tritsOf(JsonNode t) {
        JsonNode a = t.get("trits");
        byte[] out = new byte[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (byte) a.get(i).asInt();
        return out;
    }

    static float[] halves(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat((short) a.get(i).asInt());
        return out;
    }

    @Test
    void metadataOfEveryValueType() throws IOException {
        JsonNode exp = json("metadata.json");
        try (GgufFile f = GgufFile.open(DIR.resolve("metadata.gguf"))) {
            GgufMetadata m = f.metadata();
            List<String> keys = new ArrayList<>();
            for (JsonNode e : exp.get("metadata")) {
                String key = e.get("key").asText();
                keys.add(key);
                GgufValueType type = GgufValueType.valueOf(e.get("type").asText());
                assertEquals(type, m.type(key), key);
                if (type == GgufValueType.ARRAY) {
                    GgufArray a = m.array(key).orElseThrow();
                    assertEquals(GgufValueType.valueOf(e.get("element_type").asText()), m.arrayElementType(key), key);
                    assertArray(e, a, key);
                } else {
                    assertScalar(e, m, key);
                }
            }
            assertEquals(keys, List.copyOf(m.keys()), "file order");
            assertEquals(List.of("a", "", "\u00fcn\u00ef"), m.stringArray("test.strings"));
            assertArrayEquals(new int[] {1, -2, 3}, m.intArray("test.i32s"));
            assertArrayEquals(new int[] {0, 1, 255}, m.intArray("test.u8s"));
            assertArrayEquals(new float[] {0.5f, -1.25f, 1e-3f}, m.floatArray("test.f32s"));
            TernException wrong = assertThrows(TernException.class, () -> m.stringArray("test.u64"));
            assertEquals(DIR.resolve("metadata.gguf") + ": metadata key test.u64 has type UINT64, expected ARRAY",
                    wrong.getMessage());
            assertEquals(List.of(), m.stringArray("no.such.key"));
            assertEquals(0, m.floatArray("no.such.key").length);
            TernException missing = assertThrows(TernException.class, () -> m.requireString("no.such.key"));
            assertEquals(DIR.resolve("metadata.gguf") + ": missing metadata key no.such.key", missing.getMessage());
            assertEquals("18446744073709551615", m.get("test.u64"));
            assertEquals("[array of 2 ARRAY]", m.get("test.nested"));
            assertEquals("200", f.metadata().asStrings().get("test.u8"));
        }
    }

    private static void assertScalar(JsonNode e, GgufMetadata m, String key) {
        GgufValueType type = m.type(key);
        switch (type) {
            case STRING -> assertEquals(e.get("value").asText(), m.requireString(key));
            case BOOL -> assertEquals(e.get("value").asBoolean(), m.bool(key).orElseThrow());
            case FLOAT32 -> assertEquals(e.get("bits").asLong(),
                    Integer.toUnsignedLong(Float.floatToRawIntBits((float) m.requireNumber(key))));
            case FLOAT64 -> assertEquals(e.get("bits").asLong(), Double.doubleToRawLongBits(m.requireNumber(key)));
            case UINT64 -> {
                assertEquals(e.get("value").bigIntegerValue().toString(), m.asStrings().get(key));
                assertThrows(TernException.class, () -> m.integer(key), "2^64 - 1 does not fit a signed long");
            }
            default -> {
                assertEquals(e.get("value").asLong(), m.requireInteger(key), key);
                assertEquals(e.get("value").asLong(), (long) m.requireNumber(key), key);
            }
        }
    }

    private static void assertArray(JsonNode e, GgufArray a, String key) {
        JsonNode vals = e.get("value");
        assertEquals(vals.size(), a.size(), key);
        for (int i = 0; i < a.size(); i++) {
            JsonNode v = vals.get(i);
            Object got = a.values().get(i);
            switch (a.elementType()) {
                case ARRAY -> assertArray(v, (GgufArray) got, key + "[" + i + "]");
                case STRING -> assertEquals(v.get("value").asText(), got);
                case BOOL -> assertEquals(v.get("value").asBoolean(), got);
                case FLOAT32 -> assertEquals(v.get("bits").asLong(), Integer.toUnsignedLong(Float.floatToRawIntBits((Float) got)));
                case UINT8 -> assertEquals(v.asLong(), got);
                default -> assertEquals(v.get("value").asLong(), got, key);
            }
        }
    }

    /** A custom alignment moves the data section and the offsets; gguf-py and Tern agree on both. */
    @Test
    void customAlignment() throws IOException {
        JsonNode exp = json("metadata.json");
        try (GgufFile f = GgufFile.open(DIR.resolve("metadata.gguf"))) {
            assertEquals(64, f.alignment());
            assertEquals(exp.get("data_offset").asLong(), f.dataStart());
            assertEquals(0, f.dataStart() % 64);
            for (JsonNode t : exp.get("tensors")) {
                String name = t.get("name").asText();
                assertEquals(t.get("offset").asLong(), f.tensor(name).offset(), name);
                assertEquals(0, f.tensor(name).offset() % 64, name);
                assertArrayEquals(ints(t.get("values")), bits(f.floats(name)), name);
            }
        }
    }
}
