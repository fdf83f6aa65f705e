package dev.tern.quant;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Block-at-once GPTQ written directly from METHOD §2 with no downdating: before every block, (H_RR)⁻¹ is recomputed
 * from scratch and W_F −= E_B (G_BB)⁻¹ G_BF is applied densely. Test-only reference for the Schur-downdate driver.
 */
final class DenseGptqReference {
    private DenseGptqReference() {}

    /** order == null means SSR; otherwise the fixed column order. Returns the dequantized W in original order. */
    static double[] quantize(float[] w0, int n, int m, double[] h0, int[] order, GroupQuantizer q, int bs,
            double percdamp) {
        double[] h = h0.clone();
        double[] w = new double[n * m];
        for (int i = 0; i < w.length; i++) w[i] = w0[i];
        double mean = 0;
        for (int j = 0; j < m; j++) {
            if (h[j * m + j] == 0) {
                h[j * m + j] = 1;
                for (int i = 0; i < n; i++) w[i * m + j] = 0;
            }
            mean += h[j * m + j];
        }
        for (int j = 0; j < m; j++) h[j * m + j] += percdamp * mean / m;
        List<Integer> rem = new ArrayList<>();
        if (order == null) for (int j = 0; j < m; j++) rem.add(j);
        else for (int j : order) rem.add(j);
        double[] out = new double[n * m];
        while (!rem.isEmpty()) {
            int r = rem.size(), k = Math.min(bs, r);
            List<Integer> b;
            if (order == null) {
                double[] mu = new double[n];
                for (int i = 0; i < n; i++) {
                    for (int j : rem) mu[i] += w[i * m + j];
                    mu[i] /= r;
                }
                double mn = 0;
                for (double v : mu) mn += v * v;
                double[] score = new double[m];
                for (int j : rem) {
                    double dot = 0, sq = 0;
                    for (int i = 0; i < n; i++) {
                        dot += w[i * m + j] * mu[i];
                        sq += w[i * m + j] * w[i * m + j];
                    }
                    double den = Math.sqrt(sq) * Math.sqrt(mn);
                    score[j] = den > 0 ? dot / den : 0;
                }
                List<Integer> sorted = new ArrayList<>(rem);
                sorted.sort(Comparator.<Integer>comparingDouble(j -> -score[j]).thenComparingInt(j -> j));
                b = sorted.subList(0, k);
            } else {
                b = rem.subList(0, k);
            }
            b = new ArrayList<>(b);
            List<Integer> f = new ArrayList<>(rem);
            f.removeAll(b);
            // G = (H_RR)^-1 from scratch, indexed by position in rem.
            double[] hrr = new double[r * r];
            for (int a = 0; a < r; a++) for (int c = 0; c < r; c++) hrr[a * r + c] = h[rem.get(a) * m + rem.get(c)];
            double[] g = TestData.inverse(hrr, r);
            int[] pb = new int[k], pf = new int[f.size()];
            for (int t = 0; t < k; t++) pb[t] = rem.indexOf(b.get(t));
            for (int c = 0; c < pf.length; c++) pf[c] = rem.indexOf(f.get(c));

            float[] wb = new float[n * k];
            for (int i = 0; i < n; i++) for (int t = 0; t < k; t++) wb[i * k + t] = (float) w[i * m + b.get(t)];
            double[] s = new double[k * k];
            for (int a = 0; a < k; a++) for (int c = 0; c < k; c++) s[a * k + c] = h0[b.get(a) * m + b.get(c)]; // AGA: undamped Gram
            QuantizedBlock qb = q.quantize(wb, n, k, q.usesGram() ? s : null);
            for (int i = 0; i < n; i++) for (int t = 0; t < k; t++) out[i * m + b.get(t)] = qb.deq()[i * k + t];
            if (!f.isEmpty()) {
                double[] gbb = new double[k * k];
                for (int a = 0; a < k; a++) for (int c = 0; c < k; c++) gbb[a * k + c] = g[pb[a] * r + pb[c]];
                double[] gbbInv = TestData.inverse(gbb, k);
                int nf = pf.length;
                double[] mm = new double[k * nf];
                for (int a = 0; a < k; a++) {
                    for (int c = 0; c < nf; c++) {
                        double sum = 0;
                        for (int t = 0; t < k; t++) sum += gbbInv[a * k + t] * g[pb[t] * r + pf[c]];
                        mm[a * nf + c] = sum;
                    }
                }
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < nf; c++) {
                        double sum = 0;
                        for (int t = 0; t < k; t++) sum += ((double) wb[i * k + t] - qb.deq()[i * k + t]) * mm[t * nf + c];
                        w[i * m + f.get(c)] -= sum;
                    }
                }
            }
            rem = f;
        }
        return out;
    }
}
