package dev.tern.convert;

import dev.tern.TestData;
import dev.tern.format.F16;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.format.TernaryMatrix;
import dev.tern.io.SafetensorsFile;
import dev.tern.io.SafetensorsWriter;
import dev.tern.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A small Tern checkpoint whose projections hold exactly what TQ1_0/TQ2_0 hold (one f16 scale per 256 weights of a
 * row, no offset, no permutation), with seeded weights scaled by 1/sqrt(fan_in) so that greedy decoding has clear
 * winners, and the tinystories-656k tokenizer. Its float tensors are f16-representable, so an F16 export is exact.
 */
final class TinyTernaryCheckpoint {
    static final int HIDDEN = 256, INTER = 512, HEADS = 4, KV_HEADS = 2, LAYERS = 2, VOCAB = 2048, CTX = 512;

    private TinyTernaryCheckpoint() {}

    static ModelConfig config() {
        return new ModelConfig("llama", HIDDEN, INTER, LAYERS, HEADS, KV_HEADS, HIDDEN / HEADS, VOCAB, CTX, 10000.0, 1e-5,
                false, false, false, null, 1, List.of(2));
    }

    /** Writes the checkpoint folder; with asymmetric the first q_proj gets an offset μ (not TQ-exact). */
    static Path write(Path dir, long seed, boolean asymmetric) throws IOException {
        ModelConfig c = config();
        Random r = new Random(seed);
        Files.createDirectories(dir);
        Path floats = dir.resolve("floats.tmp");
        SafetensorsWriter fw = new SafetensorsWriter();
        fw.addF32("model.embed_tokens.weight", new long[] {VOCAB, HIDDEN}, gaussian(r, VOCAB * HIDDEN, 1.0));
        float[] head = gaussian(r, VOCAB * HIDDEN, 8.0 / Math.sqrt(HIDDEN));
        fw.addF32("lm_head.weight", new long[] {VOCAB, HIDDEN}, head);
        fw.addF32("model.norm.weight", new long[] {HIDDEN}, ones(HIDDEN, r));
        Map<String, QuantizedMatrix> layers = new TreeMap<>();
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            fw.addF32(p + "input_layernorm.weight", new long[] {HIDDEN}, ones(HIDDEN, r));
            fw.addF32(p + "post_attention_layernorm.weight", new long[] {HIDDEN}, ones(HIDDEN, r));
            layers.put(p + "self_attn.q_proj", ternary(r, c.qDim(), HIDDEN, asymmetric && l == 0));
            layers.put(p + "self_attn.k_proj", ternary(r, c.kvDim(), HIDDEN, false));
            layers.put(p + "self_attn.v_proj", ternary(r, c.kvDim(), HIDDEN, false));
            layers.put(p + "self_attn.o_proj", ternary(r, HIDDEN, c.qDim(), false));
            layers.put(p + "mlp.gate_proj", ternary(r, INTER, HIDDEN, false));
            layers.put(p + "mlp.up_proj", ternary(r, INTER, HIDDEN, false));
            layers.put(p + "mlp.down_proj", ternary(r, HIDDEN, INTER, false));
        }
        fw.write(floats);
        try (SafetensorsFile src = SafetensorsFile.open(floats)) {
            TernCheckpoint.build(src, layers, Map.of("tern.method", "test tq-exact"), false).write(dir.resolve(TernCheckpoint.FILE));
        }
        Files.delete(floats);
        Files.writeString(dir.resolve("config.json"), c.toJson().toPrettyString());
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(TestData.tinyStories().resolve(f), dir.resolve(f));
        }
        return dir;
    }

    static TernaryMatrix ternary(Random r, int rows, int cols, boolean withMu) {
        byte[] t = new byte[rows * cols];
        for (int i = 0; i < t.length; i++) t[i] = (byte) (r.nextInt(3) - 1);
        int groups = cols / 256;
        float[] alpha = new float[rows * groups], mu = new float[rows * groups];
        // Ternary weights have variance (2/3)·α²: α = sqrt(1.5/fan_in) keeps activations at unit scale.
        for (int i = 0; i < alpha.length; i++) alpha[i] = (float) Math.sqrt(1.5 / cols) * (0.8f + 0.4f * r.nextFloat());
        if (withMu) for (int i = 0; i < mu.length; i++) mu[i] = 0.01f * (float) r.nextGaussian();
        return new TernaryMatrix(rows, cols, 256, t, F16.round(alpha), F16.round(mu), null);
    }

    private static float[] gaussian(Random r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (std * r.nextGaussian());
        return F16.round(v);
    }

    private static float[] ones(int n, Random r) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = 1f + 0.1f * (float) r.nextGaussian();
        return F16.round(v);
    }
}
