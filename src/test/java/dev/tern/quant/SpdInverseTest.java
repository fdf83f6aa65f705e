package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SpdInverseTest {
    @Test
    void sweepInverseTimesMatrixIsIdentity() {
        int m = 301; // not a multiple of the pivot block, to exercise the ragged last block
        Random rnd = new Random(1);
        float[] x = TestData.activations(rnd, 600, m);
        double[] h = TestData.hessian(x, 600, m);
        for (int j = 0; j < m; j++) h[j * m + j] += 0.01;
        double[] g = h.clone();
        SpdInverse.invertInPlace(g, m, 64);
        double worst = 0;
        for (int a = 0; a < m; a++) {
            for (int b = 0; b < m; b++) {
                double s = 0;
                for (int c = 0; c < m; c++) s += h[a * m + c] * g[c * m + b];
                worst = Math.max(worst, Math.abs(s - (a == b ? 1 : 0)));
            }
        }
        assertTrue(worst < 1e-6, "max |H G − I| = " + worst);
    }
}
