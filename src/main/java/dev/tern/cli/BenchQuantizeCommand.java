package dev.tern.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.bench.QuantBench;
import dev.tern.quant.QuantMethod;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `tern bench quantize`: PT²-LLM vs GPTQ 2-bit quantization time on 4096×4096 and 11008×4096 layers, in one process. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Time pt2 and gptq --bits 2 on real-sized layers (seeded weights, calibration inputs with outliers).")
final class BenchQuantizeCommand implements Callable<Integer> {
    @Option(names = "--tokens", defaultValue = "65536", description = "Calibration tokens (default 32 x 2048 = ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--shapes", split = ",", defaultValue = "4096x4096,11008x4096", description = "Layer shapes rows x cols (default ${DEFAULT-VALUE}).")
    List<String> shapes;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--json", description = "Print one JSON object as the last line.")
    boolean json;

    @Option(names = "--rounds", defaultValue = "2",
            description = "Alternating rounds of the methods per layer; each method's best is reported (default ${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1) throw new dev.tern.TernException("--rounds must be >= 1");
        List<QuantMethod> methods = List.of(
                QuantMethod.of("pt2", 2, 128, true, true, null, null, false, seed, 0.01),
                QuantMethod.of("gptq", 2, 128, true, true, null, null, false, seed, 0.01));
        ObjectMapper om = new ObjectMapper();
        ObjectNode out = om.createObjectNode();
        var arr = out.putArray("layers");
        double pt2 = 0, gptq = 0;
        for (String s : shapes) {
            String[] p = s.toLowerCase().split("x");
            if (p.length != 2) throw new dev.tern.TernException("bad shape '" + s + "' (use ROWSxCOLS)");
            QuantBench.Result r = QuantBench.run(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()), tokens, methods, rounds, seed,
                    line -> System.err.println("tern: " + line));
            ObjectNode o = arr.addObject();
            o.put("rows", r.rows());
            o.put("cols", r.cols());
            o.put("hessian_s", r.hessianSeconds());
            o.put("rounds", rounds);
            o.put("pt2_s", r.seconds().get(0));
            o.put("gptq2_s", r.seconds().get(1));
            pt2 += r.seconds().get(0);
            gptq += r.seconds().get(1);
            System.out.printf("%5d x %-5d  pt2 %7.1f s   gptq-2bit %7.1f s   ratio %.2f   (Hessian %.1f s)%n", r.rows(), r.cols(),
                    r.seconds().get(0), r.seconds().get(1), r.seconds().get(0) / r.seconds().get(1), r.hessianSeconds());
        }
        out.put("ratio_pt2_vs_gptq2", pt2 / gptq);
        System.out.printf("total: pt2 %.1f s, gptq-2bit %.1f s, ratio %.2f (paper: 32 vs 21 min, 1.52)%n", pt2, gptq, pt2 / gptq);
        if (json) System.out.println(om.writeValueAsString(out));
        return 0;
    }
}
