package dev.tern.bench;

import dev.tern.format.TernaryMatrix;
import dev.tern.kernels.Bf16Linear;
import dev.tern.kernels.DenseF32Linear;
import dev.tern.kernels.KernelKind;
import dev.tern.kernels.LinearOp;
import dev.tern.kernels.TernaryLinear;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * JMH GEMV (tokens = 1) for f32, bf16 and the ternary kernels on 7B-like shapes; main() runs it and prints effective
 * weight bandwidth (weightBytes / time) and the speed-up of each format over f32. A kernel whose vectors do not
 * fit this JVM (lut3-512 below AVX-512) runs in the Vector API's Java fallback here: that is what it measures.
 *
 * <p>Shapes are "in x out": 4096x4096 (attention projections), 4096x11008 (gate/up) and 11008x4096 (down).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TernaryGemvBenchmark {
    @Param({"4096x4096", "4096x11008", "11008x4096"})
    public String shape;

    @Param({"f32", "bf16", "lut3-512", "unpack", "float"})
    public String format;

    private LinearOp op;
    private float[] x, y;

    @Setup(Level.Trial)
    public void setup() {
        String[] s = shape.split("x");
        op = build(format, Integer.parseInt(s[0]), Integer.parseInt(s[1]));
        Random r = new Random(3);
        x = new float[op.inFeatures()];
        y = new float[op.outFeatures()];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
    }

    @Benchmark
    public float[] gemv() {
        op.apply(x, y, 1);
        return y;
    }

    static LinearOp build(String format, int in, int out) {
        Random r = new Random(5);
        switch (format) {
            case "f32", "bf16" -> {
                float[] w = new float[out * in];
                for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.02f;
                return format.equals("f32") ? new DenseF32Linear(w, out, in) : new Bf16Linear(Bf16Linear.toBf16(w), out, in);
            }
            default -> {
                KernelKind k = KernelKind.parse(format);
                if (k == null) throw new IllegalArgumentException(format);
                TernaryMatrix m = LinearBench.randomTernary(out, in, r);
                return new TernaryLinear(m, k);
            }
        }
    }

    /** Args: optional "quick" (1 fork, 2+3 one-second iterations instead of 3+5). */
    public static void main(String[] args) throws RunnerException {
        boolean quick = args.length > 0 && args[0].equals("quick");
        var opt = new OptionsBuilder()
                .include(TernaryGemvBenchmark.class.getName() + ".gemv")
                .forks(1)
                .warmupIterations(quick ? 2 : 3)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(quick ? 3 : 5)
                .measurementTime(TimeValue.seconds(1))
                .jvmArgsAppend("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g")
                .build();
        Collection<RunResult> results = new Runner(opt).run();
        Map<String, Double> us = new HashMap<>();
        for (RunResult rr : results) {
            var p = rr.getParams();
            us.put(p.getParam("shape") + "/" + p.getParam("format"), rr.getPrimaryResult().getScore());
        }
        System.out.printf("%n%-11s %-14s %10s %8s %9s %10s %10s%n", "shape", "format", "us/op", "bit/w", "GB/s", "vs f32", "vs bf16");
        for (String shape : new String[] {"4096x4096", "4096x11008", "11008x4096"}) {
            String[] s = shape.split("x");
            int in = Integer.parseInt(s[0]), out = Integer.parseInt(s[1]);
            Double f32 = us.get(shape + "/f32"), bf16 = us.get(shape + "/bf16");
            for (String f : new String[] {"f32", "bf16", "lut3-512", "unpack", "float"}) {
                Double t = us.get(shape + "/" + f);
                if (t == null) continue;
                long bytes = build(f, in, out).weightBytes();
                System.out.printf("%-11s %-14s %10.1f %8.2f %9.2f %9.2fx %9.2fx%n", shape, f, t, 8.0 * bytes / ((double) in * out),
                        bytes / (t * 1e3), f32 == null ? Double.NaN : f32 / t, bf16 == null ? Double.NaN : bf16 / t);
            }
        }
    }
}
