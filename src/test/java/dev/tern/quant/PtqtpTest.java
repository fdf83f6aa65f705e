package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PtqtpTest {
    /**
     * Where the fit stops, the returned trits are the best of the 9
     * pairs per element for the returned scales, and the fit ends well below the error of METHOD §5's
     * initialisation, recomputed here.
     */
    @Test
    void fitEndsWithOptimalTritsBelowItsInitialisation() {
        Random rnd = new Random(12);
        double initTotal = 0, fitTotal = 0;
        for (int row = 0; row < 300; row++) {
            int k = 2 + rnd.nextInt(160);
            float[] w = TestData.gaussian(rnd, k, 0.02 + rnd.nextDouble());
            byte[] t1 = new byte[k], t2 = new byte[k];
            double[] a = new double[2];
            Ptqtp.Init init = row % 2 == 0 ? Ptqtp.Init.SIGN : Ptqtp.Init.TWN;
            int it = Ptqtp.fitRow(w, 0, k, t1, t2, 0, a, init, null);
            assertTrue(it <= Ptqtp.MAX_ITERS);
            assertTrue(a[0] >= 0 && a[1] >= 0);
            for (int j = 0; j < k; j++) {
                double got = Math.abs(w[j] - (a[0] * t1[j] + a[1] * t2[j])), best = Double.POSITIVE_INFINITY;
                for (int x = -1; x <= 1; x++) for (int y = -1; y <= 1; y++) best = Math.min(best, Math.abs(w[j] - (a[0] * x + a[1] * y)));
                assertEquals(best, got, 1e-9, "row " + row + " col " + j);
            }
            // The METHOD §5 initialisation, written out here: the fit must end well below it on average.
            double m1 = 0, m2 = 0, e0 = 0, e1 = Ptqtp.error(w, 0, k, t1, t2, 0, a[0], a[1]);
            double thr = 0;
            if (init == Ptqtp.Init.TWN) {
                for (float v : w) thr += Math.abs(v);
                thr *= 0.75 / k;
            }
            int cnt = 0;
            byte[] i1 = new byte[k];
            for (int j = 0; j < k; j++) {
                i1[j] = Math.abs(w[j]) > thr ? (byte) Math.signum(w[j]) : 0;
                if (i1[j] != 0) {
                    m1 += Math.abs(w[j]);
                    cnt++;
                }
            }
            double a1 = init == Ptqtp.Init.TWN ? (cnt == 0 ? 0 : m1 / cnt) : 0;
            if (init == Ptqtp.Init.SIGN) for (float v : w) a1 += Math.abs(v) / k;
            for (int j = 0; j < k; j++) m2 += Math.abs(w[j] - a1 * i1[j]) / k;
            for (int j = 0; j < k; j++) {
                double r = w[j] - a1 * i1[j], d = r - m2 * Math.signum(r);
                e0 += d * d;
            }
            initTotal += e0;
            fitTotal += e1;
        }
        assertTrue(fitTotal < 0.9 * initTotal, "fit " + fitTotal + " vs initialisation " + initTotal);
    }

    @Test
    void ninePairChoiceIsOptimalVersusBruteForce() {
        Random rnd = new Random(13);
        for (int trial = 0; trial < 200; trial++) {
            int k = 1 + rnd.nextInt(6);
            float[] w = TestData.gaussian(rnd, k, 1);
            double a1 = rnd.nextDouble() * 1.5, a2 = rnd.nextDouble() * 0.8;
            byte[] t1 = new byte[k], t2 = new byte[k];
            Ptqtp.trits(w, 0, k, t1, t2, 0, a1, a2);
            double got = Ptqtp.error(w, 0, k, t1, t2, 0, a1, a2);
            // Brute force over all 9^k joint choices of the two trit vectors.
            double best = Double.POSITIVE_INFINITY;
            int total = (int) Math.pow(9, k);
            byte[] b1 = new byte[k], b2 = new byte[k];
            for (int code = 0; code < total; code++) {
                int c = code;
                for (int j = 0; j < k; j++) {
                    int p = c % 9;
                    c /= 9;
                    b1[j] = (byte) (p % 3 - 1);
                    b2[j] = (byte) (p / 3 - 1);
                }
                best = Math.min(best, Ptqtp.error(w, 0, k, b1, b2, 0, a1, a2));
            }
            assertEquals(best, got, 1e-12, "k=" + k);
        }
    }

    /** Main plane in {-1, +1} (what the METHOD sign init can recover) and in {-1, 0, 1} (needs the TWN init). */
    @ParameterizedTest
    @CsvSource({"SIGN, false", "TWN, false", "TWN, true"})
    void recoversAnExactTwoPlaneRow(Ptqtp.Init init, boolean sparseMainPlane) {
        Random rnd = new Random(14);
        for (int trial = 0; trial < 20; trial++) {
            int k = 128;
            double a = 0.05 + rnd.nextDouble(), b = a * (0.05 + 0.2 * rnd.nextDouble());
            float[] w = new float[k];
            for (int j = 0; j < k; j++) {
                int x = sparseMainPlane ? rnd.nextInt(3) - 1 : 2 * rnd.nextInt(2) - 1;
                w[j] = (float) (a * x + b * (rnd.nextInt(3) - 1));
            }
            byte[] t1 = new byte[k], t2 = new byte[k];
            double[] al = new double[2];
            Ptqtp.fitRow(w, 0, k, t1, t2, 0, al, init, null);
            double norm = 0;
            for (float v : w) norm += v * v;
            double e = Ptqtp.error(w, 0, k, t1, t2, 0, al[0], al[1]);
            assertTrue(e <= 1e-10 * norm, "trial " + trial + ": error " + e + " of " + norm);
        }
    }

    @Test
    void degenerateRowsStayFinite() {
        float[][] rows = {new float[8], ItfTest.filled(8, -2f), {3f}, {0f, 5f}, {1f, -1f, 1f, -1f}, {1e-30f, 0f}};
        for (float[] w : rows) {
            byte[] t1 = new byte[w.length], t2 = new byte[w.length];
            double[] a = new double[2];
            Ptqtp.fitRow(w, 0, w.length, t1, t2, 0, a, null);
            assertTrue(Double.isFinite(a[0]) && Double.isFinite(a[1]) && a[0] >= 0 && a[1] >= 0);
            double norm = 0;
            for (float v : w) norm += v * v;
            assertTrue(Ptqtp.error(w, 0, w.length, t1, t2, 0, a[0], a[1]) <= norm + 1e-30);
        }
        // A constant row is exact with one plane.
        float[] c = ItfTest.filled(8, -2f);
        byte[] t1 = new byte[8], t2 = new byte[8];
        double[] a = new double[2];
        Ptqtp.fitRow(c, 0, 8, t1, t2, 0, a, null);
        assertEquals(0, Ptqtp.error(c, 0, 8, t1, t2, 0, a[0], a[1]), 1e-12);
    }
}
