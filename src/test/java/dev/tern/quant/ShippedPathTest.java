package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The configuration `quantize --method pt2` ships (SSR, column-wise GPTQ feedback, ATQ with refits on the final
 * trits) against a plain loop written from METHOD.md §1–2, and SSR against natural order where the order matters.
 */
class ShippedPathTest {
    static final int N = 12, M = 48, BS = 16, TOKENS = 300;

    @Test
    void shippedPathEqualsAPlainLoop() {
        Random rnd = new Random(41);
        float[] w = TestData.weights(rnd, N, M);
        double[] h = TestData.hessian(TestData.activations(rnd, TOKENS, M), TOKENS, M);
        Gptq.Options shipped = QuantMethod.of("pt2", 2, BS, true, true, null, null, false, 0, 0.01).options();
        float[] got = Gptq.quantize(w, N, M, h, AtqQuantizer.full(), shipped).dequantized();
        float[] want = reference(w, h, shipped.damp(), shipped.refits());
        double rms = rms(w);
        assertTrue(mismatches(got, want, rms) <= 0.02 * N * M, mismatches(got, want, rms) + " of " + N * M + " weights differ");
        double eg = TestData.outputError(w, got, N, M, h), ew = TestData.outputError(w, want, N, M, h);
        assertEquals(ew, eg, 0.01 * ew, "output error");
        // The comparison has teeth: without the refits the plain loop lands somewhere clearly different and worse.
        float[] noRefit = reference(w, h, shipped.damp(), 0);
        assertTrue(mismatches(got, noRefit, rms) > 0.1 * N * M, "refits changed almost nothing");
        assertTrue(ew < 0.95 * TestData.outputError(w, noRefit, N, M, h), "refits do not lower the output error");
    }

    /**
     * Columns come from four planted clusters, interleaved in natural order; within a cluster a row's entries are
     * nearly equal, and each cluster has its own cosine with the mean column. SSR's groups then hold one cluster each
     * (one level per row, which α·t + μ fits), natural order's groups mix four levels that three trits cannot.
     */
    @Test
    void ssrBeatsNaturalOrderOnPlantedClusters() {
        Random rnd = new Random(42);
        int n = 32, m = 256, bs = 64;
        double[] u = new double[n], cosC = {0.95, 0.5, 0.0, -0.6};
        double[][] z = new double[4][n];
        for (int i = 0; i < n; i++) u[i] = rnd.nextGaussian();
        for (int c = 0; c < 4; c++) for (int i = 0; i < n; i++) z[c][i] = rnd.nextGaussian();
        float[] w = new float[n * m];
        for (int j = 0; j < m; j++) {
            int c = j % 4;
            double s = 1 + c;
            for (int i = 0; i < n; i++) {
                double base = cosC[c] * u[i] + Math.sqrt(1 - cosC[c] * cosC[c]) * z[c][i];
                w[i * m + j] = (float) (s * base + 0.02 * rnd.nextGaussian());
            }
        }
        double[] h = TestData.hessian(TestData.gaussian(rnd, 1024 * m, 1), 1024, m);
        Gptq.Options o = Gptq.Options.defaults().withBlockSize(bs);
        double ssr = TestData.outputError(w, Gptq.quantize(w, n, m, h, AtqQuantizer.full(), o).dequantized(), n, m, h);
        double none = TestData.outputError(w,
                Gptq.quantize(w, n, m, h, AtqQuantizer.full(), o.withOrder(Gptq.Order.NONE)).dequantized(), n, m, h);
        assertTrue(ssr < 0.5 * none, "SSR " + ssr + " vs natural order " + none);
    }

    static double rms(float[] w) {
        double s = 0;
        for (float v : w) s += v * v;
        return Math.sqrt(s / w.length);
    }

    static int mismatches(float[] a, float[] b, double rms) {
        int c = 0;
        for (int i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1e-3 * rms) c++;
        return c;
    }

    /** METHOD §2 with no shortcuts: (H_RR)⁻¹ inverted afresh for every block, every product spelled out. */
    static float[] reference(float[] w0, double[] h, double damp, int refits) {
        double[][] w = new double[N][M];
        double[] hd = TestData.dampedHessian(h, M, damp);
        for (int j = 0; j < M; j++) {
            boolean dead = h[j * M + j] == 0;
            for (int i = 0; i < N; i++) w[i][j] = dead ? 0 : w0[i * M + j];
        }
        float[] out = new float[N * M];
        List<Integer> rem = new ArrayList<>();
        for (int j = 0; j < M; j++) rem.add(j);
        while (!rem.isEmpty()) {
            int r = rem.size(), k = Math.min(BS, r);
            double[] hr = new double[r * r];
            for (int a = 0; a < r; a++) for (int b = 0; b < r; b++) hr[a * r + b] = hd[rem.get(a) * M + rem.get(b)];
            double[] g = TestData.inverse(hr, r);
            List<Integer> blk = TestData.ssrBlock(w, N, rem, k), fut = new ArrayList<>(rem);
            fut.removeAll(blk);
            int[] bpos = new int[k];
            for (int t = 0; t < k; t++) bpos[t] = rem.indexOf(blk.get(t));
            double[] gbb = new double[k * k];
            for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) gbb[a * k + b] = g[bpos[a] * r + bpos[b]];
            double[] s = new double[k * k];
            for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) s[a * k + b] = h[blk.get(a) * M + blk.get(b)];
            double[] cost = TestData.inverse(gbb, k);
            double[] l = SmallLinalg.cholesky(gbb, k);
            double[][] wb = new double[N][k], q = new double[N][];
            for (int i = 0; i < N; i++) for (int t = 0; t < k; t++) wb[i][t] = w[i][blk.get(t)];
            for (int i = 0; i < N; i++) q[i] = quantizeRow(wb[i], s, cost, l, k, refits);
            // W_F −= E_B (G_BB)⁻¹ G_BF.
            double[][] e = new double[N][k];
            for (int i = 0; i < N; i++) for (int t = 0; t < k; t++) e[i][t] = wb[i][t] - q[i][t];
            for (int fi = 0; fi < fut.size(); fi++) {
                int fp = rem.indexOf(fut.get(fi));
                double[] mcol = new double[k]; // (G_BB)⁻¹ G_B,f
                for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) mcol[a] += cost[a * k + b] * g[bpos[b] * r + fp];
                for (int i = 0; i < N; i++) {
                    double d = 0;
                    for (int a = 0; a < k; a++) d += e[i][a] * mcol[a];
                    w[i][fut.get(fi)] -= d;
                }
            }
            for (int i = 0; i < N; i++) for (int t = 0; t < k; t++) out[i * M + blk.get(t)] = (float) q[i][t];
            rem = fut;
        }
        return out;
    }

    /** One row of one block: TWN init, ITF, AGA, GPTQ's column pass, then the refit rounds; returns ŵ. */
    static double[] quantizeRow(double[] wb, double[] s, double[] cost, double[] l, int k, int refits) {
        int[] t = new int[k];
        double mean = 0, abs = 0;
        for (double v : wb) mean += v / k;
        for (double v : wb) abs += Math.abs(v - mean) / k;
        double num = 0;
        int cnt = 0;
        for (int j = 0; j < k; j++) {
            double c = wb[j] - mean;
            t[j] = c > 0.75 * abs ? 1 : c < -0.75 * abs ? -1 : 0;
            num += t[j] * c;
            cnt += t[j] * t[j];
        }
        double[] am = {cnt == 0 ? 0 : num / cnt, mean};
        for (int step = 0; step < Itf.MAX_STEPS; step++) {
            grid(wb, t, am);
            int[] nt = new int[k];
            for (int j = 0; j < k; j++) nt[j] = nearest(wb[j], am);
            boolean same = java.util.Arrays.equals(nt, t);
            t = nt;
            if (same) break;
        }
        aga(wb, t, s, am);
        // Column pass with U = Lᵀ: quantize column j, push (w_j − q_j)/U_jj · U_jc into the later columns c.
        double[] row = wb.clone();
        for (int j = 0; j < k; j++) {
            t[j] = nearest(row[j], am);
            double err = (row[j] - (am[0] * t[j] + am[1])) / l[j * k + j];
            for (int c = j + 1; c < k; c++) row[c] -= err * l[c * k + j];
        }
        for (int round = 0; round < refits; round++) {
            grid(wb, t, am);
            aga(wb, t, s, am);
            for (int sweep = 0; sweep < AtqQuantizer.MAX_SWEEPS; sweep++) {
                boolean moved = false;
                for (int j = 0; j < k; j++) {
                    int best = t[j];
                    double bestF = objective(wb, t, am, cost, k);
                    for (int cand = -1; cand <= 1; cand++) {
                        int keep = t[j];
                        t[j] = cand;
                        double f = objective(wb, t, am, cost, k);
                        t[j] = keep;
                        if (f < bestF - 1e-9 * Math.abs(bestF)) {
                            bestF = f;
                            best = cand;
                        }
                    }
                    moved |= best != t[j];
                    t[j] = best;
                }
                if (!moved) break;
            }
        }
        double[] q = new double[k];
        for (int j = 0; j < k; j++) q[j] = (float) am[0] * t[j] + (float) am[1];
        return q;
    }

    static int nearest(double v, double[] am) {
        if (!(am[0] > 0)) return 0;
        double x = v - am[1];
        return x > am[0] / 2 ? 1 : x < -am[0] / 2 ? -1 : 0;
    }

    /** ITF's grid step: least-squares (α, μ) for fixed trits, α kept ≥ 0 by flipping the trits. */
    static void grid(double[] w, int[] t, double[] am) {
        int k = w.length;
        double s1 = 0, s2 = 0, p = 0, q = 0;
        for (int j = 0; j < k; j++) {
            s1 += t[j];
            s2 += t[j] * t[j];
            p += w[j] * t[j];
            q += w[j];
        }
        double den = k * s2 - s1 * s1;
        if (den > 0) {
            am[0] = (k * p - s1 * q) / den;
            am[1] = (s2 * q - s1 * p) / den;
        } else {
            am[1] = (q - am[0] * s1) / k;
        }
        if (am[0] < 0) {
            am[0] = -am[0];
            for (int j = 0; j < k; j++) t[j] = -t[j];
        }
    }

    /** AGA: the (α, μ) minimising (w − αt − μ) S (w − αt − μ)ᵀ, kept only if it does not raise that objective. */
    static void aga(double[] w, int[] t, double[] s, double[] am) {
        int k = w.length;
        double a = 0, b = 0, v = 0, c = 0, d = 0;
        for (int x = 0; x < k; x++) {
            for (int y = 0; y < k; y++) {
                double sv = s[x * k + y];
                a += t[x] * sv * t[y];
                b += w[x] * sv * t[y];
                v += t[x] * sv;
                c += w[x] * sv;
                d += sv;
            }
        }
        double det = d * a - v * v;
        if (!(d * a > 0) || !(Math.abs(det) > Aga.SINGULAR_REL * d * a)) return;
        double na = (d * b - v * c) / det, nm = (a * c - v * b) / det;
        double fNew = objective(w, t, new double[] {na, nm}, s, k), fOld = objective(w, t, am, s, k);
        if (!(fNew <= fOld)) return;
        if (na < 0) {
            na = -na;
            for (int j = 0; j < k; j++) t[j] = -t[j];
        }
        am[0] = na;
        am[1] = nm;
    }

    static double objective(double[] w, int[] t, double[] am, double[] s, int k) {
        double f = 0;
        for (int x = 0; x < k; x++) {
            double ex = w[x] - (float) am[0] * t[x] - (float) am[1];
            for (int y = 0; y < k; y++) f += ex * s[x * k + y] * (w[y] - (float) am[0] * t[y] - (float) am[1]);
        }
        return f;
    }
}
