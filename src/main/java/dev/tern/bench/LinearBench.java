package dev.tern.bench;

import dev.tern.format.TernaryMatrix;
import dev.tern.kernels.Bf16Linear;
import dev.tern.kernels.DenseF32Linear;
import dev.tern.kernels.KernelKind;
import dev.tern.kernels.LinearOp;
import dev.tern.kernels.TernaryLinear;
import dev.tern.util.Parallel;
import java.util.Arrays;
import java.util.Random;

/**
 * Interleaved timing of f32, bf16 and every ternary kernel that fits this JVM's vectors, in one process; prints ms,
 * GB/s of weights, and speed-ups over f32 and bf16. Args: shapes as tokens,in,out (default TinyLlama MLP, 1 and 128
 * tokens).
 */
public final class LinearBench {
    public static void main(String[] args) {
        String[] shapes = args.length > 0 ? args
                : new String[] {"1,2048,5632", "1,5632,2048", "128,2048,5632", "128,5632,2048"};
        System.out.printf("threads=%d%n", Parallel.threads());
        for (String s : shapes) {
            String[] p = s.split(",");
            run(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
        }
    }

    static TernaryMatrix randomTernary(int out, int in, Random r) {
        int groups = (in + 127) / 128;
        byte[] codes = new byte[out * in];
        for (int i = 0; i < codes.length; i++) codes[i] = (byte) (r.nextInt(3) - 1);
        float[] alpha = new float[out * groups], mu = new float[out * groups];
        for (int i = 0; i < alpha.length; i++) {
            alpha[i] = 0.02f + 0.01f * r.nextFloat();
            mu[i] = 0.001f * (float) r.nextGaussian();
        }
        return new TernaryMatrix(out, in, 128, codes, alpha, mu, dev.tern.util.Permutations.shuffled(in, r));
    }

    static void run(int tokens, int in, int out) {
        Random r = new Random(7);
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.02f;
        TernaryMatrix tm = randomTernary(out, in, r);
        var list = new java.util.ArrayList<LinearOp>(java.util.List.of(new DenseF32Linear(w, out, in),
                new Bf16Linear(Bf16Linear.toBf16(w), out, in)));
        for (KernelKind k : KernelKind.values()) if (k.fitsThisJvm()) list.add(new TernaryLinear(tm, k));
        LinearOp[] ops = list.toArray(new LinearOp[0]);
        w = null;
        float[] x = new float[tokens * in], y = new float[tokens * out];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        double work = (double) tokens * in * out;
        int reps = (int) Math.max(7, Math.min(200, 2e10 / work / 2));
        long until = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < until) for (LinearOp op : ops) op.apply(x, y, tokens);
        double[][] t = new double[ops.length][reps];
        for (int i = 0; i < reps; i++) {
            for (int k = 0; k < ops.length; k++) {
                long t0 = System.nanoTime();
                ops[k].apply(x, y, tokens);
                t[k][i] = System.nanoTime() - t0;
            }
        }
        double[] med = new double[ops.length];
        for (int k = 0; k < ops.length; k++) {
            Arrays.sort(t[k]);
            med[k] = t[k][reps / 2];
        }
        System.out.printf("tokens=%d in=%d out=%d (median of %d interleaved runs)%n", tokens, in, out, reps);
        for (int k = 0; k < ops.length; k++) {
            System.out.printf("  %-16s %8.3f ms  %6.2f bit/w  %7.2f GB/s  %7.1f GFLOP/s  x%.2f vs f32  x%.2f vs bf16%n",
                    ops[k].format(), med[k] / 1e6, 8.0 * ops[k].weightBytes() / ((double) in * out),
                    ops[k].weightBytes() / med[k], 2 * work / med[k], med[0] / med[k], med[1] / med[k]);
        }
    }
}
