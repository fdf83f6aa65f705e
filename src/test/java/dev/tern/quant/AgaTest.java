package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    /**
     * With the trits frozen, AGA's (α, μ) must be the least-squares fit of the row's outputs X·w by the two output
     * columns X·t and X·1, solved here independently: Householder-free Gram-Schmidt QR on the tokens, not the 2x2
     * normal equations on S that Aga uses.
     */
    @Test
    void agaReachesTheClosedFormOptimum() {
        Random rnd = new Random(9);
        int n = 24, k = 64, tokens = 300;
        float[] w = TestData.weights(rnd, n, k);
        float[] x = TestData.activations(rnd, tokens, k);
        double[] s = TestData.hessian(x, tokens, k);
        byte[] t = new byte[n * k];
        double[] alpha = new double[n], mu = new double[n];
        Atq.init(w, n, k, t, alpha, mu, false);
        Itf.fit(w, n, k, t, alpha, mu, null);
        byte[] t0 = t.clone();
        Aga.align(w, n, k, s, t, alpha, mu);
        for (int i = 0; i < n; i++) {
            double[] u = new double[tokens], v = new double[tokens], y = new double[tokens];
            for (int r = 0; r < tokens; r++) {
                for (int j = 0; j < k; j++) {
                    double xr = x[r * k + j];
                    u[r] += xr * t0[i * k + j];
                    v[r] += xr;
                    y[r] += xr * w[i * k + j];
                }
            }
            // QR of [u v]: q1 = u/|u|, q2 = (v − (q1·v) q1)/|…|; then R [α μ]ᵀ = Qᵀ y by back substitution.
            double r11 = Math.sqrt(dot(u, u));
            double[] q1 = scale(u, 1 / r11);
            double r12 = dot(q1, v);
            double[] v2 = v.clone();
            for (int r = 0; r < tokens; r++) v2[r] -= r12 * q1[r];
            double r22 = Math.sqrt(dot(v2, v2));
            double[] q2 = scale(v2, 1 / r22);
            double wantMu = dot(q2, y) / r22, wantAlpha = (dot(q1, y) - r12 * wantMu) / r11;
            // Compare the dequantized rows: AGA may have flipped the trits to keep α ≥ 0.
            double tol = 1e-6 * (Math.abs(wantAlpha) + Math.abs(wantMu));
            assertTrue(alpha[i] >= 0, "row " + i);
            for (int j = 0; j < k; j++) {
                assertEquals(wantAlpha * t0[i * k + j] + wantMu, alpha[i] * t[i * k + j] + mu[i], tol, "row " + i + " col " + j);
            }
        }
    }

    /** On correlated inputs the aligned grid must lower the output error clearly, not just leave ITF's grid alone. */
    @Test
    void agaLowersOutputErrorOverItf() {
        Random rnd = new Random(9);
        int n = 64, k = 128, tokens = 400;
        float[] w = TestData.weights(rnd, n, k);
        float[] x = TestData.activations(rnd, tokens, k);
        double[] s = TestData.hessian(x, tokens, k);
        QuantizedBlock itf = new AtqQuantizer(true, false).quantize(w, n, k, s);
        QuantizedBlock aga = new AtqQuantizer(true, true).quantize(w, n, k, s);
        double sumItf = 0, sumAga = 0;
        for (int i = 0; i < n; i++) {
            sumItf += rowObjective(w, itf.deq(), i, k, s);
            sumAga += rowObjective(w, aga.deq(), i, k, s);
        }
        assertTrue(sumAga < 0.95 * sumItf, "AGA " + sumAga + " vs ITF " + sumItf);
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double[] scale(double[] a, double f) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) o[i] = a[i] * f;
        return o;
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
