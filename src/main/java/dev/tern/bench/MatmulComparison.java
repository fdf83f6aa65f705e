package dev.tern.bench;

import dev.tern.kernels.DenseF32Linear;
import dev.tern.kernels.OpenBlas;
import dev.tern.util.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/** GFLOP/s of Tern's f32 GEMM against OpenBLAS sgemm on one shape, interleaved in one process (median of runs). */
public final class MatmulComparison {
    /** Achieved GFLOP/s; openblas is NaN when the library is not installed. */
    public record Result(int tokens, int in, int out, double ternGflops, double openblasGflops) {
        public double ratio() {
            return ternGflops / openblasGflops;
        }
    }

    private MatmulComparison() {}

    public static boolean openBlasAvailable() {
        boolean ok = OpenBlas.isAvailable();
        if (ok) OpenBlas.setThreads(Parallel.threads());
        return ok;
    }

    public static Result measure(int tokens, int in, int out) {
        SplittableRandom r = new SplittableRandom(7);
        float[] w = new float[out * in], x = new float[tokens * in], y = new float[tokens * out];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextDouble() - 0.5) * 0.04f;
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() - 0.5);
        DenseF32Linear lin = new DenseF32Linear(w, out, in);
        boolean blas = openBlasAvailable();
        double flop = 2.0 * tokens * in * out;
        int reps = (int) Math.max(3, Math.min(15, 2e10 / flop));
        double[] tj = new double[reps], tb = new double[reps];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nx = blas ? arena.allocateFrom(ValueLayout.JAVA_FLOAT, x) : null;
            MemorySegment nw = blas ? arena.allocateFrom(ValueLayout.JAVA_FLOAT, w) : null;
            MemorySegment ny = blas ? arena.allocate(ValueLayout.JAVA_FLOAT, (long) tokens * out) : null;
            for (int i = 0; i < 2; i++) {
                lin.apply(x, y, tokens);
                if (blas) OpenBlas.linear(nx, nw, ny, tokens, in, out);
            }
            for (int i = 0; i < reps; i++) {
                // OpenBLAS's worker threads spin for a while after each call (its THREAD_TIMEOUT), which would steal
                // the cores from whichever runs next; a pause lets each side start on idle cores.
                settle();
                long t0 = System.nanoTime();
                lin.apply(x, y, tokens);
                long t1 = System.nanoTime();
                if (blas) {
                    settle();
                    long t2 = System.nanoTime();
                    OpenBlas.linear(nx, nw, ny, tokens, in, out);
                    tb[i] = System.nanoTime() - t2;
                }
                tj[i] = t1 - t0;
            }
        }
        return new Result(tokens, in, out, flop / median(tj), blas ? flop / median(tb) : Double.NaN);
    }

    private static void settle() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static double median(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
