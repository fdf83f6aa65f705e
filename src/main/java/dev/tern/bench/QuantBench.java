package dev.tern.bench;

import dev.tern.quant.Gptq;
import dev.tern.quant.HessianAccumulator;
import dev.tern.quant.QuantMethod;
import dev.tern.util.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Cost of quantizing one real-sized layer: seeded random weights, seeded calibration inputs with a few large outlier
 * channels (as real LLM activations have), and the methods timed in the same process on the same Hessian.
 */
public final class QuantBench {
    /** Seconds per method for one layer shape (the Hessian accumulation is timed once, shared by all methods). */
    public record Result(int rows, int cols, int tokens, double hessianSeconds, List<String> methods, List<Double> seconds) {}

    private QuantBench() {}

    public static Result run(int rows, int cols, int tokens, List<QuantMethod> methods, int rounds, long seed, Consumer<String> log) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
        int[] outliers = new int[Math.max(1, cols / 512)];
        for (int i = 0; i < outliers.length; i++) outliers[i] = r.nextInt(cols);
        long t0 = System.nanoTime();
        HessianAccumulator acc = new HessianAccumulator(cols);
        int chunk = 2048;
        float[] x = new float[chunk * cols];
        for (int done = 0; done < tokens; done += chunk) {
            int n = Math.min(chunk, tokens - done);
            long s = seed * 7919 + done;
            Parallel.forRange(n, 16, (from, to) -> {
                for (int t = from; t < to; t++) {
                    SplittableRandom rr = new SplittableRandom(s + t);
                    // A shared per-token component makes the channels correlated, as in real hidden states.
                    double common = rr.nextGaussian();
                    for (int j = 0; j < cols; j++) x[t * cols + j] = (float) (rr.nextGaussian() + 0.5 * common);
                    for (int o : outliers) x[t * cols + o] *= 25f;
                }
            });
            acc.add(x, n);
        }
        double[] h = acc.hessian();
        double hs = (System.nanoTime() - t0) / 1e9;
        log.accept(String.format("%dx%d: Hessian of %d tokens in %.1f s", rows, cols, tokens, hs));
        // Rounds alternate the methods and each keeps its best: one 11008 x 4096 run moved between 6 and 12 s on an idle
        // machine (young collections copying the layer-sized arrays, first touch of fresh pages), more than the
        // difference being measured.
        List<String> names = new ArrayList<>();
        List<Double> secs = new ArrayList<>();
        for (QuantMethod m : methods) {
            names.add(m.describe());
            secs.add(Double.POSITIVE_INFINITY);
        }
        for (int round = 1; round <= rounds; round++) {
            for (int i = 0; i < methods.size(); i++) {
                QuantMethod m = methods.get(i);
                long a = System.nanoTime();
                Gptq.quantize(w, rows, cols, h, m.quantizer(), m.options());
                double sec = (System.nanoTime() - a) / 1e9;
                secs.set(i, Math.min(secs.get(i), sec));
                log.accept(String.format("%dx%d: round %d %-60s %.1f s", rows, cols, round, m.describe(), sec));
            }
        }
        return new Result(rows, cols, tokens, hs, names, secs);
    }
}
