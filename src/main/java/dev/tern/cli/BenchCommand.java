package dev.tern.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.TernException;
import dev.tern.bench.MatmulComparison;
import dev.tern.bench.ModelBench;
import dev.tern.kernels.KernelSelector;
import dev.tern.model.Architectures;
import dev.tern.model.LlamaModel;
import dev.tern.model.LoadedModel;
import dev.tern.model.ModelConfig;
import dev.tern.model.ModelLoader;
import dev.tern.model.SyntheticModel;
import dev.tern.util.Parallel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `tern bench`: prefill/decode throughput of real or synthetic models, several formats alternately in one process. */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = BenchQuantizeCommand.class,
        description = "Prefill (64-token prompt, the fastest of up to three per round) and decode (64 tokens) throughput; formats or models run alternately in one process.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--synthetic", paramLabel = "ARCH", description = "Seeded random-weight model with the shapes of: ${COMPLETION-CANDIDATES}",
            completionCandidates = ArchNames.class)
    String synthetic;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "A model folder or Tern checkpoint.")
    String model;

    @Option(names = "--vs", paramLabel = "DIR", description = "A second model, run alternately with --model.")
    String vs;

    @Option(names = "--weights", paramLabel = "FORMAT", defaultValue = "f32",
            description = "With --model: how its float weights (embeddings, head, any float layers) are held: f32 (default) or bf16.")
    String weights;

    @Option(names = "--formats", split = ",", paramLabel = "F",
            description = "Synthetic formats to compare: f32, bf16, ternary, ptqtp (default: all that fit in memory).")
    List<String> formats;

    @Option(names = "--prompt", defaultValue = "64", description = "Prompt tokens for prefill (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--decode", defaultValue = "64", description = "Tokens to decode (default ${DEFAULT-VALUE}).")
    int decodeTokens;

    @Mixin KernelOptions kernels;

    @Option(names = "--rounds", defaultValue = "2", description = "Alternating rounds; the best of them is reported (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--no-matmul", description = "Skip the matmul GFLOP/s comparison with OpenBLAS.")
    boolean noMatmul;

    @Option(names = "--json", description = "Print one JSON object as the last line.")
    boolean json;

    static final class ArchNames extends ArrayList<String> {
        ArchNames() {
            super(Architectures.names());
        }
    }

    @Override
    public Integer call() throws Exception {
        if ((synthetic == null) == (model == null)) throw new TernException("give exactly one of --synthetic ARCH or --model DIR");
        if (promptTokens < 1 || decodeTokens < 1 || rounds < 1) throw new TernException("--prompt, --decode and --rounds must be >= 1");
        Map<String, LlamaModel> models = new LinkedHashMap<>();
        ModelConfig cfg;
        String kernelUsed = null;
        java.util.function.Consumer<String> log = s -> System.err.println("tern: " + s);
        if (synthetic != null) {
            cfg = Architectures.get(synthetic);
            List<String> fmts = chooseFormats(cfg);
            KernelSelector.Choice choice = null;
            if (fmts.contains("ternary") || fmts.contains("ptqtp")) {
                choice = KernelSelector.choose(kernels.config(), SyntheticModel.ternaryShapes(cfg), log);
                kernelUsed = choice.describe();
                System.err.println("tern: ternary kernel " + kernelUsed);
            }
            for (String f : fmts) {
                System.err.printf("tern: building %s %s (seeded random weights) ...%n", synthetic, f);
                models.put(f, SyntheticModel.build(cfg, seed, SyntheticModel.Format.valueOf(f.toUpperCase(Locale.ROOT)),
                        choice == null ? null : choice.kind()));
            }
        } else {
            ModelLoader.FloatFormat ff = ModelLoader.FloatFormat.parse(weights);
            LoadedModel a = ModelLoader.load(model, ff, kernels.config(), log);
            System.err.println("tern: model " + a.source());
            cfg = a.config();
            models.put("A", a.model());
            if (vs != null) {
                LoadedModel b = ModelLoader.load(vs, ff, kernels.config(), log);
                System.err.println("tern: vs " + b.source());
                models.put("B", b.model());
            }
        }
        if (promptTokens + decodeTokens > cfg.maxPositions()) {
            throw new TernException("--prompt + --decode exceeds the model context of " + cfg.maxPositions());
        }
        System.err.printf("tern: %d threads; prompt %d tokens, decode %d tokens, %d rounds%n", Parallel.threads(), promptTokens, decodeTokens, rounds);
        Map<String, ModelBench.Result> res = ModelBench.run(models, promptTokens, decodeTokens, rounds, seed, s -> System.err.println("tern: " + s));

        ObjectMapper om = new ObjectMapper();
        ObjectNode out = om.createObjectNode();
        out.put("model", synthetic != null ? synthetic : model);
        out.put("threads", Parallel.threads());
        out.put("cpu", KernelSelector.cpuModel());
        out.put("cpu_flags", KernelSelector.cpuVectorFlags());
        out.put("vector_bits", jdk.incubator.vector.ShortVector.SPECIES_PREFERRED.vectorBitSize());
        out.put("jvm_vector_flags", KernelSelector.jvmVectorFlags());
        if (kernelUsed != null) out.put("kernel", kernelUsed);
        System.out.printf("cpu: %s; flags: %s; %d-bit vectors %s%n", KernelSelector.cpuModel(), KernelSelector.cpuVectorFlags(),
                jdk.incubator.vector.ShortVector.SPECIES_PREFERRED.vectorBitSize(), KernelSelector.jvmVectorFlags());
        if (kernelUsed != null) System.out.println("ternary kernel: " + kernelUsed);
        System.out.printf("%-10s %12s %12s %14s %10s%n", "format", "prefill t/s", "decode t/s", "weight bytes", "bits/w");
        for (ModelBench.Result r : res.values()) {
            System.out.printf("%-10s %12.1f %12.2f %14d %10.3f%n", label(r.name()), r.prefillTps(), r.decodeTps(), r.weightBytes(), r.bitsPerLinearWeight());
            ObjectNode o = out.putObject(label(r.name()));
            o.put("prefill_tps", r.prefillTps());
            o.put("decode_tps", r.decodeTps());
            o.put("weight_bytes", r.weightBytes());
            o.put("linear_bits_per_weight", r.bitsPerLinearWeight());
        }
        ratio(out, res, "ternary", "f32", "decode");
        ratio(out, res, "ternary", "bf16", "decode");
        ratio(out, res, "ternary", "f32", "prefill");
        ratio(out, res, "ternary", "bf16", "prefill");
        ratio(out, res, "ptqtp", "bf16", "decode");
        ratio(out, res, "ptqtp", "ternary", "decode");
        ratio(out, res, "B", "A", "decode");
        ratio(out, res, "B", "A", "prefill");

        if (!noMatmul && models.values().stream().anyMatch(m -> m.layers()[0].q().format().equals("f32"))) {
            boolean blas = MatmulComparison.openBlasAvailable();
            System.out.println();
            System.out.printf("batched matmul, %d tokens (f32)%s%n", promptTokens, blas ? "" : " — OpenBLAS not available");
            var arr = out.putArray("matmul");
            LlamaModel any = models.values().iterator().next();
            for (int[] s : ModelBench.linearShapes(any)) {
                MatmulComparison.Result r = MatmulComparison.measure(promptTokens, s[0], s[1]);
                System.out.printf("  %5d -> %-5d  tern %7.1f GFLOP/s   OpenBLAS %7.1f GFLOP/s   ratio %.2f%n", s[0], s[1],
                        r.ternGflops(), r.openblasGflops(), r.ratio());
                ObjectNode o = arr.addObject();
                o.put("in", s[0]);
                o.put("out", s[1]);
                o.put("tern_gflops", r.ternGflops());
                o.put("openblas_gflops", r.openblasGflops());
            }
        }
        for (var e : out.properties()) {
            if (e.getKey().startsWith("ratio_") || e.getKey().endsWith("_vs_f32") || e.getKey().contains("_ratio_")) {
                System.out.printf("%-36s %.2f%n", e.getKey(), e.getValue().asDouble());
            }
        }
        if (json) System.out.println(om.writeValueAsString(out));
        return 0;
    }

    private String label(String k) {
        return switch (k) {
            case "A" -> "model";
            case "B" -> "vs";
            default -> k;
        };
    }

    private static void ratio(ObjectNode out, Map<String, ModelBench.Result> res, String a, String b, String what) {
        if (!res.containsKey(a) || !res.containsKey(b)) return;
        double x = what.equals("decode") ? res.get(a).decodeTps() : res.get(a).prefillTps();
        double y = what.equals("decode") ? res.get(b).decodeTps() : res.get(b).prefillTps();
        String an = a.equals("B") ? "vs" : a, bn = b.equals("A") ? "model" : b;
        out.put(what + "_ratio_" + an + "_vs_" + bn, x / y);
    }

    private List<String> chooseFormats(ModelConfig c) {
        long linear = c.numLayers() * c.projectionWeightsPerLayer();
        int h = c.hiddenSize();
        long emb = (long) c.vocabSize() * h * 4 * (c.tiedEmbeddings() ? 1 : 2);
        // a layer's unpacked trits (one byte each) live only while that layer is being packed
        long largest = (long) h * Math.max(c.qDim(), c.intermediateSize());
        long heap = Runtime.getRuntime().maxMemory();
        List<String> want = formats != null ? formats : List.of("f32", "bf16", "ternary", "ptqtp");
        List<String> chosen = new ArrayList<>();
        long used = 0;
        for (String f : want) {
            String lf = f.toLowerCase(Locale.ROOT);
            long need = emb + switch (lf) {
                case "f32" -> linear * 4;
                case "bf16" -> linear * 2;
                case "ternary" -> linear / 4 + largest;
                case "ptqtp" -> linear / 2 + 2 * largest;
                default -> throw new TernException("unknown format '" + f + "' (use f32, bf16, ternary, ptqtp)");
            };
            if (used + need > heap * 0.85) {
                if (formats != null) throw new TernException(String.format("format %s needs about %.1f GB more heap than the %.1f GB available (set TERN_HEAP)",
                        f, need / 1e9, (heap - used) / 1e9));
                System.err.printf("tern: skipping %s: needs about %.1f GB, only %.1f GB of heap left%n", f, need / 1e9, (heap - used) / 1e9);
                continue;
            }
            used += need;
            chosen.add(lf);
        }
        return chosen;
    }
}
