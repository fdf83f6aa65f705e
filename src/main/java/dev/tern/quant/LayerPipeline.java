package dev.tern.quant;

import dev.tern.TernException;
import dev.tern.format.F16;
import dev.tern.format.QuantizedMatrix;
import dev.tern.io.TensorSource;
import dev.tern.kernels.DenseF32Linear;
import dev.tern.kernels.LinearOp;
import dev.tern.model.KvCache;
import dev.tern.model.LayerWeights;
import dev.tern.model.LlamaModel;
import dev.tern.model.ModelConfig;
import dev.tern.model.Transformer;
import dev.tern.util.Progress;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Layer-wise post-training quantization (METHOD.md §3): block by block, the calibration activations (already through
 * the quantized earlier blocks) run through the block in full precision while the inputs of its linear layers are
 * accumulated into one Hessian per shared input; the seven layers are quantized; then the block is re-run with the
 * quantized weights to produce the next block's inputs. Only one block's f32 weights are held at a time.
 */
public final class LayerPipeline {
    /**
     * Outcome: quantized layers by prefix ("model.layers.0.self_attn.q_proj"), wall time, peak heap, and per layer and
     * per block what it cost (the blocks quantized in this run only, when resumed).
     */
    public record Result(Map<String, QuantizedMatrix> layers, double seconds, long peakHeapBytes, List<LayerStats> stats,
            List<BlockTime> blocks) {}

    /** One block's wall time: the full-precision calibration pass and Hessians, the seven layers, the re-run. */
    public record BlockTime(int block, double calibrationSeconds, double quantizeSeconds, double rerunSeconds) {}

    /** Called after each finished block (for resumable runs); may be null. */
    public interface BlockListener {
        void finished(int layer, Map<String, QuantizedMatrix> blockLayers, float[][] activations);
    }

    private static final Transformer.Site[] SITE_OF = {
        Transformer.Site.QKV, Transformer.Site.QKV, Transformer.Site.QKV, Transformer.Site.O,
        Transformer.Site.GATE_UP, Transformer.Site.GATE_UP, Transformer.Site.DOWN
    };

    private final ModelConfig c;
    private final TensorSource src;
    private final QuantMethod method;
    private final Consumer<String> log;

    public LayerPipeline(ModelConfig c, TensorSource src, QuantMethod method, Consumer<String> log) {
        this.c = c;
        this.src = src;
        this.method = method;
        this.log = log;
    }

    /**
     * Quantizes every block from `startLayer` on. calibration may be null for data-free methods. `activations` are the
     * inputs of block `startLayer` per window (null: embed the calibration windows), used when resuming.
     */
    public Result run(Calibration calibration, int startLayer, float[][] activations, boolean progress, BlockListener listener) {
        long t0 = System.nanoTime();
        resetPeaks();
        Map<String, QuantizedMatrix> out = new LinkedHashMap<>();
        boolean calibrate = !method.dataFree();
        if (calibrate && calibration == null) throw new IllegalArgumentException("method " + method.name() + " needs calibration data");
        int L = calibrate ? calibration.seqlen() : 0;
        Transformer tf = null;
        KvCache cache = null;
        float[][] x = activations;
        if (calibrate) {
            if (x == null) {
                // The f32 embedding table is needed only here; the blocks never read it, so it is not kept.
                float[] emb = src.floats("model.embed_tokens.weight");
                Transformer embed = new Transformer(new LlamaModel(c, emb, new LayerWeights[c.numLayers()], null, null), L);
                x = new float[calibration.windows().length][];
                for (int s = 0; s < x.length; s++) x[s] = embed.embed(calibration.windows()[s], 0, L);
            }
            tf = new Transformer(new LlamaModel(c, new float[0], new LayerWeights[c.numLayers()], null, null), L);
            cache = tf.newCache(L);
        }
        int[][] shape = c.projectionShapes();
        // Progress counts weights (in thousands), so the ETA follows the work rather than the number of layers.
        long perBlock = 0;
        for (int[] sh : shape) perBlock += (long) sh[0] * sh[1] / 1000;
        long total = (c.numLayers() - startLayer) * perBlock;
        List<LayerStats> stats = new ArrayList<>();
        List<BlockTime> times = new ArrayList<>();
        try (Progress p = Progress.start("quantize", total, "kweights", progress)) {
            for (int l = startLayer; l < c.numLayers(); l++) {
                long b0 = System.nanoTime();
                String prefix = "model.layers." + l + ".";
                float[][] w = new float[7][];
                for (int i = 0; i < 7; i++) w[i] = src.floats(prefix + LayerWeights.LINEAR_NAMES[i] + ".weight");
                LayerWeights fp = layerWeights(prefix, w, shape);
                Map<Transformer.Site, HessianAccumulator> hs = new LinkedHashMap<>();
                double calibSecs = 0;
                if (calibrate) {
                    p.message("block " + l + ": calibration pass");
                    long c0 = System.nanoTime();
                    capture(tf, l, fp, x, L, cache, hs);
                    calibSecs = (System.nanoTime() - c0) / 1e9;
                }
                // The packed f32 copies served the calibration pass; the re-run uses the quantized layers.
                fp = fp.withLinears(new LinearOp[7]);
                long b1 = System.nanoTime();
                Map<String, QuantizedMatrix> block = new LinkedHashMap<>();
                LinearOp[] q = new LinearOp[7];
                Map<Transformer.Site, double[]> hcache = new LinkedHashMap<>();
                for (int i = 0; i < 7; i++) {
                    String name = LayerWeights.LINEAR_NAMES[i];
                    p.message("block " + l + ": " + name);
                    double[] h = null;
                    if (calibrate) h = hcache.computeIfAbsent(SITE_OF[i], s -> hs.remove(s).hessian());
                    long t0l = System.nanoTime();
                    QuantizedLayer ql = Gptq.quantize(w[i], shape[i][0], shape[i][1], h, method.quantizer(), method.options());
                    QuantizedMatrix qm = F16.roundParams(ql.matrix());
                    double secs = (System.nanoTime() - t0l) / 1e9;
                    block.put(prefix + name, qm);
                    // Later blocks must see exactly what the checkpoint will compute: the f16-rounded parameters.
                    float[] wq = qm.dequantize();
                    stats.add(new LayerStats(prefix + name, l, name, shape[i][0], shape[i][1], qm.storageBits(),
                            LayerStats.weightRelError(w[i], wq),
                            h == null ? Double.NaN : LayerStats.outputRelError(w[i], wq, shape[i][0], shape[i][1], h),
                            ql.meanItfSteps(), ql.maxItfSteps(), secs));
                    q[i] = new DenseF32Linear(wq, shape[i][0], shape[i][1]);
                    w[i] = null;
                    // A site's Hessian is done with after its last layer (the order is q k v | o | gate up | down).
                    if (i == 6 || SITE_OF[i + 1] != SITE_OF[i]) hcache.remove(SITE_OF[i]);
                    p.stepBy((long) shape[i][0] * shape[i][1] / 1000);
                }
                hcache.clear();
                hs.clear();
                long b2 = System.nanoTime();
                if (calibrate) {
                    LayerWeights qw = fp.withLinears(q);
                    for (float[] xs : x) tf.block(l, qw, xs, L, 0, cache, null);
                }
                times.add(new BlockTime(l, calibSecs, (b2 - b1) / 1e9, (System.nanoTime() - b2) / 1e9));
                out.putAll(block);
                if (listener != null) listener.finished(l, block, x);
                log.accept(String.format("block %d/%d done (%.1f s)", l + 1, c.numLayers(), (System.nanoTime() - t0) / 1e9));
            }
        }
        return new Result(out, (System.nanoTime() - t0) / 1e9, peakHeap(), stats, times);
    }

    /**
     * Runs every window through block l with weights lw and accumulates into hs the Hessian of every input site. The
     * windows themselves are not changed.
     */
    private void capture(Transformer tf, int l, LayerWeights lw, float[][] x, int seqlen, KvCache cache,
            Map<Transformer.Site, HessianAccumulator> hs) {
        for (Transformer.Site s : Transformer.Site.values()) hs.put(s, new HessianAccumulator(siteDim(s)));
        for (float[] xs : x) {
            float[] copy = xs.clone();
            tf.block(l, lw, copy, seqlen, 0, cache, (layer, site, in, n) -> hs.get(site).add(in, n));
        }
    }

    private int siteDim(Transformer.Site s) {
        return switch (s) {
            case QKV, GATE_UP -> c.hiddenSize();
            case O -> c.qDim();
            case DOWN -> c.intermediateSize();
        };
    }

    private LayerWeights layerWeights(String p, float[][] w, int[][] shape) {
        LinearOp[] l = new LinearOp[7];
        for (int i = 0; i < 7; i++) l[i] = new DenseF32Linear(w[i], shape[i][0], shape[i][1]);
        return new LayerWeights(f(p + "input_layernorm.weight"), l[0], l[1], l[2], l[3],
                c.qkvBias() ? f(p + "self_attn.q_proj.bias") : null, c.qkvBias() ? f(p + "self_attn.k_proj.bias") : null,
                c.qkvBias() ? f(p + "self_attn.v_proj.bias") : null,
                c.qkNorm() ? f(p + "self_attn.q_norm.weight") : null, c.qkNorm() ? f(p + "self_attn.k_norm.weight") : null,
                f(p + "post_attention_layernorm.weight"), l[4], l[5], l[6]);
    }

    private float[] f(String name) {
        if (!src.has(name)) throw new TernException("weights: missing tensor " + name);
        return src.floats(name);
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean b : ManagementFactory.getMemoryPoolMXBeans()) b.resetPeakUsage();
    }

    /** Sum of the heap pools' peak usage since the run started. */
    public static long peakHeap() {
        long s = 0;
        for (MemoryPoolMXBean b : ManagementFactory.getMemoryPoolMXBeans()) {
            if (b.getType() == MemoryType.HEAP && b.getPeakUsage() != null) s += b.getPeakUsage().getUsed();
        }
        return s;
    }

}
