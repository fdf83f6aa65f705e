package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernaryMatrix;
import dev.tern.format.TritPlaneMatrix;
import dev.tern.format.UniformMatrix;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Codes stay in permuted order; the inference path gathers x[perm] once and must match the dequantized product. */
class PermutationTest {
    static final int N = 24, M = 300, TOKENS = 400;

    /** The permuted-domain product: stored code columns against the gathered input x[perm]. */
    static double[] permutedProduct(QuantizedMatrix q, float[] x) {
        int n = q.rows(), m = q.cols(), gs = q.groupSize(), groups = q.groups();
        int[] perm = q.perm();
        float[] xp = new float[m];
        for (int j = 0; j < m; j++) xp[j] = x[QuantizedMatrix.original(perm, j)];
        double[] y = new double[n];
        for (int r = 0; r < n; r++) {
            double acc = 0;
            for (int g = 0; g < groups; g++) {
                int p = r * groups + g;
                double s1 = 0, s2 = 0, sx = 0;
                for (int j = g * gs; j < Math.min(m, (g + 1) * gs); j++) {
                    int i = r * m + j;
                    switch (q) {
                        case TernaryMatrix t -> s1 += t.codes()[i] * xp[j];
                        case TritPlaneMatrix t -> {
                            s1 += t.codes1()[i] * xp[j];
                            s2 += t.codes2()[i] * xp[j];
                        }
                        case UniformMatrix u -> s1 += (u.codes()[i] & 0xff) * xp[j];
                    }
                    sx += xp[j];
                }
                acc += switch (q) {
                    case TernaryMatrix t -> t.alpha()[p] * s1 + t.mu()[p] * sx;
                    case TritPlaneMatrix t -> t.alpha1()[p] * s1 + t.alpha2()[p] * s2;
                    case UniformMatrix u -> u.scale()[p] * (s1 - u.zero()[p] * sx);
                };
            }
            y[r] = acc;
        }
        return y;
    }

    void check(GroupQuantizer gq, Gptq.Order order) {
        Random rnd = new Random(17);
        float[] w = TestData.weights(rnd, N, M);
        double[] h = TestData.hessian(TestData.activations(rnd, TOKENS, M), TOKENS, M);
        QuantizedLayer layer = Gptq.quantize(w, N, M, h, gq, Gptq.Options.defaults().withOrder(order));
        QuantizedMatrix q = layer.matrix();
        if (order == Gptq.Order.NONE) assertNull(q.perm());
        else assertNotNull(q.perm());
        float[] deq = q.dequantize();
        assertArrayEquals(layer.dequantized(), deq, "stored matrix must decode to the driver's Ŵ exactly");
        float[] x = TestData.gaussian(rnd, M, 1);
        double[] y = permutedProduct(q, x);
        for (int r = 0; r < N; r++) {
            double ref = 0, mag = 0;
            for (int c = 0; c < M; c++) {
                ref += (double) deq[r * M + c] * x[c];
                mag += Math.abs((double) deq[r * M + c] * x[c]);
            }
            assertEquals(ref, y[r], 1e-5 * mag, "row " + r);
        }
    }

    @Test
    void ternarySsr() {
        check(AtqQuantizer.full(), Gptq.Order.SSR);
    }

    @Test
    void uniformActOrder() {
        check(new UniformQuantizer(4), Gptq.Order.ACT_ORDER);
    }

    @Test
    void tritPlaneRandom() {
        check(new PtqtpQuantizer(), Gptq.Order.RANDOM);
    }

    @Test
    void ternaryNoReorderStoresNoPerm() {
        check(new RtnTernaryQuantizer(true), Gptq.Order.NONE);
    }
}
