package dev.tern.model;

import dev.tern.TernException;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.io.ModelDir;
import dev.tern.io.TensorSource;
import dev.tern.tokenizer.HfTokenizer;
import dev.tern.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Loads any model Tern accepts — a Hugging Face folder or repo id, a llama2.c checkpoint, a Tern checkpoint. */
public final class ModelLoader {
    /** How dense float weights are held in memory. */
    public enum FloatFormat {
        F32, BF16;

        public static FloatFormat parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "f32", "fp32", "float32" -> F32;
                case "bf16", "bfloat16" -> BF16;
                default -> throw new TernException("unknown weight format '" + s + "' (use f32 or bf16)");
            };
        }

        LinearFactory factory() {
            return this == F32 ? LinearFactory.F32 : LinearFactory.BF16;
        }
    }

    private ModelLoader() {}

    public static LoadedModel load(String model, FloatFormat format) {
        return load(resolve(model), format);
    }

    /** A local folder as given, or a Hugging Face repo id resolved through the local cache (downloading if needed). */
    public static Path resolve(String model) {
        return dev.tern.io.HfHub.fromEnvironment().resolve(model);
    }

    public static LoadedModel load(Path dir, FloatFormat format) {
        if (!Files.exists(dir)) throw new TernException("model folder not found: " + dir);
        if (!Files.isDirectory(dir)) throw new TernException("not a folder: " + dir + " (give the model's folder)");
        if (TernCheckpoint.isCheckpoint(dir)) return loadCheckpoint(dir, format);
        ModelDir md = ModelDir.open(dir);
        ModelConfig config = md.config();
        LlamaModel m;
        try (TensorSource src = md.openWeights()) {
            m = WeightsLoader.load(config, src, format.factory());
        }
        return new LoadedModel(m, tokenizer(dir, config), dir, dir + " (" + md.format().name().toLowerCase() + ", " + format.name().toLowerCase() + ")");
    }

    private static LoadedModel loadCheckpoint(Path dir, FloatFormat format) {
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        TernCheckpoint.Contents cp = TernCheckpoint.read(dir);
        LlamaModel m;
        try (TensorSource src = cp.file()) {
            Map<String, QuantizedMatrix> layers = cp.layers();
            m = WeightsLoader.load(config, src, format.factory(), p -> layers.containsKey(p) ? LinearFactory.quantized(layers.get(p)) : null);
        }
        String method = cp.metadata().getOrDefault("tern.method", "?");
        return new LoadedModel(m, tokenizer(dir, config), dir, dir + " (tern checkpoint, " + method + ")");
    }

    /** tokenizer.json (+ tokenizer_config.json) when present, else a llama2.c tokenizer file in the folder. */
    public static Tokenizer tokenizer(Path dir, ModelConfig config) {
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            Path cfg = dir.resolve("tokenizer_config.json");
            return HfTokenizer.load(json, Files.isRegularFile(cfg) ? cfg : null);
        }
        Path tokBin = llama2cTokenizer(dir);
        if (tokBin != null) return dev.tern.tokenizer.Llama2cTokenizer.load(tokBin, config.vocabSize());
        throw new TernException("no tokenizer in " + dir + " (expected tokenizer.json, or a llama2.c tokenizer.bin / tok*.bin)");
    }

    static Path llama2cTokenizer(Path dir) {
        Path std = dir.resolve("tokenizer.bin");
        if (Files.isRegularFile(std)) return std;
        try (var s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith("tok") && n.endsWith(".bin") && Files.isRegularFile(p);
            }).sorted().findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }
}
