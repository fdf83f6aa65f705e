package dev.tern.quant;

import dev.tern.TernException;
import dev.tern.cli.Versions;
import dev.tern.eval.TextDatasets;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.io.AtomicFiles;
import dev.tern.io.ModelDir;
import dev.tern.io.SafetensorsWriter;
import dev.tern.io.TensorSource;
import dev.tern.model.ModelConfig;
import dev.tern.model.ModelLoader;
import dev.tern.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/** `quantize` end to end: source model → calibration → layer pipeline → Tern checkpoint folder (and optional float export). */
public final class QuantizeJob {
    /** Everything the job needs besides the method. nsamples/seqlen/calib are ignored by data-free methods. */
    public record Settings(Path modelDir, Path out, QuantMethod method, int nsamples, Integer seqlen, String calib, long seed,
            Path exportDequantized, boolean progress, boolean resume) {}

    /** What was written and what it cost. */
    public record Summary(Path out, LayerPipeline.Result result, double quantBitsPerWeight, double fileBitsPerParam, long quantWeights) {}

    private static final List<String> COPIED = List.of("config.json", "tokenizer.json", "tokenizer_config.json",
            "generation_config.json", "special_tokens_map.json", "tokenizer.model");

    private QuantizeJob() {}

    public static Summary run(Settings s, Consumer<String> log) {
        checkOutput(s.out());
        if (s.exportDequantized() != null) checkOutput(s.exportDequantized());
        ModelDir md = ModelDir.open(s.modelDir());
        ModelConfig cfg = md.config();
        Tokenizer tok = ModelLoader.tokenizer(s.modelDir(), cfg);
        Calibration calib = null;
        int seqlen = s.seqlen() != null ? s.seqlen() : cfg.evalWindow();
        if (seqlen < 2 || seqlen > cfg.maxPositions()) throw new TernException("--seqlen must be in [2, " + cfg.maxPositions() + "], got " + seqlen);
        checkMemory(cfg, s.method(), s.nsamples(), seqlen, Runtime.getRuntime().maxMemory());
        if (!s.method().dataFree()) {
            log.accept("calibration: " + s.nsamples() + " windows x " + seqlen + " tokens from " + s.calib() + ", seed " + s.seed());
            calib = Calibration.sample(tok, TextDatasets.calibrationText(s.calib()), s.calib(), s.nsamples(), seqlen, s.seed());
        }
        try (TensorSource src = md.openWeights()) {
            log.accept("method: " + s.method().describe());
            String fingerprint = s.method().describe() + " seed=" + s.seed() + " calib=" + s.calib() + " nsamples=" + s.nsamples()
                    + " seqlen=" + seqlen + " model=" + s.modelDir().toAbsolutePath().normalize();
            ResumeState.Saved saved = null;
            if (s.resume()) {
                saved = ResumeState.load(s.out(), fingerprint, calib == null ? 0 : calib.windows().length);
                if (saved == null) log.accept("no resume state in " + s.out() + "; starting from the first block");
                else log.accept("resuming at block " + saved.nextLayer() + " of " + cfg.numLayers());
            } else {
                ResumeState.clear(s.out());
            }
            LayerPipeline.BlockListener keep = (layer, block, x) -> ResumeState.save(s.out(), fingerprint, layer, block, x);
            LayerPipeline.Result r = new LayerPipeline(cfg, src, s.method(), log).run(calib, saved == null ? 0 : saved.nextLayer(),
                    saved == null ? null : saved.activations(), s.progress(), keep);
            if (saved != null) {
                Map<String, QuantizedMatrix> all = new java.util.LinkedHashMap<>(saved.layers());
                all.putAll(r.layers());
                r = new LayerPipeline.Result(all, r.seconds(), r.peakHeapBytes(), r.stats(), r.blocks());
            }
            Map<String, String> meta = new TreeMap<>();
            meta.put("tern.method", s.method().name());
            meta.put("tern.flags", s.method().describe());
            meta.put("tern.seed", String.valueOf(s.seed()));
            meta.put("tern.calibration", calib == null ? "none (data-free)" : calib.source() + " " + s.nsamples() + "x" + seqlen);
            meta.put("tern.version", Versions.VERSION);
            meta.put("tern.source_model", s.modelDir().toAbsolutePath().normalize().getFileName().toString());
            writeFolder(s.out(), s.modelDir(), md, cfg, TernCheckpoint.build(src, r.layers(), meta, cfg.tiedEmbeddings()));
            if (s.exportDequantized() != null) {
                writeFolder(s.exportDequantized(), s.modelDir(), md, cfg, dequantizedExport(src, r.layers(), meta));
                log.accept("dequantized float export written to " + s.exportDequantized());
            }
            ResumeState.clear(s.out());
            long bits = 0, weights = 0;
            for (QuantizedMatrix q : r.layers().values()) {
                bits += q.storageBits();
                weights += (long) q.rows() * q.cols();
            }
            Map<String, Object> settings = new java.util.LinkedHashMap<>();
            settings.put("method", s.method().describe());
            settings.put("model", s.modelDir().toAbsolutePath().normalize().toString());
            settings.put("calibration", calib == null ? "none (data-free)" : calib.source() + ", " + s.nsamples() + " windows x " + seqlen + " tokens, seed " + s.seed());
            settings.put("nsamples", calib == null ? 0 : s.nsamples());
            settings.put("seqlen", calib == null ? 0 : seqlen);
            settings.put("seed", s.seed());
            settings.put("flags", s.method().flags());
            settings.put("threads", dev.tern.util.Parallel.threads());
            settings.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
            settings.put("resumed_at_block", saved == null ? 0 : saved.nextLayer());
            settings.put("tern_version", Versions.VERSION);
            QuantReport.write(s.out(), QuantReport.toJson(settings, r, (double) bits / weights, weights));
            long params = weights;
            for (String n : src.names()) if (!isQuantizedWeight(n, r.layers())) params += numel(src.shape(n));
            double fileBits;
            try {
                fileBits = 8.0 * Files.size(s.out().resolve(TernCheckpoint.FILE)) / params;
            } catch (IOException e) {
                throw new TernException("cannot read back " + s.out() + ": " + e.getMessage());
            }
            return new Summary(s.out(), r, (double) bits / weights, fileBits, weights);
        }
    }

    private static boolean isQuantizedWeight(String name, Map<String, QuantizedMatrix> layers) {
        return name.endsWith(".weight") && layers.containsKey(name.substring(0, name.length() - 7));
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** A plain float safetensors model: the source tensors with each quantized weight replaced by its dequantized value. */
    private static SafetensorsWriter dequantizedExport(TensorSource src, Map<String, QuantizedMatrix> layers, Map<String, String> meta) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : new java.util.TreeSet<>(src.names())) {
            float[] data = isQuantizedWeight(name, layers) ? layers.get(name.substring(0, name.length() - 7)).dequantize() : src.floats(name);
            w.addF32(name, src.shape(name), data);
        }
        Map<String, String> m = new TreeMap<>(meta);
        m.put("format", "pt");
        m.put("tern.export", "dequantized");
        w.putMetadata(m);
        return w;
    }

    /**
     * Heap the pipeline needs at its peak (README, "End to end at real size"): the calibration activations
     * 4·N·L·h; one block's weights in f32 twice (the source arrays not yet quantized plus the packed copies of those
     * done, or during the calibration pass the source plus its packed copy); the Hessians of the four input sites in
     * double, 8·(2h² + q² + i²), plus GPTQ's working inverse of the largest, 8·max(h, q, i)²; one window's block
     * buffers and the KV cache. The f32 embedding table, 4·V·h, is held only while the windows are embedded, and
     * a data-free method needs one block and one working inverse. On top: the finished layers' unpacked codes, one
     * byte per quantized weight (two for trit-planes), held until the checkpoint is written.
     */
    public static long estimateBytes(ModelConfig c, QuantMethod m, int nsamples, int seqlen) {
        long h = c.hiddenSize(), inter = c.intermediateSize(), q = c.qDim(), kv = c.kvDim();
        long block = 4L * 2 * c.projectionWeightsPerLayer();
        long largest = Math.max(Math.max(h, q), inter);
        long codes = (m.quantizer().format() == QuantFormat.TRITPLANE ? 2L : 1L) * c.numLayers() * c.projectionWeightsPerLayer();
        if (m.dataFree()) return codes + block + 8L * largest * largest;
        long acts = 4L * nsamples * seqlen * h;
        long window = 4L * seqlen * (3 * h + 2 * q + 2 * kv + 2 * inter) + 4L * 2 * seqlen * kv * c.numLayers();
        long hessians = 8L * (2 * h * h + q * q + inter * inter) + 8L * largest * largest;
        return codes + acts + Math.max(4L * c.vocabSize() * h, block + hessians + window);
    }

    /** The JVM heap to start `quantize` with: the estimate plus a quarter for the collector, and 256 MiB for the rest. */
    public static long plannedHeapBytes(ModelConfig c, QuantMethod m, int nsamples, int seqlen) {
        return estimateBytes(c, m, nsamples, seqlen) * 5 / 4 + (256L << 20);
    }

    static void checkMemory(ModelConfig c, QuantMethod m, int nsamples, int seqlen, long maxHeap) {
        long need = estimateBytes(c, m, nsamples, seqlen);
        if (need <= maxHeap * 0.9) return;
        long perSample = 4L * seqlen * c.hiddenSize();
        long fixed = estimateBytes(c, m, 0, seqlen);
        long fit = (long) ((maxHeap * 0.9 - fixed) / perSample);
        String hint = !m.dataFree() && fit >= 1 ? "lower --nsamples to " + fit + " or --seqlen, or raise TERN_HEAP"
                : "raise TERN_HEAP (the JVM heap) or use a machine with more memory";
        throw new TernException(String.format("quantizing this model needs about %.1f GiB of heap, but only %.1f GiB is available; %s",
                need / 1073741824.0, maxHeap / 1073741824.0, hint));
    }

    /** Refuses an output path that is a file or cannot be created/written. */
    static void checkOutput(Path out) {
        if (Files.exists(out) && !Files.isDirectory(out)) throw new TernException("output " + out + " exists and is not a folder");
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new TernException("cannot create output folder " + out + ": " + e.getMessage());
        }
        if (!Files.isWritable(out)) throw new TernException("output folder " + out + " is not writable");
    }

    private static void writeFolder(Path out, Path srcDir, ModelDir md, ModelConfig cfg, SafetensorsWriter weights) {
        try {
            for (String f : COPIED) {
                Path p = srcDir.resolve(f);
                if (Files.isRegularFile(p)) AtomicFiles.writeBytes(out.resolve(f), Files.readAllBytes(p));
            }
            if (!Files.isRegularFile(srcDir.resolve("config.json"))) {
                AtomicFiles.writeString(out.resolve("config.json"), cfg.toJson().toPrettyString());
            }
            if (md.format() == ModelDir.Format.GGUF) {
                // A GGUF source keeps its tokenizer in its metadata: carry it over as a tensor-less GGUF file.
                try (var g = dev.tern.convert.GgufModelSource.open(srcDir)) {
                    dev.tern.convert.GgufVocabs.writeTokenizerFile(out.resolve(dev.tern.convert.GgufVocabs.TOKENIZER_FILE), g.vocab());
                }
            }
            if (md.llama2cTokenizer().isPresent()) {
                Path t = md.llama2cTokenizer().get();
                AtomicFiles.writeBytes(out.resolve(t.getFileName().toString()), Files.readAllBytes(t));
            }
        } catch (IOException e) {
            throw new TernException("cannot copy model files into " + out + ": " + e.getMessage());
        }
        // The weights go last: a folder whose model.safetensors exists is complete.
        weights.write(out.resolve(TernCheckpoint.FILE));
    }
}
