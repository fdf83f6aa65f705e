package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ItfTest {
    /** Runs init + ITF on one row, returning the error trace with the init error first. */
    static List<Double> trace(float[] w, byte[] t, double[] am) {
        int k = w.length;
        Atq.initRow(w, 0, k, t, 0, am);
        List<Double> errs = new ArrayList<>();
        errs.add(Atq.rowError(w, 0, k, t, 0, am[0], am[1]));
        int steps = Itf.fitRow(w, 0, k, t, 0, am, errs::add);
        assertTrue(steps <= Itf.MAX_STEPS);
        return errs;
    }

    @Test
    void errorNeverIncreasesAndTerminates() {
        Random rnd = new Random(3);
        int strictDrops = 0;
        for (int row = 0; row < 400; row++) {
            int k = 1 + rnd.nextInt(200);
            float[] w = new float[k];
            double off = rnd.nextGaussian();
            for (int j = 0; j < k; j++) {
                w[j] = (float) (off + (rnd.nextInt(4) == 0 ? rnd.nextGaussian() * 4 : rnd.nextGaussian()));
            }
            byte[] t = new byte[k];
            double[] am = new double[2];
            List<Double> errs = trace(w, t, am);
            for (int s = 1; s < errs.size(); s++) {
                double prev = errs.get(s - 1), cur = errs.get(s);
                assertTrue(cur <= prev * (1 + 1e-12) + 1e-300, "row " + row + " step " + s + ": " + prev + " -> " + cur);
            }
            if (errs.get(errs.size() - 1) < errs.get(0) * (1 - 1e-9)) strictDrops++;
            // Terminated because T is stable: one more rounding step changes nothing.
            assertTrue(!Itf.round(w, 0, k, t.clone(), 0, am.clone()), "row " + row + " not converged");
            assertTrue(am[0] >= 0);
        }
        assertTrue(strictDrops > 200, "ITF should usually improve on the TWN init, improved " + strictDrops);
    }

    @Test
    void recoversAnExactAsymmetricTernaryRow() {
        Random rnd = new Random(4);
        int k = 128;
        float[] w = new float[k];
        for (int j = 0; j < k; j++) w[j] = (float) (0.7 * (rnd.nextInt(3) - 1) + 0.25);
        byte[] t = new byte[k];
        double[] am = new double[2];
        List<Double> errs = trace(w, t, am);
        assertEquals(0, errs.get(errs.size() - 1), 1e-10);
        assertEquals(0.7, am[0], 1e-6);
        assertEquals(0.25, am[1], 1e-6);
    }

    @Test
    void degenerateRowsGiveFiniteNonNegativeGrids() {
        float[][] rows = {
            new float[16], // all zero
            filled(16, 3.5f), // constant
            {2.5f}, // k = 1
            {-1f}, // k = 1 negative
            {1f, 1f, 1f, 5f, 5f, 5f}, // two values
            {-4f, 2f}, // k = 2
            {0f, 0f, 0f, 0f, 0f, 7f}, // a single spike
            {Float.MIN_VALUE, 0f, -Float.MIN_VALUE}, // subnormal
        };
        for (float[] w : rows) {
            byte[] t = new byte[w.length];
            double[] am = new double[2];
            List<Double> errs = trace(w, t, am);
            assertTrue(Double.isFinite(am[0]) && Double.isFinite(am[1]), java.util.Arrays.toString(w));
            assertTrue(am[0] >= 0, "alpha " + am[0]);
            for (double e : errs) assertTrue(Double.isFinite(e));
            // The fitted row is never worse than the constant mean row.
            double mean = 0;
            for (float v : w) mean += v;
            mean /= w.length;
            double meanErr = 0;
            for (float v : w) meanErr += (v - mean) * (v - mean);
            assertTrue(errs.get(errs.size() - 1) <= meanErr + 1e-12);
        }
        // Two values are represented exactly.
        float[] two = {1f, 1f, 1f, 5f, 5f, 5f};
        byte[] t = new byte[6];
        double[] am = new double[2];
        List<Double> errs = trace(two, t, am);
        assertEquals(0, errs.get(errs.size() - 1), 1e-12);
    }

    @Test
    void quantizerFlagsSelectStages() {
        Random rnd = new Random(8);
        int n = 32, k = 128;
        float[] w = TestData.weights(rnd, n, k);
        QuantizedBlock rtn = new RtnTernaryQuantizer(true).quantize(w, n, k, null);
        QuantizedBlock init = new AtqQuantizer(false, false).quantize(w, n, k, null);
        QuantizedBlock itf = new AtqQuantizer(true, false).quantize(w, n, k, null);
        // Without ITF and AGA the quantizer is METHOD §1's initialisation, written out here independently.
        for (int i = 0; i < n; i++) {
            double mean = 0, abs = 0;
            for (int j = 0; j < k; j++) mean += w[i * k + j];
            mean /= k;
            for (int j = 0; j < k; j++) abs += Math.abs(w[i * k + j] - mean);
            double delta = 0.75 * abs / k, num = 0;
            int cnt = 0;
            int[] tr = new int[k];
            for (int j = 0; j < k; j++) {
                double c = w[i * k + j] - mean;
                tr[j] = c > delta ? 1 : c < -delta ? -1 : 0;
                num += tr[j] * c;
                cnt += Math.abs(tr[j]);
            }
            double a = num / cnt;
            for (int j = 0; j < k; j++) {
                assertEquals(a * tr[j] + mean, init.deq()[i * k + j], 1e-5, "row " + i + " col " + j);
                assertEquals(init.deq()[i * k + j], rtn.deq()[i * k + j]);
            }
        }
        assertTrue(err(w, itf) < err(w, init));
        QuantizedBlock sym = new RtnTernaryQuantizer(false).quantize(w, n, k, null);
        for (float mu : sym.p2()) assertEquals(0f, mu);
    }

    static double err(float[] w, QuantizedBlock b) {
        double e = 0;
        for (int i = 0; i < w.length; i++) e += (w[i] - b.deq()[i]) * (double) (w[i] - b.deq()[i]);
        return e;
    }

    static float[] filled(int k, float v) {
        float[] a = new float[k];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
