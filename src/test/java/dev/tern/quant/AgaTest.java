package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AgaTest {
    /** ‖(W − Ŵ) X‖² per row via S = X Xᵀ restricted to the block. */
    static double rowObjective(float[] w, float[] deq, int i, int k, double[] s) {
        double total = 0;
        for (int a = 0; a < k; a++) {
            double ea = (double) w[i * k + a] - deq[i * k + a];
            for (int b = 0; b < k; b++) total += ea * s[a * k + b] * ((double) w[i * k + b] - deq[i * k + b]);
        }
        return total;
    }

    @Test
    void agaNeverIncreasesOutputErrorOverItf() {
        Random rnd = new Random(9);
        int n = 64, k = 128, tokens = 400;
        float[] w = TestData.weights(rnd, n, k);
        float[] x = TestData.activations(rnd, tokens, k);
        double[] s = TestData.hessian(x, tokens, k); // ∝ X Xᵀ
        QuantizedBlock itf = new AtqQuantizer(true, false).quantize(w, n, k, s);
        QuantizedBlock aga = new AtqQuantizer(true, true).quantize(w, n, k, s);
        double sumItf = 0, sumAga = 0;
        for (int i = 0; i < n; i++) {
            double ei = rowObjective(w, itf.deq(), i, k, s), ea = rowObjective(w, aga.deq(), i, k, s);
            assertTrue(ea <= ei * (1 + 1e-5), "row " + i + ": AGA " + ea + " > ITF " + ei);
            assertTrue(aga.p1()[i] >= 0);
            sumItf += ei;
            sumAga += ea;
        }
        // With correlated inputs the alignment must actually help, not just do nothing.
        assertTrue(sumAga < 0.95 * sumItf, "AGA " + sumAga + " vs ITF " + sumItf);
    }

    @Test
    void singularGramFallsBackToItf() {
        Random rnd = new Random(10);
        int n = 8, k = 16;
        float[] w = TestData.weights(rnd, n, k);
        double[] s = new double[k * k];
        for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) s[a * k + b] = 1; // rank one: d·a − v² = 0
        QuantizedBlock itf = new AtqQuantizer(true, false).quantize(w, n, k, s);
        QuantizedBlock aga = new AtqQuantizer(true, true).quantize(w, n, k, s);
        for (int i = 0; i < n; i++) {
            assertTrue(Float.isFinite(aga.p1()[i]) && Float.isFinite(aga.p2()[i]));
        }
        assertTrue(java.util.Arrays.equals(itf.deq(), aga.deq()));
    }
}
