package dev.tern.cli;

import dev.tern.TernException;
import dev.tern.model.ModelLoader;
import dev.tern.quant.Gptq;
import dev.tern.quant.LayerPipeline;
import dev.tern.quant.QuantMethod;
import dev.tern.quant.QuantizeJob;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `tern quantize`: post-training quantization of a model folder into a Tern checkpoint. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize a model (PT²-LLM by default) into a Tern checkpoint folder.")
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|REPO", description = "Source model folder or Hugging Face repo id.")
    String model;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Output folder for the Tern checkpoint.")
    Path out;

    @Option(names = "--method", defaultValue = "pt2", description = "pt2 (default), atq, rtn-ternary, rtn-twn, gptq, ptqtp.")
    String method;

    @Option(names = "--bits", defaultValue = "2", description = "Bits for --method gptq (2..8, default ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--group", paramLabel = "N", description = "Columns per group = GPTQ block (default 128; 256 with --tq-exact).")
    Integer group;

    @Option(names = "--no-itf", description = "Ablation: skip Iterative Ternary Fitting.")
    boolean noItf;

    @Option(names = "--no-aga", description = "Ablation: skip Activation-aware Grid Alignment.")
    boolean noAga;

    @Option(names = "--order", paramLabel = "ORDER",
            description = "Column order: ssr (pt2 default), none, act-order, random; static / static-act-order (pt2): groups are fixed runs of --group columns in natural order with grids fitted before the column pass, which visits the columns in SSR / act order; codes stay in natural order, no permutation is stored.")
    String order;

    @Option(names = "--grid", paramLabel = "G",
            description = "pt2, atq: asymmetric (default, α·t + μ) or symmetric (μ = 0: ATQ, ITF, AGA and the refits fit α alone).")
    String grid;

    @Option(names = "--tq-exact",
            description = "pt2 whose ternary layers llama.cpp's TQ1_0/TQ2_0 hold exactly: --grid symmetric --group 256 --order static (f16 α per 256 columns of a row, no μ, no permutation). Contradicting flags are refused.")
    boolean tqExact;

    @Option(names = "--propagation", paramLabel = "P", description = "Error feedback inside a block: column (default for pt2, gptq and ptqtp --gptq) or block.")
    String propagation;

    @Option(names = "--refits", defaultValue = "2", paramLabel = "N",
            description = "pt2: rounds of refitting α, μ (grid step + AGA) on the trits of each block's column pass, each followed by re-rounding the trits (default ${DEFAULT-VALUE}; 0 = keep the block-start grid and GPTQ's trits; with a static order the rounds run after the column pass, on whole rows; with --grid symmetric they refit α alone).")
    int refits;

    @Option(names = "--aga-gram", defaultValue = "plain", paramLabel = "G",
            description = "pt2 ablation: the matrix AGA fits to: plain (default, the calibration inputs' Gram), damped (GPTQ's H + λ·mean(diag)·I).")
    String agaGram;

    @Option(names = "--gptq", description = "With --method ptqtp: run the two-plane quantizer inside GPTQ with error compensation.")
    boolean ptqtpGptq;

    @Option(names = "--nsamples", defaultValue = "128", description = "Calibration windows (default ${DEFAULT-VALUE}).")
    int nsamples;

    @Option(names = "--seqlen", description = "Calibration window length (default min(2048, model context)).")
    Integer seqlen;

    @Option(names = "--calib", defaultValue = "wikitext2", paramLabel = "NAME|FILE", description = "wikitext2 (default), tinystories, or a text file.")
    String calib;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--damp", defaultValue = "0.01", description = "Hessian dampening λ (default ${DEFAULT-VALUE}).")
    double damp;

    @Option(names = "--export-dequantized", paramLabel = "DIR", description = "Also write a plain float safetensors model there.")
    Path exportDequantized;

    @Option(names = "--resume", description = "Continue an interrupted run in --out (same settings) from its last finished block.")
    boolean resume;

    @Option(names = "--plan-heap", hidden = true, description = "Print the heap this run needs, in MiB, and exit (used by the launcher).")
    boolean planHeap;

    @Override
    public Integer call() {
        Gptq.Gram gram = switch (agaGram) {
            case "plain" -> Gptq.Gram.PLAIN;
            case "damped" -> Gptq.Gram.DAMPED;
            default -> throw new TernException("unknown --aga-gram '" + agaGram + "' (plain, damped)");
        };
        if (grid != null && !grid.equals("symmetric") && !grid.equals("asymmetric")) {
            throw new TernException("unknown --grid '" + grid + "' (asymmetric, symmetric)");
        }
        if (tqExact) {
            java.util.List<String> clash = new java.util.ArrayList<>();
            if (!method.equalsIgnoreCase("pt2")) clash.add("--method " + method);
            if (grid != null && !grid.equals("symmetric")) clash.add("--grid " + grid);
            if (group != null && group != QuantMethod.TQ_GROUP) clash.add("--group " + group);
            if (order != null && !QuantMethod.parseOrder(order).isStatic()) clash.add("--order " + order);
            if (propagation != null && !propagation.equalsIgnoreCase("column")) clash.add("--propagation " + propagation);
            if (!clash.isEmpty()) {
                throw new TernException("--tq-exact means " + QuantMethod.TQ_PRESET + "; it contradicts " + String.join(" ", clash));
            }
            grid = "symmetric";
            group = QuantMethod.TQ_GROUP;
            if (order == null) order = "static";
        }
        QuantMethod m = QuantMethod.of(method, bits, group == null ? 128 : group, !noItf, !noAga, order, propagation, ptqtpGptq,
                seed, damp, refits, gram, "symmetric".equals(grid), tqExact);
        Path dir = ModelLoader.resolve(model);
        if (planHeap) {
            var cfg = dev.tern.io.ModelDir.open(dir).config();
            int len = seqlen != null ? seqlen : cfg.evalWindow();
            long heap = QuantizeJob.plannedHeapBytes(cfg, m, nsamples, len);
            // The float export holds every tensor in f32 until it is written.
            long params = (cfg.tiedEmbeddings() ? 1L : 2L) * cfg.vocabSize() * cfg.hiddenSize() + (long) cfg.numLayers() * cfg.projectionWeightsPerLayer();
            if (exportDequantized != null) heap = Math.max(heap, 4L * params * 5 / 4 + (256L << 20));
            System.out.println(heap >> 20);
            return 0;
        }
        QuantizeJob.Summary s = QuantizeJob.run(new QuantizeJob.Settings(dir, out, m, nsamples, seqlen, calib, seed,
                exportDequantized, System.console() != null, resume), line -> System.err.println("tern: " + line));
        LayerPipeline.Result r = s.result();
        System.out.printf("wrote       %s%n", s.out());
        System.out.printf("method      %s%n", m.describe());
        System.out.printf("bits/weight %.3f over %d quantized weights (codes + scales + offsets + permutation)%n", s.quantBitsPerWeight(), s.quantWeights());
        System.out.printf("file        %.3f bits per parameter (whole model.safetensors)%n", s.fileBitsPerParam());
        System.out.printf("time        %.1f s%n", r.seconds());
        System.out.printf("peak heap   %.1f MiB%n", r.peakHeapBytes() / 1048576.0);
        return 0;
    }
}
