package dev.tern.quant;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Synthetic layers and calibration inputs for the quant tests. */
final class TestData {
    private TestData() {}

    static float[] gaussian(Random rnd, int len, double scale) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) a[i] = (float) (rnd.nextGaussian() * scale);
        return a;
    }

    /** W with a per-row offset (LLM rows are not centred) and a few heavy columns. */
    static float[] weights(Random rnd, int n, int m) {
        float[] w = new float[n * m];
        for (int i = 0; i < n; i++) {
            double off = 0.3 * rnd.nextGaussian();
            for (int j = 0; j < m; j++) w[i * m + j] = (float) (off + rnd.nextGaussian() * (j % 37 == 0 ? 3 : 1));
        }
        return w;
    }

    /**
     * Tokens [tokens][m] with correlated channels (a shared low-rank component plus noise) and a few outlier channels.
     */
    static float[] activations(Random rnd, int tokens, int m) {
        int rank = 8;
        double[] mix = new double[rank * m];
        for (int i = 0; i < mix.length; i++) mix[i] = rnd.nextGaussian();
        float[] x = new float[tokens * m];
        double[] z = new double[rank];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rank; r++) z[r] = rnd.nextGaussian();
            for (int j = 0; j < m; j++) {
                double v = 0.5 * rnd.nextGaussian();
                for (int r = 0; r < rank; r++) v += z[r] * mix[r * m + j];
                if (j % 61 == 5) v *= 20; // outlier channels
                x[t * m + j] = (float) v;
            }
        }
        return x;
    }

    /** Plain 2·XᵀX/N. */
    static double[] hessian(float[] x, int tokens, int m) {
        double[] h = new double[m * m];
        for (int t = 0; t < tokens; t++) {
            for (int a = 0; a < m; a++) {
                double xa = x[t * m + a];
                if (xa == 0) continue;
                for (int b = 0; b < m; b++) h[a * m + b] += xa * x[t * m + b];
            }
        }
        for (int i = 0; i < h.length; i++) h[i] *= 2.0 / tokens;
        return h;
    }

    /** tr(E H Eᵀ) with E = W − Ŵ: proportional to ‖(W − Ŵ)X‖². */
    static double outputError(float[] w, float[] wq, int n, int m, double[] h) {
        double total = 0;
        double[] e = new double[m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) e[j] = (double) w[i * m + j] - wq[i * m + j];
            for (int a = 0; a < m; a++) {
                if (e[a] == 0) continue;
                double s = 0;
                for (int b = 0; b < m; b++) s += h[a * m + b] * e[b];
                total += e[a] * s;
            }
        }
        return total;
    }

    static double relDiff(float[] a, double[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    /** Dense inverse of an SPD matrix via Cholesky (reference quality, O(m³), small m only). */
    static double[] inverse(double[] a, int m) {
        double[] l = SmallLinalg.cholesky(a, m);
        return SmallLinalg.inverseFromCholesky(l, m);
    }

    /** GPTQ's prepared Hessian, spelled out: dead inputs (zero diagonal) get 1, then λ·mean(diag) on the diagonal. */
    static double[] dampedHessian(double[] h, int m, double damp) {
        double[] hd = h.clone();
        double diag = 0;
        for (int j = 0; j < m; j++) {
            if (h[j * m + j] == 0) hd[j * m + j] = 1;
            diag += hd[j * m + j];
        }
        for (int j = 0; j < m; j++) hd[j * m + j] += damp * diag / m;
        return hd;
    }

    /**
     * SSR's next block, the plain way: cosine of each remaining column of w (n rows) with the mean remaining column,
     * the k highest, ties to the lower index, in that order.
     */
    static List<Integer> ssrBlock(double[][] w, int n, List<Integer> rem, int k) {
        int r = rem.size();
        double[] mean = new double[n];
        for (int i = 0; i < n; i++) for (int c : rem) mean[i] += w[i][c] / r;
        Map<Integer, Double> score = new HashMap<>();
        for (int c : rem) {
            double d = 0, q = 0, p = 0;
            for (int i = 0; i < n; i++) {
                d += w[i][c] * mean[i];
                q += w[i][c] * w[i][c];
                p += mean[i] * mean[i];
            }
            score.put(c, q > 0 && p > 0 ? d / Math.sqrt(q * p) : 0);
        }
        List<Integer> order = new ArrayList<>(rem);
        order.sort(Comparator.<Integer>comparingDouble(c -> -score.get(c)).thenComparingInt(c -> c));
        return new ArrayList<>(order.subList(0, k));
    }
}
