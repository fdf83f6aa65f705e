package dev.tern.model;

import dev.tern.TernException;
import dev.tern.convert.GgufFiles;
import dev.tern.convert.GgufModelSource;
import dev.tern.convert.GgufVocabs;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.io.ModelDir;
import dev.tern.io.TensorSource;
import dev.tern.kernels.KernelConfig;
import dev.tern.kernels.KernelSelector;
import dev.tern.tokenizer.HfTokenizer;
import dev.tern.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/** Loads any model Tern accepts — a Hugging Face folder or repo id, a llama2.c checkpoint, a Tern checkpoint, a GGUF file. */
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

    public static LoadedModel load(String model, FloatFormat format, KernelConfig kernels, Consumer<String> log) {
        return load(resolve(model), format, kernels, log);
    }

    /** A local folder as given, or a Hugging Face repo id resolved through the local cache (downloading if needed). */
    public static Path resolve(String model) {
        return dev.tern.io.HfHub.fromEnvironment().resolve(model);
    }

    /** Packed layers run by the kernel the probe picks (cached per machine); its lines go nowhere. */
    public static LoadedModel load(Path dir, FloatFormat format) {
        return load(dir, format, KernelConfig.auto(), s -> { });
    }

    public static LoadedModel load(Path dir, FloatFormat format, KernelConfig kernels, Consumer<String> log) {
        if (!Files.exists(dir)) throw new TernException("model folder not found: " + dir);
        if (GgufFiles.looksLikeGguf(dir)) return loadGguf(dir, format, kernels, log);
        if (!Files.isDirectory(dir)) throw new TernException("not a folder: " + dir + " (give the model's folder)");
        if (TernCheckpoint.isCheckpoint(dir)) return loadCheckpoint(dir, format, kernels, log);
        ModelDir md = ModelDir.open(dir);
        ModelConfig config = md.config();
        checkMemory(config, format == FloatFormat.F32 ? 4 : 2, Runtime.getRuntime().maxMemory());
        LlamaModel m;
        try (TensorSource src = md.openWeights()) {
            m = WeightsLoader.load(config, src, format.factory());
        }
        return new LoadedModel(m, tokenizer(dir, config), dir, dir + " (" + md.format().name().toLowerCase() + ", " + format.name().toLowerCase() + ")");
    }

    /**
     * Heap a loaded model needs: its projection weights at bytesPerWeight, the f32 embedding table (and an untied
     * head at bytesPerWeight), the KV cache of one full context, and a 512 MiB allowance for one prefill window's
     * buffers and chunked logits. An estimate, meant to refuse a load that cannot fit before it starts.
     */
    public static long estimateBytes(ModelConfig c, double bytesPerWeight) {
        long h = c.hiddenSize();
        double weights = bytesPerWeight * c.projectionWeightsPerLayer() * c.numLayers();
        long vocab = (long) c.vocabSize() * h;
        double head = c.tiedEmbeddings() ? 0 : Math.max(2, bytesPerWeight) * vocab;
        long kv = 4L * 2 * c.numLayers() * c.maxPositions() * c.kvDim();
        return (long) (weights + head) + 4L * vocab + kv + (512L << 20);
    }

    /** Refuses a model whose estimated heap exceeds maxHeap, naming what would make it fit. */
    static void checkMemory(ModelConfig c, int bytesPerWeight, long maxHeap) {
        long need = estimateBytes(c, bytesPerWeight);
        if (need <= maxHeap) return;
        String hint = bytesPerWeight > 2 && estimateBytes(c, 2) <= maxHeap
                ? "load it with --weights bf16 (half the memory) or raise TERN_HEAP"
                : "raise TERN_HEAP (the JVM heap), or quantize it first (./tern quantize) on a machine where it fits";
        throw new TernException(String.format("this model needs about %.1f GiB of heap as %s, but only %.1f GiB is available; %s",
                need / 1073741824.0, bytesPerWeight == 4 ? "f32" : "bf16", maxHeap / 1073741824.0, hint));
    }

    private static LoadedModel loadCheckpoint(Path dir, FloatFormat format, KernelConfig kernels, Consumer<String> log) {
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        TernCheckpoint.Contents cp = TernCheckpoint.read(dir);
        LlamaModel m;
        Map<String, QuantizedMatrix> layers = cp.layers();
        KernelSelector.Choice kernel = KernelSelector.choose(kernels, LinearFactory.ternaryShapes(layers.values()), log);
        java.util.function.Function<String, QuantizedMatrix> folded = PermutationFolding.foldedLookup(layers);
        try (TensorSource src = cp.file()) {
            m = WeightsLoader.load(config, src, format.factory(), p -> {
                QuantizedMatrix q = folded.apply(p);
                return q == null ? null : LinearFactory.quantized(q, kernel.kind());
            });
        }
        String method = cp.metadata().getOrDefault("tern.method", "?");
        return new LoadedModel(m, tokenizer(dir, config), dir,
                dir + " (tern checkpoint, " + method + "; kernel " + kernel.describe() + ")");
    }

    /**
     * A GGUF file's tokenizer (from its metadata); in a folder, tokenizer.json (+ tokenizer_config.json) when present,
     * else the tokenizer.gguf of a checkpoint quantized from a GGUF model, else a llama2.c tokenizer file.
     */
    public static Tokenizer tokenizer(Path dir, ModelConfig config) {
        if (GgufFiles.looksLikeGguf(dir)) return ggufTokenizer(dir);
        Path tg = dir.resolve(GgufVocabs.TOKENIZER_FILE);
        if (Files.isRegularFile(tg) && !Files.isRegularFile(dir.resolve("tokenizer.json"))) return ggufTokenizer(tg);
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            Path cfg = dir.resolve("tokenizer_config.json");
            return HfTokenizer.load(json, Files.isRegularFile(cfg) ? cfg : null);
        }
        Path tokBin = llama2cTokenizer(dir);
        if (tokBin != null) return dev.tern.tokenizer.Llama2cTokenizer.load(tokBin, config.vocabSize());
        throw new TernException("no tokenizer in " + dir + " (expected tokenizer.json, or a llama2.c tokenizer.bin / tok*.bin)");
    }

    private static Tokenizer ggufTokenizer(Path file) {
        try (var f = dev.tern.io.gguf.GgufFile.open(file)) {
            return GgufVocabs.read(f.metadata(), file.toString()).tokenizer();
        }
    }

    /** The llama2.c tokenizer file in a folder (tokenizer.bin, else the first tok*.bin), or null. */
    public static Path llama2cTokenizerIn(Path dir) {
        return llama2cTokenizer(dir);
    }

    /**
     * A GGUF model: float tensors converted to the chosen float format at load, TQ1_0/TQ2_0 projections run as packed
     * ternary layers (one scale per 256 weights, no offset) on the kernel the probe picks.
     */
    private static LoadedModel loadGguf(Path file, FloatFormat format, KernelConfig kernels, Consumer<String> log) {
        try (GgufModelSource g = GgufModelSource.open(file)) {
            ModelConfig config = g.config();
            Map<String, dev.tern.format.TernaryMatrix> layers = g.ternaryLayers();
            if (layers.isEmpty()) checkMemory(config, format == FloatFormat.F32 ? 4 : 2, Runtime.getRuntime().maxMemory());
            Tokenizer tok = g.vocab().tokenizer();
            String how;
            LlamaModel m;
            if (layers.isEmpty()) {
                m = WeightsLoader.load(config, g, format.factory());
                how = "gguf, " + format.name().toLowerCase();
            } else {
                KernelSelector.Choice kernel = KernelSelector.choose(kernels, LinearFactory.ternaryShapes(layers.values()), log);
                m = WeightsLoader.load(config, g, format.factory(),
                        p -> layers.containsKey(p) ? LinearFactory.quantized(layers.get(p), kernel.kind()) : null);
                how = "gguf, " + layers.size() + " ternary layers; kernel " + kernel.describe();
            }
            return new LoadedModel(m, tok, file, file + " (" + how + ")");
        }
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
