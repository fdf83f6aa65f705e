package dev.tern.quant;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/** Manual timing of a 4096 x 4096 layer: run with -Dtern.perf=true (skipped otherwise; it takes longer than 10 s). */
class PerfCheck {
    @Test
    @EnabledIfSystemProperty(named = "tern.perf", matches = "true")
    void time4096() {
        int n = Integer.getInteger("tern.perf.n", 4096), m = Integer.getInteger("tern.perf.m", 4096), tokens = 2048;
        Random rnd = new Random(0);
        float[] w = TestData.gaussian(rnd, n * m, 0.02);
        float[] x = TestData.gaussian(rnd, tokens * m, 1);
        for (int t = 0; t < tokens; t++) for (int j = 3; j < m; j += 331) x[t * m + j] *= 25; // outlier channels
        long t0 = System.nanoTime();
        HessianAccumulator acc = new HessianAccumulator(m);
        acc.add(x, tokens);
        double[] h = acc.hessian();
        long t1 = System.nanoTime();
        System.out.printf("threads=%d hessian %dx%d tokens=%d: %.2f s%n", dev.tern.util.Parallel.threads(), m, m, tokens,
                (t1 - t0) / 1e9);
        long a = System.nanoTime();
        double[] g = h.clone();
        double mean = 0;
        for (int j = 0; j < m; j++) mean += h[j * m + j];
        for (int j = 0; j < m; j++) g[j * m + j] += 0.01 * mean / m;
        SpdInverse.invertInPlace(g, m, 128);
        System.out.printf("spd inverse alone: %.2f s%n", (System.nanoTime() - a) / 1e9);
        g = null;
        for (int rep = 0; rep < 1; rep++) {
            a = System.nanoTime();
            Gptq.quantize(w, n, m, h, AtqQuantizer.full(), Gptq.Options.defaults());
            System.out.printf("pt2 (ATQ+ITF+AGA, SSR, block): %.2f s%n", (System.nanoTime() - a) / 1e9);
            a = System.nanoTime();
            Gptq.quantize(w, n, m, h, AtqQuantizer.full(),
                    Gptq.Options.defaults().withPropagation(Gptq.Propagation.COLUMN));
            System.out.printf("pt2 (SSR, column): %.2f s%n", (System.nanoTime() - a) / 1e9);
            a = System.nanoTime();
            Gptq.quantize(w, n, m, h, new UniformQuantizer(2), Gptq.Options.uniformBaseline());
            System.out.printf("uniform 2-bit GPTQ (none, column): %.2f s%n", (System.nanoTime() - a) / 1e9);
        }
    }
}
