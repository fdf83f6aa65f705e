package dev.tern.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.tern.TernException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDirTest {
    static final Path SHARED = Path.of("..", "shared", "models");
    static final String CONFIG = """
            {"model_type":"llama","hidden_size":4,"intermediate_size":8,"num_hidden_layers":1,
             "num_attention_heads":2,"num_key_value_heads":1,"vocab_size":3}""";

    @TempDir
    Path tmp;

    private static void assertFails(Path dir, String fragment) {
        TernException e = assertThrows(TernException.class, () -> ModelDir.open(dir));
        assertTrue(e.getMessage().contains(fragment), () -> e.getMessage() + " lacks " + fragment);
    }

    @Test
    void tinyStoriesFolder() {
        ModelDir d = ModelDir.open(SHARED.resolve("tinystories-656k"));
        assertEquals(ModelDir.Format.SAFETENSORS, d.format());
        assertTrue(d.tokenizerJson().isPresent());
        assertTrue(d.tokenizerConfigJson().isPresent());
        assertTrue(d.configJson().isPresent());
        assertTrue(d.llama2cTokenizer().isEmpty());
        assertEquals(128, d.config().hiddenSize());
        try (TensorSource s = d.openWeights()) {
            assertTrue(s.has("model.embed_tokens.weight"));
            assertArrayEquals(new long[] {2048, 128}, s.shape("model.embed_tokens.weight"));
        }
    }

    @Test
    void llama2cFolder() {
        ModelDir d = ModelDir.open(SHARED.resolve("stories260k"));
        assertEquals(ModelDir.Format.LLAMA2C, d.format());
        assertEquals("tok512.bin", d.llama2cTokenizer().orElseThrow().getFileName().toString());
        assertEquals("stories260K.bin", d.weightFiles().getFirst().getFileName().toString());
        assertTrue(d.configJson().isEmpty());
        assertEquals(64, d.config().hiddenSize());
        try (TensorSource s = d.openWeights()) {
            assertTrue(s.has("model.layers.4.mlp.up_proj.weight"));
        }
    }

    @Test
    void errors() throws IOException {
        assertFails(tmp.resolve("nope"), "model folder not found");
        Path file = Files.writeString(tmp.resolve("f.txt"), "x");
        assertFails(file, "not a folder");

        Path noConfig = Files.createDirectory(tmp.resolve("noconfig"));
        new SafetensorsWriter().write(noConfig.resolve("model.safetensors"));
        assertFails(noConfig, "no config.json");

        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertFails(empty, "no config.json and no weights");

        Path noWeights = Files.createDirectory(tmp.resolve("noweights"));
        Files.writeString(noWeights.resolve("config.json"), CONFIG);
        assertFails(noWeights, "no weights");

        Path noTok = Files.createDirectory(tmp.resolve("notok"));
        Files.write(noTok.resolve("model.bin"), new byte[28]);
        assertFails(noTok, "no tokenizer");

        Path missingShard = Files.createDirectory(tmp.resolve("missingshard"));
        Files.writeString(missingShard.resolve("config.json"), CONFIG);
        Files.writeString(missingShard.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\"}}");
        assertFails(missingShard, "shard missing");
    }

    private Path shardedDir(String name, String index) throws IOException {
        Path d = Files.createDirectory(tmp.resolve(name));
        Files.writeString(d.resolve("config.json"), CONFIG);
        new SafetensorsWriter().addF32("a", new long[] {2}, new float[] {1, 2})
                .addF32("b", new long[] {1}, new float[] {3})
                .putMetadata("tied.b", "b")
                .write(d.resolve("s1.safetensors"));
        new SafetensorsWriter().addF16("c", new long[] {2, 1}, new float[] {4, 5}).write(d.resolve("s2.safetensors"));
        Files.writeString(d.resolve("model.safetensors.index.json"), index);
        return d;
    }

    @Test
    void sharded() throws IOException {
        Path d = shardedDir("ok", """
                {"metadata":{"total_size":16},
                 "weight_map":{"a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors"}}""");
        ModelDir md = ModelDir.open(d);
        assertEquals(ModelDir.Format.SHARDED_SAFETENSORS, md.format());
        assertEquals(2, md.weightFiles().size());
        try (TensorSource s = md.openWeights()) {
            assertEquals(java.util.Set.of("a", "b", "c", "tied.b"), s.names());
            assertArrayEquals(new float[] {4, 5}, s.floats("c"));
            assertArrayEquals(new float[] {3}, s.floats("tied.b"));
            assertEquals("F16", s.dtype("c"));
            assertArrayEquals(new long[] {2, 1}, s.shape("c"));
            assertThrows(TernException.class, () -> s.floats("zz"));
        }
    }

    @Test
    void shardedInconsistent() throws IOException {
        Path wrongShard = shardedDir("wrong", "{\"weight_map\":{\"a\":\"s2.safetensors\",\"c\":\"s1.safetensors\"}}");
        TernException e = assertThrows(TernException.class, () -> ModelDir.open(wrongShard).openWeights());
        assertTrue(e.getMessage().contains("not stored there"), e.getMessage());

        Path evil = shardedDir("evil", "{\"weight_map\":{\"a\":\"../s1.safetensors\"}}");
        e = assertThrows(TernException.class, () -> ModelDir.open(evil));
        assertTrue(e.getMessage().contains("invalid shard name"), e.getMessage());

        Path dup = shardedDir("dup", "{\"weight_map\":{\"a\":\"s1.safetensors\",\"a\":\"s2.safetensors\"}}");
        e = assertThrows(TernException.class, () -> ModelDir.open(dup));
        assertTrue(e.getMessage().contains("malformed"), e.getMessage());

        Path twice = shardedDir("twice", "{\"weight_map\":{\"a\":\"s1.safetensors\",\"c\":\"s2.safetensors\"}}");
        new SafetensorsWriter().addF16("c", new long[] {1}, new float[] {4}).addF32("a", new long[] {1}, new float[] {9})
                .write(twice.resolve("s2.safetensors"));
        e = assertThrows(TernException.class, () -> ModelDir.open(twice).openWeights());
        assertTrue(e.getMessage().contains("stored in both"), e.getMessage());
    }
}
