package dev.tern.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tern.format.TernaryMatrix;
import dev.tern.format.TritPlaneMatrix;
import java.util.Random;

final class KernelTestSupport {
    private KernelTestSupport() {}

    static float[] gaussian(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * scale;
        return a;
    }

    static float f16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    static int[] randomPerm(Random r, int n) {
        return dev.tern.util.Permutations.shuffled(n, r);
    }

    static byte[] trits(Random r, int n) {
        byte[] c = new byte[n];
        for (int i = 0; i < n; i++) c[i] = (byte) (r.nextInt(3) - 1);
        return c;
    }

    /** α and μ already f16-representable: the kernels store them as f16, the record as f32. */
    static TernaryMatrix ternary(Random r, int rows, int cols, int gs, boolean permute) {
        int groups = (cols + gs - 1) / gs;
        float[] alpha = new float[rows * groups], mu = new float[rows * groups];
        for (int i = 0; i < alpha.length; i++) {
            alpha[i] = f16(0.01f + r.nextFloat() * 0.05f);
            mu[i] = f16((float) r.nextGaussian() * 0.01f);
        }
        return new TernaryMatrix(rows, cols, gs, trits(r, rows * cols), alpha, mu, permute ? randomPerm(r, cols) : null);
    }

    static TritPlaneMatrix tritPlane(Random r, int rows, int cols, int gs, boolean permute) {
        int groups = (cols + gs - 1) / gs;
        float[] a1 = new float[rows * groups], a2 = new float[rows * groups];
        for (int i = 0; i < a1.length; i++) {
            a1[i] = f16(0.01f + r.nextFloat() * 0.05f);
            a2[i] = f16(0.002f + r.nextFloat() * 0.01f);
        }
        return new TritPlaneMatrix(rows, cols, gs, trits(r, rows * cols), trits(r, rows * cols), a1, a2,
                permute ? randomPerm(r, cols) : null);
    }

    /** y ≈ ref within tol relative to the magnitude scale[t][o] = Σ|x||w| (the natural float-error yardstick). */
    static void assertClose(String what, float[] ref, float[] y, float[] scale, double tol) {
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs((double) ref[i] - y[i]);
            if (!(err <= tol * scale[i] + 1e-30)) {
                fail(what + ": element " + i + " got " + y[i] + " expected " + ref[i] + " (scale " + scale[i] + ")");
            }
        }
    }

    static float[] abs(float[] a) {
        float[] b = new float[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Math.abs(a[i]);
        return b;
    }

    static float[] scale(float[] wAbs, int out, int in, float[] x, int tokens) {
        float[] s = new float[tokens * out];
        MatMulRef.multiply(wAbs, out, in, abs(x), s, tokens);
        return s;
    }
}
