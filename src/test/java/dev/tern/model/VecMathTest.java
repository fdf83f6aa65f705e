package dev.tern.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The register-blocked attention helpers against the one-row-at-a-time loops they replace: the same bits. */
@Tag("kernels")
class VecMathTest {
    private static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test
    void scoresAreTheBitsOfOneAxpyPerChannel() {
        Random r = new Random(3);
        for (int hd : new int[] {1, 5, 16, 64}) {
            for (int len : new int[] {1, 3, 7, 8, 17, 33, 64, 100, 129}) {
                int stride = len + 11, ko = 5;
                float[] q = gaussian(r, hd + 2), kt = gaussian(r, ko + hd * stride), got = new float[len + 3], want = new float[len];
                float scale = 0.125f;
                for (int d = 0; d < hd; d++) VecMath.axpy(q[2 + d] * scale, kt, ko + d * stride, want, 0, len);
                VecMath.scoresT(q, 2, scale, hd, kt, ko, stride, got, len);
                assertArrayEquals(want, java.util.Arrays.copyOf(got, len), "hd=" + hd + " len=" + len);
            }
        }
    }

    @Test
    void dotRowsAreTheBitsOfOneDotPerRow() {
        Random r = new Random(4);
        for (int rows : new int[] {1, 3, 4, 6, 64}) {
            for (int n : new int[] {1, 7, 8, 17, 100, 129}) {
                int stride = n + 5, vo = 3;
                float[] w = gaussian(r, n), vt = gaussian(r, vo + rows * stride), got = new float[rows + 2], want = new float[rows + 2];
                for (int d = 0; d < rows; d++) want[1 + d] = VecMath.dot(w, 0, vt, vo + d * stride, n);
                VecMath.dotRows(w, n, vt, vo, stride, rows, got, 1);
                assertArrayEquals(want, got, "rows=" + rows + " n=" + n);
            }
        }
    }
}
