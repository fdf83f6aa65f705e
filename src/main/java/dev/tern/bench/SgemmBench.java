package dev.tern.bench;

import dev.tern.kernels.Bf16Linear;
import dev.tern.kernels.DenseF32Linear;
import dev.tern.kernels.LinearOp;
import dev.tern.kernels.OpenBlas;
import dev.tern.util.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

/**
 * GFLOP/s of DenseF32Linear and Bf16Linear vs OpenBLAS cblas_sgemm on the same shapes, interleaved in one process.
 *
 * <p>Args: shapes as tokens,in,out (default 512,2048,5632 128,2048,5632 512,5632,2048). Runs are interleaved
 * (Java, OpenBLAS, Java, ...) so that noise from other tenants hits both sides alike; the median is reported.
 */
public final class SgemmBench {
    public static void main(String[] args) {
        String[] shapes = args.length > 0 ? args : new String[] {"512,2048,5632", "128,2048,5632", "512,5632,2048"};
        int threads = Parallel.threads();
        boolean blas = OpenBlas.isAvailable();
        if (blas) OpenBlas.setThreads(threads);
        System.out.printf("threads=%d  vector=%s  OpenBLAS=%s%n", threads,
                jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, blas ? "yes" : "not available (" + OpenBlas.unavailableReason() + ")");
        for (String s : shapes) {
            String[] p = s.split(",");
            run(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]), blas);
        }
    }

    static void run(int tokens, int in, int out, boolean blas) {
        Random r = new Random(1);
        float[] w = new float[out * in], x = new float[tokens * in], y = new float[tokens * out];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.02f;
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        LinearOp f32 = new DenseF32Linear(w, out, in);
        LinearOp bf16 = new Bf16Linear(Bf16Linear.toBf16(w), out, in);
        double flop = 2.0 * tokens * in * out;
        int reps = (int) Math.max(5, Math.min(40, 3e10 / flop));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nx = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment nw = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w);
            MemorySegment ny = arena.allocate(ValueLayout.JAVA_FLOAT, (long) tokens * out);
            double[] tf = new double[reps], tb = new double[reps], to = new double[reps];
            long until = System.nanoTime() + 2_000_000_000L;
            for (int i = 0; i < 3 || System.nanoTime() < until; i++) { // warm-up: C2 and OpenBLAS thread start
                f32.apply(x, y, tokens);
                bf16.apply(x, y, tokens);
                if (blas) OpenBlas.linear(nx, nw, ny, tokens, in, out);
            }
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                f32.apply(x, y, tokens);
                long t1 = System.nanoTime();
                bf16.apply(x, y, tokens);
                long t2 = System.nanoTime();
                if (blas) OpenBlas.linear(nx, nw, ny, tokens, in, out);
                long t3 = System.nanoTime();
                tf[i] = t1 - t0;
                tb[i] = t2 - t1;
                to[i] = t3 - t2;
            }
            double gf = flop / median(tf), gb = flop / median(tb), go = blas ? flop / median(to) : Double.NaN;
            System.out.printf("tokens=%-5d in=%-5d out=%-5d  f32 %7.1f GFLOP/s  bf16 %7.1f GFLOP/s  OpenBLAS %7.1f GFLOP/s  f32/OpenBLAS %.2f%n",
                    tokens, in, out, gf, gb, go, gf / go);
        }
    }

    static double median(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
