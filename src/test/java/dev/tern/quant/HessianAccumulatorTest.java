package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HessianAccumulatorTest {
    @Test
    void runningMeanOverBatchesEqualsPlainFormula() {
        Random rnd = new Random(5);
        int m = 203, tokens = 700; // m not a multiple of the SIMD panel, batches not multiples of the token chunk
        float[] x = TestData.activations(rnd, tokens, m);
        HessianAccumulator acc = new HessianAccumulator(m);
        int[] cuts = {0, 1, 300, 333, 700};
        for (int b = 0; b + 1 < cuts.length; b++) {
            acc.add(Arrays.copyOfRange(x, cuts[b] * m, cuts[b + 1] * m), cuts[b + 1] - cuts[b]);
        }
        assertEquals(tokens, acc.tokens());
        double[] ref = TestData.hessian(x, tokens, m);
        double[] h = acc.hessian();
        for (int a = 0; a < m; a++) {
            for (int b = 0; b < m; b++) {
                double scale = Math.sqrt(ref[a * m + a] * ref[b * m + b]);
                assertEquals(ref[a * m + b], h[a * m + b], 1e-10 * scale, a + "," + b);
                assertEquals(h[b * m + a], h[a * m + b]);
            }
        }
    }
}
