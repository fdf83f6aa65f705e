package dev.tern.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.format.TernaryMatrix;
import dev.tern.format.TritPlaneMatrix;
import dev.tern.format.UniformMatrix;
import dev.tern.io.SafetensorsFile;
import dev.tern.io.SafetensorsWriter;
import dev.tern.io.gguf.GgmlCodec;
import dev.tern.io.gguf.GgmlType;
import dev.tern.io.gguf.GgufArray;
import dev.tern.io.gguf.GgufValueType;
import dev.tern.io.gguf.GgufWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Regenerates the committed seed inputs under src/test/resources/dev/tern/fuzz/*Inputs/ from small synthetic files and
 * cut-down copies of the shared tinystories-656k files (never its weights). Run from the repository root with the test
 * classpath: {@code java -cp target/classes:target/test-classes:$(deps) dev.tern.fuzz.SeedCorpus ../shared [gguf]}
 * (a second argument regenerates only that target's seeds).
 */
public final class SeedCorpus {
    private static final Path OUT = Path.of("src/test/resources/dev/tern/fuzz");
    private static final ObjectMapper JSON = new ObjectMapper();

    private SeedCorpus() {}

    public static void main(String[] args) throws Exception {
        Path shared = Path.of(args.length > 0 ? args[0] : "../shared");
        Path tiny = shared.resolve("models/tinystories-656k");
        if (args.length > 1 && args[1].equals("gguf")) {
            gguf();
            return;
        }
        safetensors(tiny);
        sharded();
        configs(tiny);
        hfTokenizers(tiny);
        llama2c(shared);
        ternCheckpoints();
        gguf();
    }

    static void seed(String target, String name, byte[] bytes) throws IOException {
        Path dir = OUT.resolve(target);
        Files.createDirectories(dir);
        Files.write(dir.resolve(name), bytes);
    }

    static float[] ramp(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i - n / 2f) * scale;
        return v;
    }

    /** One tensor of each dtype, an empty tensor, metadata and a tied alias. */
    static SafetensorsWriter mixed() {
        return new SafetensorsWriter()
                .addF32("embed", new long[] {2, 3}, ramp(6, 0.5f))
                .addF16("norm", new long[] {4}, ramp(4, 0.25f))
                .addBF16("bf", new long[] {2, 2}, ramp(4, 1f))
                .addI32("perm", new long[] {3}, new int[] {2, 0, 1})
                .addU8("codes", new long[] {5}, new byte[] {0, 1, 2, (byte) 242, 7})
                .addF32("empty", new long[] {0, 4}, new float[0])
                .putMetadata("format", "pt")
                .putMetadata("lm_head.weight", "embed");
    }

    static void safetensors(Path tiny) throws IOException {
        String t = "SafetensorsFuzzTestInputs/open";
        seed(t, "mixed.safetensors", mixed().toBytes());
        seed(t, "one-f32.safetensors", new SafetensorsWriter().addF32("w", new long[] {2}, new float[] {1, -1}).toBytes());
        // Real tensor names and values, cut to a few rows so the seed stays small.
        try (SafetensorsFile s = SafetensorsFile.open(tiny.resolve("model.safetensors"))) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (String n : s.storedNames()) {
                long[] shape = s.shape(n);
                float[] v = s.floats(n);
                int cols = (int) shape[shape.length - 1];
                int keep = Math.min(cols, 8);
                float[] head = java.util.Arrays.copyOf(v, keep);
                if (n.contains("layers.1") || n.contains("mlp")) continue;
                w.addBF16(n, new long[] {keep}, head);
            }
            w.putMetadata(s.metadata());
            seed(t, "tinystories-cut.safetensors", w.toBytes());
        }
    }

    static void sharded() throws IOException {
        byte[] shard1 = new SafetensorsWriter().addF32("a", new long[] {2}, new float[] {1, 2})
                .addF16("b", new long[] {1, 2}, new float[] {3, 4}).putMetadata("tied", "a").toBytes();
        byte[] shard2 = new SafetensorsWriter().addBF16("c", new long[] {3}, new float[] {5, 6, 7}).toBytes();
        String index = """
                {"metadata": {"total_size": 26},
                 "weight_map": {"a": "%s", "b": "%s", "c": "%s"}}
                """.formatted(ShardedSafetensorsFuzzTest.SHARD1, ShardedSafetensorsFuzzTest.SHARD1,
                ShardedSafetensorsFuzzTest.SHARD2);
        String t = "ShardedSafetensorsFuzzTestInputs/open";
        seed(t, "two-shards", FuzzInput.join(index.getBytes(StandardCharsets.UTF_8), shard1, shard2));
        String one = "{\"weight_map\": {\"a\": \"%s\"}}".formatted(ShardedSafetensorsFuzzTest.SHARD1);
        seed(t, "one-shard", FuzzInput.join(one.getBytes(StandardCharsets.UTF_8),
                new SafetensorsWriter().addF32("a", new long[] {1}, new float[] {1}).toBytes()));
    }

    static void configs(Path tiny) throws IOException {
        String t = "ModelConfigFuzzTestInputs/read";
        byte[] real = Files.readAllBytes(tiny.resolve("config.json"));
        seed(t, "tinystories-656k.json", real);
        ObjectNode qwen3 = (ObjectNode) JSON.readTree(real);
        qwen3.put("model_type", "qwen3").put("head_dim", 32).put("num_key_value_heads", 2).putArray("eos_token_id").add(2).add(3);
        seed(t, "qwen3.json", JSON.writeValueAsBytes(qwen3));
        ObjectNode llama3 = (ObjectNode) JSON.readTree(real);
        llama3.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 256);
        llama3.put("rope_theta", 500000.0).put("tie_word_embeddings", false);
        seed(t, "llama3-scaling.json", JSON.writeValueAsBytes(llama3));
        ObjectNode qwen2 = (ObjectNode) JSON.readTree(real);
        qwen2.put("model_type", "qwen2").remove("num_key_value_heads");
        seed(t, "qwen2-no-kv.json", JSON.writeValueAsBytes(qwen2));
    }

    static void hfTokenizers(Path tiny) throws IOException {
        String t = "HfTokenizerFuzzTestInputs/load";
        byte[] text = "Once upon a time, Lily saw a big dog! 123 ünï 🙂\n<|end_story|>".getBytes(StandardCharsets.UTF_8);
        byte[] tinyConfig = Files.readAllBytes(tiny.resolve("tokenizer_config.json"));
        seed(t, "tinystories-cut", FuzzInput.join(cutTokenizer(tiny.resolve("tokenizer.json"), 300), tinyConfig, text));
        seed(t, "tinystories-cut-no-config", cutTokenizer(tiny.resolve("tokenizer.json"), 300));
        Path fixtures = Path.of("src/test/resources/tokenizer");
        seed(t, "sp-bytefallback", FuzzInput.join(Files.readAllBytes(fixtures.resolve("sp-bytefallback-tokenizer.json")),
                Files.readAllBytes(fixtures.resolve("sp-bytefallback-tokenizer_config.json")), text));
        seed(t, "bytelevel", FuzzInput.join(cutTokenizer(fixtures.resolve("bytelevel-tokenizer.json"), 400),
                Files.readAllBytes(fixtures.resolve("bytelevel-tokenizer_config.json")), text));
    }

    /** The tokenizer with only its first {@code keep} vocab entries and the merges among them. */
    static byte[] cutTokenizer(Path file, int keep) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
        ObjectNode model = (ObjectNode) root.get("model");
        ObjectNode vocab = JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.get("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().asInt() < keep) vocab.set(e.getKey(), e.getValue());
        }
        ArrayNode merges = JSON.createArrayNode();
        for (JsonNode m : model.get("merges")) {
            String a, b;
            if (m.isArray()) {
                a = m.get(0).asText();
                b = m.get(1).asText();
            } else {
                String[] ab = m.asText().split(" ", 2);
                a = ab[0];
                b = ab.length > 1 ? ab[1] : "";
            }
            if (vocab.has(a) && vocab.has(b) && vocab.has(a + b)) merges.add(m);
        }
        model.set("vocab", vocab);
        model.set("merges", merges);
        return JSON.writeValueAsBytes(root);
    }

    static void llama2c(Path shared) throws IOException {
        String t = "Llama2cFuzzTestInputs/checkpoint";
        seed(t, "shared-classifier.bin", llama2cCheckpoint(8, 12, 1, 2, 1, 6, 4));
        seed(t, "own-classifier.bin", llama2cCheckpoint(8, 12, 2, 2, 2, -6, 3));
        String tk = "Llama2cFuzzTestInputs/tokenizer";
        byte[] text = "Once upon a time, Lily saw a big dog! ünï 🙂".getBytes(StandardCharsets.UTF_8);
        seed(tk, "tok512", FuzzInput.join(Files.readAllBytes(shared.resolve("models/stories260k/tok512.bin")), text));
        seed(tk, "minimal.bin", minimalTokenizerBin());
    }

    /** The legacy llama2.c layout: 7 int32 header, then every array in export order; negative vocab = own classifier. */
    static byte[] llama2cCheckpoint(int dim, int hidden, int layers, int heads, int kvHeads, int vocabRaw, int seqLen) {
        int vocab = Math.abs(vocabRaw), kvDim = dim / heads * kvHeads, headSize = dim / heads;
        long floats = (long) vocab * dim + layers * ((long) dim + (long) dim * dim + 2L * kvDim * dim + (long) dim * dim
                + dim + 3L * hidden * dim) + dim + (long) seqLen * headSize + (vocabRaw < 0 ? (long) vocab * dim : 0);
        ByteBuffer b = ByteBuffer.allocate(28 + (int) floats * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int h : new int[] {dim, hidden, layers, heads, kvHeads, vocabRaw, seqLen}) b.putInt(h);
        Random r = new Random(7);
        while (b.hasRemaining()) b.putFloat((float) r.nextGaussian());
        return b.array();
    }

    /** unk, BOS, EOS, the 256 byte tokens, then a few merges. */
    static byte[] minimalTokenizerBin() {
        ByteBuffer b = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(8);
        String[] pieces = new String[3 + 256 + 4];
        pieces[0] = "<unk>";
        pieces[1] = "\n<s>\n";
        pieces[2] = "\n</s>\n";
        for (int i = 0; i < 256; i++) pieces[3 + i] = String.format("<0x%02X>", i);
        pieces[259] = " ";
        pieces[260] = "a";
        pieces[261] = " a";
        pieces[262] = "ab";
        for (int i = 0; i < pieces.length; i++) {
            byte[] p = pieces[i].getBytes(StandardCharsets.ISO_8859_1);
            b.putFloat(i < 259 ? 0f : -i);
            b.putInt(p.length);
            b.put(p);
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    static void ternCheckpoints() throws IOException {
        Path tmp = Files.createTempDirectory("tern-seed");
        try {
            Path src = tmp.resolve("src.safetensors");
            int rows = 3, cols = 7, group = 4, groups = 2;
            new SafetensorsWriter()
                    .addF32("model.embed_tokens.weight", new long[] {4, cols}, ramp(4 * cols, 0.1f))
                    .addF16("model.norm.weight", new long[] {cols}, ramp(cols, 0.2f))
                    .addF32("model.layers.0.self_attn.q_proj.weight", new long[] {rows, cols}, ramp(rows * cols, 0.3f))
                    .addF32("model.layers.0.mlp.up_proj.weight", new long[] {rows, cols}, ramp(rows * cols, 0.3f))
                    .addBF16("model.layers.0.mlp.down_proj.weight", new long[] {rows, cols}, ramp(rows * cols, 0.3f))
                    .write(src);
            byte[] trits = new byte[rows * cols], trits2 = new byte[rows * cols], codes = new byte[rows * cols];
            for (int i = 0; i < trits.length; i++) {
                trits[i] = (byte) (i % 3 - 1);
                trits2[i] = (byte) ((i / 2) % 3 - 1);
                codes[i] = (byte) (i % 8);
            }
            float[] p = ramp(rows * groups, 0.5f);
            Map<String, QuantizedMatrix> all = new LinkedHashMap<>();
            all.put("model.layers.0.self_attn.q_proj", new TernaryMatrix(rows, cols, group, trits, p, p, new int[] {6, 0, 1, 2, 3, 4, 5}));
            all.put("model.layers.0.mlp.up_proj", new TritPlaneMatrix(rows, cols, group, trits, trits2, p, p, null));
            all.put("model.layers.0.mlp.down_proj", new UniformMatrix(rows, cols, group, 3, codes, p, p, null));
            String t = "TernCheckpointFuzzTestInputs/read";
            try (SafetensorsFile s = SafetensorsFile.open(src)) {
                seed(t, "all-kinds.safetensors", TernCheckpoint.build(s, all, Map.of("tern.method", "seed"), false).toBytes());
                for (Map.Entry<String, QuantizedMatrix> e : all.entrySet()) {
                    seed(t, e.getValue().kind() + ".safetensors",
                            TernCheckpoint.build(s, Map.of(e.getKey(), e.getValue()), Map.of(), false).toBytes());
                }
            }
        } finally {
            FuzzChecks.deleteTree(tmp);
        }
    }

    /** The gguf-py golden fixtures (tiny: a few KB), and a Tern-written file with every value and ternary type. */
    static void gguf() throws IOException {
        String t = "GgufFuzzTestInputs/open";
        Path fixtures = Path.of("src/test/resources/gguf");
        seed(t, "gguf-py-tensors.gguf", Files.readAllBytes(fixtures.resolve("tensors.gguf")));
        seed(t, "gguf-py-metadata.gguf", Files.readAllBytes(fixtures.resolve("metadata.gguf")));
        byte[] trits = new byte[256];
        for (int i = 0; i < trits.length; i++) trits[i] = (byte) (i % 3 - 1);
        GgufWriter w = new GgufWriter().alignment(16)
                .putString("general.architecture", "llama").putU8("u8", 7).putI8("i8", -7).putU16("u16", 7)
                .putI16("i16", -7).putU32("u32", 7).putI32("i32", -7).putU64("u64", -1).putI64("i64", -7)
                .putF32("f32", 0.5f).putF64("f64", 0.25).putBool("b", true)
                .putStringArray("tokens", java.util.List.of("<s>", "a", "\u00e9"))
                .putF32Array("scores", new float[] {0, -1}).putI32Array("types", new int[] {1, 2})
                .putArray("nested", new GgufArray(GgufValueType.ARRAY, java.util.List.of(
                        new GgufArray(GgufValueType.UINT64, java.util.List.of(1L)), new GgufArray(GgufValueType.BOOL, java.util.List.of(false)))))
                .addTensor("tq1", GgmlType.TQ1_0, new long[] {1, 256}, GgufWriter.TensorBytes.of(GgmlCodec.encodeTq1_0(trits, 1, 256, new float[] {0.5f})))
                .addTensor("tq2", GgmlType.TQ2_0, new long[] {1, 256}, GgufWriter.TensorBytes.of(GgmlCodec.encodeTq2_0(trits, 1, 256, new float[] {0.5f})))
                .addTensor("q8", GgmlType.Q8_0, new long[] {32}, GgufWriter.TensorBytes.of(GgmlCodec.encodeQ8_0(ramp(32, 0.1f))))
                .addTensor("bf", GgmlType.BF16, new long[] {2, 2}, GgufWriter.TensorBytes.of(GgmlCodec.encodeBf16(ramp(4, 1f))))
                .addTensor("q4k", GgmlType.Q4_K, new long[] {256}, GgufWriter.TensorBytes.of(new byte[144]));
        seed(t, "tern-every-type.gguf", w.toBytes());
        seed(t, "tern-minimal.gguf", new GgufWriter()
                .addTensor("w", GgmlType.F32, new long[] {2}, GgufWriter.TensorBytes.of(GgmlCodec.encodeF32(new float[] {1, -1}))).toBytes());
    }
}
