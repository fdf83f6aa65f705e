package dev.tern.io.gguf;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An independent check of the writer: llama.cpp's own reader (gguf-py, tools/golden/gguf_check.py) reads a file
 * Tern wrote and must see the same keys, types, values, tensor placement and dequantized floats. Skipped with a
 * message where python3 with numpy or the shared gguf-py is missing.
 */
class GgufPyCheckTest {
    static final Path GGUF_PY = Path.of("..", "shared", "tools", "gguf-py");

    @TempDir
    Path dir;

    @Test
    void ggufPyReadsWhatTernWrote() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(GGUF_PY.resolve("gguf")), "skipped: no gguf-py at " + GGUF_PY);
        Random r = new Random(6);
        GgufWriter w = GgufWriterTest.everyValueType().alignment(64);
        List<String> names = new ArrayList<>();
        for (GgmlType t : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.TQ1_0,
                GgmlType.TQ2_0, GgmlType.Q4_K, GgmlType.I8}) {
            int n = 2 * 256;
            byte[] data = t == GgmlType.F32 ? GgmlCodec.encodeF32(new float[] {1, -2, 3.5f, 0, 5, 6, 7, 8}) : null;
            long[] shape = t == GgmlType.F32 ? new long[] {2, 2, 2} : new long[] {2, 256};
            if (data == null && t.readable()) data = GgufWriterTest.validFloats(t, n, r);
            if (data == null) {
                data = new byte[(int) t.bytes(n)];
                r.nextBytes(data);
            }
            String name = "blk.0." + t.name().toLowerCase() + ".weight";
            names.add(name);
            w.addTensor(name, t, shape, GgufWriter.TensorBytes.of(data));
        }
        w.putArray("no.strings", new GgufArray(GgufValueType.STRING, List.of()));
        Path p = dir.resolve("tern.gguf");
        GgufWriterTest.write(w, p);
        JsonNode py = runChecker(p);

        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, py.get("version").asInt());
            assertEquals(64, py.get("alignment").asInt());
            assertEquals(f.dataStart(), py.get("data_offset").asLong());
            GgufMetadata m = f.metadata();
            List<String> pyKeys = new ArrayList<>();
            for (JsonNode e : py.get("metadata")) {
                String key = e.get("key").asText();
                pyKeys.add(key);
                GgufValueType type = m.type(key);
                assertEquals(type.name(), e.get("type").asText(), key);
                Object tern = type == GgufValueType.ARRAY ? m.array(key).orElseThrow() : scalar(m, key, type);
                assertValue(tern, type, e.get("value"), key);
            }
            assertEquals(List.copyOf(m.keys()), pyKeys, "same keys, same order");
            assertEquals(names.size(), py.get("tensors").size());
            for (JsonNode t : py.get("tensors")) {
                String name = t.get("name").asText();
                GgufTensorInfo info = f.tensor(name);
                assertEquals(info.type().name(), t.get("type").asText(), name);
                long[] ne = new long[t.get("ne").size()];
                for (int i = 0; i < ne.length; i++) ne[i] = t.get("ne").get(i).asLong();
                assertArrayEquals(info.ne(), ne, name);
                assertEquals(info.offset(), t.get("offset").asLong(), name);
                assertEquals(info.bytes(), t.get("bytes").asLong(), name);
                if (info.type().readable()) {
                    assertArrayEquals(GgufGoldenTest.bits(f.floats(name)), GgufGoldenTest.ints(t.get("values")),
                            name + ": gguf-py dequantizes to the same floats");
                }
            }
        }
    }

    static Object scalar(GgufMetadata m, String key, GgufValueType t) {
        return switch (t) {
            case STRING -> m.requireString(key);
            case BOOL -> m.requireBool(key);
            case FLOAT32 -> (float) m.requireNumber(key);
            case FLOAT64 -> m.requireNumber(key);
            case UINT64 -> Long.parseUnsignedLong(m.get(key));
            default -> m.requireInteger(key);
        };
    }

    /** A value of the given type against gguf_check.py's JSON for it (arrays recursively, element by element). */
    static void assertValue(Object tern, GgufValueType type, JsonNode py, String key) {
        switch (type) {
            case ARRAY -> {
                GgufArray a = (GgufArray) tern;
                assertEquals(a.elementType().name(), py.get("element_type").asText(), key);
                assertEquals(a.size(), py.get("values").size(), key);
                for (int i = 0; i < a.size(); i++) assertValue(a.values().get(i), a.elementType(), py.get("values").get(i), key + "[" + i + "]");
            }
            case STRING -> assertEquals(tern, py.asText(), key);
            case BOOL -> assertEquals(tern, py.asBoolean(), key);
            case FLOAT32 -> assertEquals(Integer.toUnsignedLong(Float.floatToRawIntBits((Float) tern)), py.asLong(), key);
            case FLOAT64 -> assertEquals(Double.doubleToRawLongBits((Double) tern), py.asLong(), key);
            case UINT64 -> assertEquals(Long.toUnsignedString((Long) tern), py.bigIntegerValue().toString(), key);
            default -> assertEquals((long) (Long) tern, py.asLong(), key);
        }
    }

    static JsonNode runChecker(Path file) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("nice", "-n", "19", "python3", "tools/golden/gguf_check.py", file.toString());
        pb.environment().put("PYTHONPATH", GGUF_PY.toAbsolutePath().toString());
        Path err = Files.createTempFile("gguf-check", ".err");
        pb.redirectError(err.toFile());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            Assumptions.abort("skipped: python3 is not available (" + e.getMessage() + ")");
            throw e;
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "gguf_check.py timed out");
        String stderr = Files.readString(err);
        Files.delete(err);
        // One interpreter start instead of a separate probe: a missing numpy shows up as the checker's import error.
        Assumptions.assumeFalse(stderr.contains("No module named 'numpy'"), "skipped: python3 has no numpy");
        assertEquals(0, p.exitValue(), () -> "gguf_check.py failed: " + stderr);
        return new ObjectMapper().readTree(new String(out, StandardCharsets.UTF_8));
    }
}
