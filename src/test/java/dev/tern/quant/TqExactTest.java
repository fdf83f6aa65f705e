package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.cli.CliRunner;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.format.TernaryMatrix;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TQ-exact variant: the symmetric grid (μ ≡ 0, α-only ATQ/ITF/AGA/refits) and static groups (natural-order groups
 * with grids fitted before the column pass, codes stored unpermuted), as llama.cpp's TQ1_0/TQ2_0 store a layer.
 */
class TqExactTest {
    @TempDir static Path tmp;

    static boolean f16Exact(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v)) == v;
    }

    /** Symmetric ATQ inside the driver, SSR and static orders: every μ is +0, α f16, and static stores no permutation. */
    @Test
    void symmetricModeGivesZeroMuAndStaticGivesNoPermutation() {
        Random rnd = new Random(51);
        int n = 16, m = 200, bs = 64;
        float[] w = TestData.weights(rnd, n, m); // rows carry an offset, which an asymmetric grid would put into μ
        double[] h = TestData.hessian(TestData.activations(rnd, 300, m), 300, m);
        for (Gptq.Order order : new Gptq.Order[] {Gptq.Order.SSR, Gptq.Order.STATIC, Gptq.Order.STATIC_ACT_ORDER}) {
            Gptq.Options o = Gptq.Options.defaults().withBlockSize(bs).withOrder(order);
            QuantizedLayer l = Gptq.quantize(w, n, m, h, new AtqQuantizer(true, true, true), o);
            TernaryMatrix t = (TernaryMatrix) l.matrix();
            for (float mu : t.mu()) assertEquals(0, Float.floatToRawIntBits(mu), order + ": mu " + mu);
            assertFalse(t.storesMu(), order.toString());
            for (float a : t.alpha()) assertTrue(a >= 0 && f16Exact(a), order + ": alpha " + a);
            assertTrue(Arrays.equals(l.dequantized(), t.dequantize()), order + ": stored matrix decodes to the driver's Ŵ");
            if (order.isStatic()) assertNull(t.perm(), order + " stored a permutation");
            else assertTrue(t.perm() != null, "SSR over several groups should permute (the test would not see a difference)");
            long expected = (long) n * (8L * ((m + 4) / 5) + 16L * t.groups()) + (order.isStatic() ? 0 : 8L * m);
            assertEquals(expected, t.storageBits(), order + ": codes + f16 α (+ SSR's group labels)");
        }
        // The asymmetric default on the same layer does use μ: the symmetric result is not an accident of the data.
        QuantizedLayer asym = Gptq.quantize(w, n, m, h, AtqQuantizer.full(), Gptq.Options.defaults().withBlockSize(bs));
        assertTrue(((TernaryMatrix) asym.matrix()).storesMu());
    }

    /**
     * α-only ITF: the symmetric grid step and rounding never increase ‖w − ŵ‖² (checked on the trace, not enforced by
     * the code), keep μ at exactly 0, terminate with stable trits, and usually improve on the symmetric TWN init.
     */
    @Test
    void alphaOnlyItfNeverIncreasesTheError() {
        Random rnd = new Random(52);
        int strictDrops = 0;
        for (int row = 0; row < 400; row++) {
            int k = 1 + rnd.nextInt(300);
            float[] w = new float[k];
            double off = 0.5 * rnd.nextGaussian();
            for (int j = 0; j < k; j++) w[j] = (float) (off + (rnd.nextInt(5) == 0 ? 4 : 1) * rnd.nextGaussian());
            byte[] t = new byte[k];
            double[] am = new double[2];
            Atq.initRowSymmetric(w, 0, k, t, 0, am);
            List<Double> errs = new ArrayList<>();
            errs.add(Atq.rowError(w, 0, k, t, 0, am[0], 0));
            List<Double> mus = new ArrayList<>();
            int steps = Itf.fitRow(w, 0, k, t, 0, am, true, e -> {
                errs.add(e);
                mus.add(am[1]);
            });
            assertTrue(steps >= 1 && steps <= Itf.MAX_STEPS);
            for (int s = 1; s < errs.size(); s++) {
                assertTrue(errs.get(s) <= errs.get(s - 1) * (1 + 1e-12) + 1e-300, "row " + row + " step " + s + ": " + errs.get(s - 1) + " -> " + errs.get(s));
            }
            for (double mu : mus) assertEquals(0.0, mu);
            assertEquals(0.0, am[1]);
            assertTrue(am[0] >= 0);
            // The trace is the symmetric error: recompute it from the returned trits and α.
            double e = 0;
            for (int j = 0; j < k; j++) e += (w[j] - am[0] * t[j]) * (w[j] - am[0] * t[j]);
            assertEquals(e, errs.get(errs.size() - 1), 1e-9 * (1 + e));
            assertFalse(Itf.round(w, 0, k, t.clone(), 0, new double[] {am[0], 0}), "row " + row + " not converged");
            if (errs.get(errs.size() - 1) < errs.get(0) * (1 - 1e-9)) strictDrops++;
        }
        assertTrue(strictDrops > 150, "α-only ITF should usually improve on TWN, improved " + strictDrops);
    }

    /**
     * α-only AGA with frozen trits lands on the least-squares α of the row's outputs, min ‖X w − α X t‖², solved here
     * on the tokens (one regressor: α = ⟨Xt, Xw⟩ / ⟨Xt, Xt⟩), not through the Gram matrix Aga uses.
     */
    @Test
    void alphaOnlyAgaReachesTheClosedFormOptimum() {
        Random rnd = new Random(53);
        int n = 24, k = 96, tokens = 300;
        float[] w = TestData.weights(rnd, n, k);
        float[] x = TestData.activations(rnd, tokens, k);
        double[] s = TestData.hessian(x, tokens, k);
        byte[] t = new byte[n * k];
        double[] alpha = new double[n], mu = new double[n];
        Atq.init(w, n, k, t, alpha, mu, true);
        Itf.fit(w, n, k, t, alpha, mu, true, null);
        byte[] t0 = t.clone();
        double[] itfAlpha = alpha.clone();
        Aga.alignSymmetric(w, n, k, s, t, alpha, mu);
        int moved = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(0.0, mu[i]);
            double uu = 0, uy = 0;
            for (int r = 0; r < tokens; r++) {
                double u = 0, y = 0;
                for (int j = 0; j < k; j++) {
                    u += (double) x[r * k + j] * t0[i * k + j];
                    y += (double) x[r * k + j] * w[i * k + j];
                }
                uu += u * u;
                uy += u * y;
            }
            double want = uy / uu;
            assertTrue(alpha[i] >= 0);
            for (int j = 0; j < k; j++) assertEquals(want * t0[i * k + j], alpha[i] * t[i * k + j], 1e-7 * Math.abs(want), "row " + i);
            if (Math.abs(itfAlpha[i] - Math.abs(want)) > 1e-3 * Math.abs(want)) moved++;
        }
        assertTrue(moved > n / 2, "AGA should move α away from ITF's on correlated inputs, moved " + moved);
    }

    static final int N = 10, M = 80, BS = 32, TOKENS = 400;

    /** Static groups visited in SSR order against a plain loop that inverts H_RR afresh for every block. */
    @Test
    void staticOrderEqualsAPlainLoop() {
        Random rnd = new Random(54);
        float[] w = TestData.weights(rnd, N, M);
        double[] h = TestData.hessian(TestData.activations(rnd, TOKENS, M), TOKENS, M);
        QuantMethod qm = QuantMethod.of("pt2", 2, BS, true, true, "static", null, false, 0, 0.01, 2, Gptq.Gram.PLAIN, true, false);
        QuantizedLayer l = Gptq.quantize(w, N, M, h, qm.quantizer(), qm.options());
        assertNull(l.perm());
        float[] got = l.dequantized();
        float[] want = staticReference(w, h, 0.01, 2);
        double rms = ShippedPathTest.rms(w);
        int bad = ShippedPathTest.mismatches(got, want, rms);
        assertTrue(bad <= 0.02 * N * M, bad + " of " + N * M + " weights differ");
        double eg = TestData.outputError(w, got, N, M, h), ew = TestData.outputError(w, want, N, M, h);
        assertEquals(ew, eg, 0.01 * ew, "output error");
        // Teeth: without the final refits the reference lands clearly elsewhere, and worse.
        float[] noRefit = staticReference(w, h, 0.01, 0);
        assertTrue(ShippedPathTest.mismatches(got, noRefit, rms) > 0.05 * N * M, "refits changed almost nothing");
        assertTrue(ew < TestData.outputError(w, noRefit, N, M, h), "refits do not lower the output error");
        // And the column pass matters: grids fitted before the pass but no error feedback is clearly worse.
        QuantizedBlock[] plain = new QuantizedBlock[3];
        double rtnErr = 0;
        float[] rtn = new float[N * M];
        for (int g = 0; g < 3; g++) {
            int c0 = g * BS, kg = Math.min(BS, M - c0);
            float[] wg = new float[N * kg];
            double[] s = new double[kg * kg];
            for (int i = 0; i < N; i++) System.arraycopy(w, i * M + c0, wg, i * kg, kg);
            for (int a = 0; a < kg; a++) for (int b = 0; b < kg; b++) s[a * kg + b] = h[(c0 + a) * M + c0 + b];
            plain[g] = qm.quantizer().quantize(wg, N, kg, s);
            for (int i = 0; i < N; i++) System.arraycopy(plain[g].deq(), i * kg, rtn, i * M + c0, kg);
        }
        rtnErr = TestData.outputError(w, rtn, N, M, h);
        assertTrue(eg < 0.9 * rtnErr, "static GPTQ " + eg + " vs static grids without feedback " + rtnErr);
    }

    static float f16(double v) {
        return Float.float16ToFloat(Float.floatToFloat16((float) v));
    }

    /**
     * METHOD.md's GPTQ with GPTQ's static groups and the symmetric grid, written plainly: per natural group and row,
     * symmetric TWN → α-only ITF → α-only AGA on the layer's weights; then blocks chosen by SSR, each column
     * quantized with its own group's α (f16) and its error pushed into the later columns of the block, the block's
     * error into the remaining columns; then `refits` rounds of (α-only grid step per group, AGA over the row's groups
     * jointly on the whole Gram matrix, coordinate descent on the trits against the damped Hessian of the whole row).
     */
    static float[] staticReference(float[] w0, double[] h, double damp, int refits) {
        int groups = (M + BS - 1) / BS;
        double[][] w = new double[N][M], wz = new double[N][M];
        double[] hd = TestData.dampedHessian(h, M, damp);
        for (int j = 0; j < M; j++) {
            boolean dead = h[j * M + j] == 0;
            for (int i = 0; i < N; i++) w[i][j] = wz[i][j] = dead ? 0 : w0[i * M + j];
        }
        int[][] t = new int[N][M];
        double[][] alpha = new double[N][groups];
        for (int i = 0; i < N; i++) {
            for (int g = 0; g < groups; g++) {
                int c0 = g * BS, kg = Math.min(BS, M - c0);
                double abs = 0;
                for (int j = c0; j < c0 + kg; j++) abs += Math.abs(wz[i][j]) / kg;
                double num = 0;
                int cnt = 0;
                for (int j = c0; j < c0 + kg; j++) {
                    t[i][j] = wz[i][j] > 0.75 * abs ? 1 : wz[i][j] < -0.75 * abs ? -1 : 0;
                    num += t[i][j] * wz[i][j];
                    cnt += t[i][j] * t[i][j];
                }
                double a = cnt == 0 ? 0 : num / cnt;
                for (int step = 0; step < Itf.MAX_STEPS; step++) {
                    a = gridStep(wz[i], t[i], c0, kg, a);
                    boolean same = true;
                    for (int j = c0; j < c0 + kg; j++) {
                        int nt = nearest(wz[i][j], a);
                        same &= nt == t[i][j];
                        t[i][j] = nt;
                    }
                    if (same) break;
                }
                // α-only AGA on the group's Gram block.
                double tst = 0, wst = 0;
                for (int x = c0; x < c0 + kg; x++) {
                    for (int y = c0; y < c0 + kg; y++) {
                        tst += t[i][x] * h[x * M + y] * t[i][y];
                        wst += wz[i][x] * h[x * M + y] * t[i][y];
                    }
                }
                if (tst > 0) {
                    double na = wst / tst;
                    if (na < 0) {
                        na = -na;
                        for (int j = c0; j < c0 + kg; j++) t[i][j] = -t[i][j];
                    }
                    a = na;
                }
                alpha[i][g] = f16(a);
            }
        }
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
            for (int x = 0; x < k; x++) bpos[x] = rem.indexOf(blk.get(x));
            double[] gbb = new double[k * k];
            for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) gbb[a * k + b] = g[bpos[a] * r + bpos[b]];
            double[] cost = TestData.inverse(gbb, k);
            double[] l = SmallLinalg.cholesky(gbb, k);
            double[][] e = new double[N][k];
            for (int i = 0; i < N; i++) {
                double[] row = new double[k];
                for (int x = 0; x < k; x++) row[x] = w[i][blk.get(x)];
                for (int x = 0; x < k; x++) {
                    int col = blk.get(x);
                    double a = alpha[i][col / BS];
                    t[i][col] = nearest(row[x], a);
                    double qv = a * t[i][col];
                    e[i][x] = w[i][col] - qv;
                    double err = (row[x] - qv) / l[x * k + x];
                    for (int c = x + 1; c < k; c++) row[c] -= err * l[c * k + x];
                }
            }
            for (int fi = 0; fi < fut.size(); fi++) {
                int fp = rem.indexOf(fut.get(fi));
                double[] mcol = new double[k];
                for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) mcol[a] += cost[a * k + b] * g[bpos[b] * r + fp];
                for (int i = 0; i < N; i++) {
                    double d = 0;
                    for (int a = 0; a < k; a++) d += e[i][a] * mcol[a];
                    w[i][fut.get(fi)] -= d;
                }
            }
            rem = fut;
        }
        for (int round = 0; round < refits; round++) {
            for (int i = 0; i < N; i++) {
                double[] a = new double[groups];
                for (int g = 0; g < groups; g++) a[g] = gridStep(wz[i], t[i], g * BS, Math.min(BS, M - g * BS), alpha[i][g]);
                // Joint α over the row's groups: M_gh = t_g S t_h, r_g = t_g S w, with S the whole plain Gram matrix.
                double[] mat = new double[groups * groups], rhs = new double[groups];
                for (int x = 0; x < M; x++) {
                    for (int y = 0; y < M; y++) {
                        mat[(x / BS) * groups + y / BS] += t[i][x] * h[x * M + y] * t[i][y];
                        rhs[x / BS] += t[i][x] * h[x * M + y] * wz[i][y];
                    }
                }
                double[] inv = TestData.inverse(mat, groups);
                double[] na = new double[groups];
                for (int x = 0; x < groups; x++) for (int y = 0; y < groups; y++) na[x] += inv[x * groups + y] * rhs[y];
                for (int g = 0; g < groups; g++) {
                    if (na[g] < 0) {
                        na[g] = -na[g];
                        for (int j = g * BS; j < Math.min(M, (g + 1) * BS); j++) t[i][j] = -t[i][j];
                    }
                    alpha[i][g] = f16(na[g]);
                }
                for (int sweep = 0; sweep < AtqQuantizer.MAX_SWEEPS; sweep++) {
                    boolean moved = false;
                    for (int j = 0; j < M; j++) {
                        int best = t[i][j];
                        double bestF = rowCost(wz[i], t[i], alpha[i], hd);
                        for (int cand = -1; cand <= 1; cand++) {
                            int keep = t[i][j];
                            t[i][j] = cand;
                            double f = rowCost(wz[i], t[i], alpha[i], hd);
                            t[i][j] = keep;
                            if (f < bestF - 1e-9 * Math.abs(bestF)) {
                                bestF = f;
                                best = cand;
                            }
                        }
                        moved |= best != t[i][j];
                        t[i][j] = best;
                    }
                    if (!moved) break;
                }
            }
        }
        float[] out = new float[N * M];
        for (int i = 0; i < N; i++) for (int j = 0; j < M; j++) out[i * M + j] = (float) alpha[i][j / BS] * t[i][j];
        return out;
    }

    /** Least-squares α for fixed trits on columns [c0, c0 + k), μ = 0; trits flipped to keep α ≥ 0. */
    static double gridStep(double[] w, int[] t, int c0, int k, double old) {
        double p = 0, s2 = 0;
        for (int j = c0; j < c0 + k; j++) {
            p += w[j] * t[j];
            s2 += t[j] * t[j];
        }
        double a = s2 > 0 ? p / s2 : old;
        if (a < 0) {
            a = -a;
            for (int j = c0; j < c0 + k; j++) t[j] = -t[j];
        }
        return a;
    }

    static int nearest(double v, double a) {
        if (!(a > 0)) return 0;
        return v > a / 2 ? 1 : v < -a / 2 ? -1 : 0;
    }

    static double rowCost(double[] w, int[] t, double[] alpha, double[] hd) {
        double f = 0;
        double[] e = new double[M];
        for (int j = 0; j < M; j++) e[j] = w[j] - (float) alpha[j / BS] * t[j];
        for (int x = 0; x < M; x++) for (int y = 0; y < M; y++) f += e[x] * hd[x * M + y] * e[y];
        return f;
    }

    /**
     * `quantize --tq-exact` on tinystories-656k: every ternary layer has group 256, μ ≡ 0 (no μ tensor), no
     * permutation (no permutation tensor), f16-exact α, and its bits are the bytes on disk; the metadata records the
     * preset. Its down_proj (384 columns) has two groups per row, so the static path is exercised.
     */
    @Test
    void tqExactCheckpointHoldsTq2Layers() {
        Path out = tmp.resolve("tq");
        CliRunner.Run run = CliRunner.run("quantize", "--model", dev.tern.TestData.tinyStories().toString(), "--out", out.toString(),
                "--tq-exact", "--calib", "tinystories", "--nsamples", "4", "--seqlen", "64");
        assertEquals(0, run.code(), run.err());
        TernCheckpoint.Contents c = TernCheckpoint.read(out);
        try (var f = c.file()) {
            String flags = c.metadata().get("tern.flags");
            for (String want : new String[] {"tq-exact=true", "grid=symmetric", "order=static", "group=256"}) {
                assertTrue(flags.contains(want), flags);
            }
            assertEquals(14, c.layers().size());
            boolean multiGroup = false;
            for (var e : c.layers().entrySet()) {
                String p = e.getKey();
                TernaryMatrix t = (TernaryMatrix) e.getValue();
                assertEquals(256, t.groupSize(), p);
                multiGroup |= t.groups() > 1;
                for (float mu : t.mu()) assertEquals(0f, mu, p);
                assertFalse(t.storesMu(), p);
                assertNull(t.perm(), p);
                assertFalse(f.has(p + ".t_mu") || f.has(p + ".perm") || f.has(p + ".perm_groups"), p + " stores μ or a permutation");
                for (float a : t.alpha()) assertTrue(a >= 0 && f16Exact(a), p + " alpha " + a);
                long bytes = 0;
                for (String nm : f.storedNames()) if (nm.startsWith(p + ".")) bytes += f.segment(nm).byteSize();
                assertEquals(8 * bytes, t.storageBits(), p);
                assertEquals((long) t.rows() * (8L * ((t.cols() + 4) / 5) + 16L * t.groups()), t.storageBits(), p);
            }
            assertTrue(multiGroup, "no layer with two groups per row: the static path was not exercised");
            // Natural order: the checkpoint's Ŵ of a multi-group layer is α[row, j/256] · t[row, j] column by column.
            QuantizedMatrix down = c.layers().get("model.layers.0.mlp.down_proj");
            float[] deq = down.dequantize();
            TernaryMatrix td = (TernaryMatrix) down;
            for (int r = 0; r < td.rows(); r++) {
                for (int j = 0; j < td.cols(); j++) {
                    assertEquals(td.alpha()[r * td.groups() + j / 256] * td.codes()[r * td.cols() + j], deq[r * td.cols() + j]);
                }
            }
        }
        assertTrue(run.out().contains("tq-exact=true"), run.out());
    }

    /** The preset refuses flags that contradict it, in one line; its own flags spelled out are accepted. */
    @Test
    void tqExactRefusesContradictoryFlags() {
        String model = dev.tern.TestData.tinyStories().toString();
        String[][] bad = {
            {"--group", "128"}, {"--grid", "asymmetric"}, {"--order", "ssr"}, {"--method", "gptq"}, {"--order", "none"},
            {"--propagation", "block"},
        };
        for (String[] extra : bad) {
            List<String> args = new ArrayList<>(List.of("quantize", "--model", model, "--out", tmp.resolve("bad").toString(), "--tq-exact"));
            args.addAll(List.of(extra));
            CliRunner.Run r = CliRunner.run(args.toArray(String[]::new));
            assertEquals(2, r.code(), args + " -> " + r.err());
            String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
            assertTrue(last.startsWith("tern: ") && last.contains("--tq-exact") && last.contains(extra[0]), last);
        }
        // The library refuses a tq-exact marker on other settings too.
        org.junit.jupiter.api.Assertions.assertThrows(dev.tern.TernException.class,
                () -> QuantMethod.of("pt2", 2, 128, true, true, "static", null, false, 0, 0.01, 2, Gptq.Gram.PLAIN, true, true));
        QuantMethod ok = QuantMethod.of("pt2", 2, 256, true, true, "static", null, false, 0, 0.01, 2, Gptq.Gram.PLAIN, true, true);
        assertTrue(ok.describe().startsWith("pt2 tq-exact=true"), ok.describe());
        // --grid and static orders belong to the ternary ATQ methods.
        org.junit.jupiter.api.Assertions.assertThrows(dev.tern.TernException.class,
                () -> QuantMethod.of("gptq", 2, 128, true, true, null, null, false, 0, 0.01, 2, Gptq.Gram.PLAIN, true, false));
        org.junit.jupiter.api.Assertions.assertThrows(dev.tern.TernException.class,
                () -> QuantMethod.of("gptq", 2, 128, true, true, "static", null, false, 0, 0.01, 2, Gptq.Gram.PLAIN, false, false));
    }
}
