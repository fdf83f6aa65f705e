package dev.tern.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The register-blocked attention helpers against the one-row-at-a-time loops they replace (the same bits), and the softmax exp against StrictMath. */
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

    /**
     * exp in place over every tail length: each element is exp(x − shift) to 2e-7 of StrictMath and the same bits
     * as a whole vector's lane; nothing outside [off, off+n) is written; the sum is the elements' sum (to 1e-6) and
     * the bits sumExp returns without writing.
     */
    @Test
    void expInPlaceHandlesEveryTailWithoutTouchingItsNeighbours() {
        Random r = new Random(5);
        int l = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        for (int n = 1; n <= 3 * l + 1; n++) {
            int off = 2;
            float[] x = gaussian(r, off + n + l), orig = x.clone();
            float shift = 1.5f;
            double sumNoWrite = VecMath.sumExp(x, off, n, shift);
            assertArrayEquals(orig, x, "sumExp wrote x, n=" + n);
            double sum = VecMath.expInPlace(x, off, n, shift);
            assertEquals(sumNoWrite, sum, 0.0, "n=" + n);
            double want = 0;
            float[] padded = new float[(n + l - 1) / l * l];
            System.arraycopy(orig, off, padded, 0, n);
            for (int i = 0; i < padded.length; i += l) {
                var v = jdk.incubator.vector.FloatVector.fromArray(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, padded, i);
                VecMath.exp(v.sub(shift)).intoArray(padded, i);
            }
            for (int i = 0; i < n; i++) {
                double e = StrictMath.exp(orig[off + i] - shift);
                assertEquals(e, x[off + i], 2e-7 * e, "n=" + n + " i=" + i);
                assertEquals(padded[i], x[off + i], 0f, "lane bits, n=" + n + " i=" + i);
                want += x[off + i];
            }
            assertEquals(want, sum, 1e-6 * want, "n=" + n);
            for (int i = 0; i < x.length; i++) if (i < off || i >= off + n) assertEquals(orig[i], x[i], 0f, "neighbour " + i + " n=" + n);
        }
    }
}
