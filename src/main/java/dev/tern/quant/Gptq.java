package dev.tern.quant;

import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernaryMatrix;
import dev.tern.format.TritPlaneMatrix;
import dev.tern.format.UniformMatrix;
import dev.tern.util.Parallel;
import java.util.Arrays;
import java.util.Random;

/**
 * The GPTQ driver of METHOD §2: blocks of columns (= groups) chosen by a column order (SSR by default), each quantized
 * by a {@link GroupQuantizer}, with the block's error pushed into the remaining columns through G = (H_RR)⁻¹, which is
 * kept exact for the remaining set R by Schur downdates so the order can be decided on the fly.
 *
 * <p>Working storage: W and G are kept compacted over the remaining columns (in "R order"), so every update is a
 * contiguous row loop; after each block the surviving entries are compacted in place. Apart from the caller's H the
 * only m x m array is G.
 */
public final class Gptq {
    private Gptq() {}

    /** How the columns are grouped into blocks. */
    public enum Order {
        /** Structural Similarity-based Reordering: next block = top-k cosine similarity to the remaining mean column. */
        SSR,
        /** Natural column order. */
        NONE,
        /** GPTQ act-order: descending diag(H) (ties: lower index first). */
        ACT_ORDER,
        /** A seeded random permutation (java.util.Random(seed), Fisher-Yates). */
        RANDOM,
        /**
         * GPTQ's static groups, visited in SSR order: the groups are runs of blockSize columns in natural order, their
         * grids fitted on the layer's weights before the column pass; the pass visits the columns in blocks chosen by
         * SSR, quantizing each column with its own group's grid; codes are stored in natural order (no permutation).
         * The refits run after the pass, on the whole row. With one group per row this is SSR (order inside a group
         * is free).
         */
        STATIC,
        /** As {@link #STATIC}, with the column pass in act-order (descending diag H). */
        STATIC_ACT_ORDER;

        /** True for the static-group orders, whose stored codes keep the natural column order. */
        public boolean isStatic() {
            return this == STATIC || this == STATIC_ACT_ORDER;
        }
    }

    /** The matrix AGA fits the grid to. */
    public enum Gram {
        /** The Gram matrix of the calibration inputs, as METHOD §2 states. */
        PLAIN,
        /** GPTQ's damped Hessian H + λ·mean(diag)·I with dead inputs set to 1 (ablation). */
        DAMPED
    }

    /** How the error feedback is applied inside a block. */
    public enum Propagation {
        /** Quantize the whole block at once, then compensate the remaining columns (METHOD default). */
        BLOCK,
        /**
         * GPTQ's standard inner loop: parameters fitted on the block at block start, then column by column with error
         * propagation to the rest of the block; the remaining columns receive the same total compensation.
         */
        COLUMN
    }

    /**
     * Driver options. errorFeedback = false quantizes the blocks independently (the "without GPTQ" baselines); then h may
     * be null for data-free quantizers.
     */
    public record Options(int blockSize, double damp, Order order, long seed, Propagation propagation,
            boolean errorFeedback, int refits, Gram gram) {
        /** Refits per block in column mode: grid + AGA on the final trits, re-rounding between two refits. */
        public static final int DEFAULT_REFITS = 2;

        public Options {
            if (blockSize <= 0) throw new IllegalArgumentException("blockSize " + blockSize);
            if (!(damp >= 0)) throw new IllegalArgumentException("damp " + damp);
            if (refits < 0) throw new IllegalArgumentException("refits " + refits);
        }

        /** What `quantize --method pt2` ships: SSR, column-by-column feedback with refits, λ = 0.01, group 128. */
        public static Options defaults() {
            return new Options(128, 0.01, Order.SSR, 0, Propagation.COLUMN, true, DEFAULT_REFITS, Gram.PLAIN);
        }

        /** The paper's uniform baseline: standard GPTQ, natural order, column-by-column, group 128. */
        public static Options uniformBaseline() {
            return new Options(128, 0.01, Order.NONE, 0, Propagation.COLUMN, true, DEFAULT_REFITS, Gram.PLAIN);
        }

        public Options withOrder(Order o) {
            return new Options(blockSize, damp, o, seed, propagation, errorFeedback, refits, gram);
        }

        public Options withSeed(long s) {
            return new Options(blockSize, damp, order, s, propagation, errorFeedback, refits, gram);
        }

        public Options withPropagation(Propagation p) {
            return new Options(blockSize, damp, order, seed, p, errorFeedback, refits, gram);
        }

        public Options withBlockSize(int b) {
            return new Options(b, damp, order, seed, propagation, errorFeedback, refits, gram);
        }

        public Options withDamp(double d) {
            return new Options(blockSize, d, order, seed, propagation, errorFeedback, refits, gram);
        }

        public Options withErrorFeedback(boolean f) {
            return new Options(blockSize, damp, order, seed, propagation, f, refits, gram);
        }

        public Options withGram(Gram g) {
            return new Options(blockSize, damp, order, seed, propagation, errorFeedback, refits, g);
        }

        public Options withRefits(int n) {
            return new Options(blockSize, damp, order, seed, propagation, errorFeedback, n, gram);
        }
    }

    /**
     * Quantizes W (n x m row-major, not modified) with the Hessian h (m x m row-major, not modified; may be null only
     * when errorFeedback is off and the quantizer is data-free).
     */
    public static QuantizedLayer quantize(float[] w, int n, int m, double[] h, GroupQuantizer q, Options o) {
        if (w.length != n * m) throw new IllegalArgumentException("W length " + w.length + " != " + n + "x" + m);
        if (h == null && (o.errorFeedback() || q.usesGram())) throw new IllegalArgumentException("H required");
        if (h != null && h.length != m * m) throw new IllegalArgumentException("H length " + h.length);
        return new Run(w, n, m, h, q, o).run();
    }

    /** Initial column order for the fixed orders (SSR starts from the identity). */
    static int[] initialOrder(Order order, int m, double[] h, long seed) {
        int[] p = new int[m];
        for (int j = 0; j < m; j++) p[j] = j;
        switch (order) {
            case SSR, NONE, STATIC -> {}
            case ACT_ORDER, STATIC_ACT_ORDER -> {
                double[] d = new double[m];
                for (int j = 0; j < m; j++) d[j] = h[j * m + j] == 0 ? 1 : h[j * m + j];
                Integer[] idx = new Integer[m];
                for (int j = 0; j < m; j++) idx[j] = j;
                Arrays.sort(idx, (a, b) -> d[a] != d[b] ? Double.compare(d[b], d[a]) : Integer.compare(a, b));
                for (int j = 0; j < m; j++) p[j] = idx[j];
            }
            case RANDOM -> {
                Random rnd = new Random(seed);
                for (int j = m - 1; j > 0; j--) {
                    int s = rnd.nextInt(j + 1);
                    int tmp = p[j];
                    p[j] = p[s];
                    p[s] = tmp;
                }
            }
        }
        return p;
    }

    private static final class Run {
        final float[] w0;
        final int n, m, bs;
        final double[] h;
        final GroupQuantizer q;
        final Options o;
        final boolean[] dead;
        final double dampAdd;

        long itfSteps, itfFits;
        int itfMax;
        int r; // remaining columns
        int[] rem; // original index of each remaining column, in R order
        float[] wr; // n x r, current (error-updated) weights
        double[] g; // r x r, (H_RR)^-1

        Run(float[] w, int n, int m, double[] h, GroupQuantizer q, Options o) {
            this.w0 = w;
            this.n = n;
            this.m = m;
            this.h = h;
            this.q = q;
            this.o = o;
            this.bs = o.blockSize();
            this.dead = new boolean[m];
            double diagSum = 0;
            if (h != null) {
                for (int j = 0; j < m; j++) {
                    double d = h[j * m + j];
                    dead[j] = d == 0;
                    diagSum += dead[j] ? 1 : d;
                }
            }
            this.dampAdd = o.damp() * diagSum / m;
        }

        /** Damped H with dead inputs fixed, as GPTQ prepares it. */
        double hAt(int a, int b) {
            double v = h[a * m + b];
            if (a == b) v = (dead[a] ? 1 : v) + dampAdd;
            return v;
        }

        /** The remaining weights' columns at positions pos (k of them), row-major n x k. */
        float[] blockWeights(int[] pos, int k) {
            float[] wb = new float[n * k];
            Parallel.forRange(n, 64, (from, to) -> {
                for (int i = from; i < to; i++) {
                    for (int t = 0; t < k; t++) wb[i * k + t] = wr[i * r + pos[t]];
                }
            });
            return wb;
        }

        /** Cholesky factor of the block's part G_BB of the remaining inverse Hessian. */
        double[] blockCholesky(int[] pos, int k) {
            double[] gbb = new double[k * k];
            for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) gbb[a * k + b] = g[pos[a] * r + pos[b]];
            return SmallLinalg.cholesky(gbb, k);
        }

        /** SSR chooses the next block on the fly (SSR and static groups visited in SSR order). */
        boolean ssrVisit() {
            return o.order() == Order.SSR || o.order() == Order.STATIC;
        }

        QuantizedLayer run() {
            rem = initialOrder(o.order(), m, h, o.seed());
            r = m;
            wr = new float[n * m];
            Parallel.forRange(n, 16, (from, to) -> {
                for (int i = from; i < to; i++) {
                    for (int c = 0; c < m; c++) {
                        int j = rem[c];
                        wr[i * m + c] = dead[j] ? 0f : w0[i * m + j];
                    }
                }
            });
            if (o.errorFeedback()) {
                g = new double[m * m];
                Parallel.forRange(m, 16, (from, to) -> {
                    for (int a = from; a < to; a++) {
                        for (int b = 0; b < m; b++) g[a * m + b] = hAt(rem[a], rem[b]);
                    }
                });
                SpdInverse.invertInPlace(g, m, bs);
            }

            int groups = (m + bs - 1) / bs;
            if (o.order().isStatic() && groups > 1) {
                if (!(q instanceof AtqQuantizer aq) || !o.errorFeedback() || o.propagation() != Propagation.COLUMN) {
                    throw new IllegalArgumentException("static groups need the ternary ATQ quantizer with column-wise error feedback");
                }
                return runStatic(aq, groups);
            }
            boolean two = q.format() == QuantFormat.TRITPLANE;
            byte[] codes = new byte[n * m], codes2 = two ? new byte[n * m] : null;
            float[] p1 = new float[n * groups], p2 = new float[n * groups];
            float[] deq = new float[n * m];
            int[] perm = new int[m];
            int done = 0;
            while (r > 0) {
                int k = Math.min(bs, r);
                int[] pos = ssrVisit() ? ssrSelect(k) : firstK(k);
                int[] orig = new int[k];
                for (int t = 0; t < k; t++) orig[t] = rem[pos[t]];
                float[] wb = blockWeights(pos, k);
                double[] s = null;
                if (q.usesGram()) {
                    // AGA fits the layer's outputs on the calibration inputs: the plain Gram matrix, no ridge (METHOD §2).
                    s = new double[k * k];
                    for (int a = 0; a < k; a++) {
                        for (int b = 0; b < k; b++) s[a * k + b] = o.gram() == Gram.DAMPED ? hAt(orig[a], orig[b]) : h[orig[a] * m + orig[b]];
                    }
                }
                double[] lbb = null;
                if (o.errorFeedback()) {
                    lbb = blockCholesky(pos, k);
                }
                QuantizedBlock qb = q.quantize(wb, n, k, s);
                if (o.errorFeedback() && o.propagation() == Propagation.COLUMN) {
                    columnPass(qb, wb, lbb, n, k);
                    // The pass re-chose the trits under a grid fitted before it; removeBlock compensates exactly for
                    // whatever Ŵ_B is, so fit the grid again to the trits that ship (and re-round against the new grid).
                    // The exact cost of Ŵ_B once the later columns are compensated is E_B (G_BB)⁻¹ E_Bᵀ per row.
                    double[] cost = o.refits() > 0 ? SmallLinalg.inverseFromCholesky(lbb, k) : null;
                    for (int round = 0; round < o.refits(); round++) {
                        boolean moved = q.refit(qb, wb, s);
                        moved |= q.refine(qb, wb, cost);
                        if (!moved) break;
                    }
                }
                if (qb.itfSteps() != null) {
                    for (int v : qb.itfSteps()) {
                        itfSteps += v;
                        itfMax = Math.max(itfMax, v);
                    }
                    itfFits += n;
                }

                final int d0 = done, grp = done / bs;
                for (int t = 0; t < k; t++) perm[d0 + t] = orig[t];
                Parallel.forRange(n, 64, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        System.arraycopy(qb.codes(), i * k, codes, i * m + d0, k);
                        if (two) System.arraycopy(qb.codes2(), i * k, codes2, i * m + d0, k);
                        p1[i * groups + grp] = qb.p1()[i];
                        p2[i * groups + grp] = qb.p2()[i];
                        for (int t = 0; t < k; t++) deq[i * m + orig[t]] = qb.deq()[i * k + t];
                    }
                });
                removeBlock(pos, k, wb, qb.deq(), lbb);
                done += k;
            }

            boolean identity = true;
            for (int j = 0; j < m; j++) identity &= perm[j] == j;
            if (!identity && groups == 1) {
                // One group per row: every column shares the row's parameters, so the order inside the group cannot
                // change Ŵ. Store the codes in original order and no permutation.
                unpermute(codes, perm);
                if (two) unpermute(codes2, perm);
                identity = true;
            }
            if (!identity) canonicalize(codes, codes2, perm);
            int[] sp = identity ? null : perm;
            QuantizedMatrix qm = switch (q.format()) {
                case TERNARY -> new TernaryMatrix(n, m, bs, codes, p1, p2, sp);
                case TRITPLANE -> new TritPlaneMatrix(n, m, bs, codes, codes2, p1, p2, sp);
                case UNIFORM -> new UniformMatrix(n, m, bs, q.bits(), codes, p1, p2, sp);
            };
            return new QuantizedLayer(qm, deq, itfFits == 0 ? 0 : (double) itfSteps / itfFits, itfMax);
        }

        /**
         * Static groups (GPTQ's static_groups, for rows of more than one group): each natural run of bs columns gets
         * its grid from the quantizer on the layer's weights (dead inputs zeroed) and its Gram block before any error
         * feedback; the column pass then visits the columns in SSR or act order, block by block with the usual exact
         * compensation, quantizing each column with its own group's grid. The codes stay in natural order, so no
         * permutation is stored. The refits run once the pass is done, against the whole row's cost
         * (W − Ŵ) H (W − Ŵ)ᵀ: the grid of every group of a row refitted jointly (ITF's grid step per group, then AGA
         * over all the row's groups at once with the Gram matrix), then coordinate descent on the trits under the
         * damped Hessian.
         */
        QuantizedLayer runStatic(AtqQuantizer aq, int groups) {
            // The refits' target: W with dead inputs zeroed (W itself when there are none, so no copy of the layer).
            boolean anyDead = false;
            for (boolean d : dead) anyDead |= d;
            float[] wz = w0;
            if (anyDead) {
                wz = new float[n * m];
                for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) wz[i * m + j] = dead[j] ? 0f : w0[i * m + j];
            }
            QuantizedBlock[] grid = new QuantizedBlock[groups];
            for (int gi = 0; gi < groups; gi++) {
                int c0 = gi * bs, kg = Math.min(bs, m - c0);
                float[] wg = new float[n * kg];
                for (int i = 0; i < n; i++) System.arraycopy(wz, i * m + c0, wg, i * kg, kg);
                double[] s = q.usesGram() ? gramBlock(c0, kg) : null;
                grid[gi] = q.quantize(wg, n, kg, s);
                if (grid[gi].itfSteps() != null) {
                    for (int v : grid[gi].itfSteps()) {
                        itfSteps += v;
                        itfMax = Math.max(itfMax, v);
                    }
                    itfFits += n;
                }
            }
            while (r > 0) {
                int k = Math.min(bs, r);
                int[] pos = ssrVisit() ? ssrSelect(k) : firstK(k);
                int[] orig = new int[k];
                for (int t = 0; t < k; t++) orig[t] = rem[pos[t]];
                float[] wb = blockWeights(pos, k);
                double[] lbb = blockCholesky(pos, k);
                float[] deqB = staticColumnPass(aq, grid, wb, lbb, orig, k);
                removeBlock(pos, k, wb, deqB, lbb);
            }
            byte[] codes = new byte[n * m];
            float[] alpha = new float[n * groups], mu = new float[n * groups];
            for (int gi = 0; gi < groups; gi++) {
                int c0 = gi * bs, kg = Math.min(bs, m - c0);
                for (int i = 0; i < n; i++) {
                    System.arraycopy(grid[gi].codes(), i * kg, codes, i * m + c0, kg);
                    alpha[i * groups + gi] = grid[gi].p1()[i];
                    mu[i * groups + gi] = grid[gi].p2()[i];
                }
                grid[gi] = null;
            }
            wr = null;
            g = null;
            if (o.refits() > 0 && (aq.itf() || aq.aga())) {
                // H itself with its diagonal replaced where needed (no m x m copy): the damped Hessian for the descent,
                // the plain Gram (or, as an ablation, the damped Hessian) for AGA.
                double[] damped = new double[m];
                for (int j = 0; j < m; j++) damped[j] = hAt(j, j);
                double[] agaDiag = o.gram() == Gram.DAMPED ? damped : null;
                for (int round = 0; round < o.refits(); round++) {
                    boolean moved = StaticRefit.grid(wz, n, m, bs, codes, alpha, mu, aq.aga() ? h : null, agaDiag, aq.itf(),
                            aq.symmetric());
                    moved |= StaticRefit.descend(wz, n, m, bs, codes, alpha, mu, h, damped);
                    if (!moved) break;
                }
            }
            float[] deq = new float[n * m];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    int p = i * groups + j / bs;
                    deq[i * m + j] = alpha[p] * codes[i * m + j] + mu[p];
                }
            }
            TernaryMatrix tm = new TernaryMatrix(n, m, bs, codes, alpha, mu, null);
            return new QuantizedLayer(tm, deq, itfFits == 0 ? 0 : (double) itfSteps / itfFits, itfMax);
        }

        /** The matrix AGA fits to, on columns [c0, c0 + k) in natural order: the plain Gram or the damped Hessian. */
        double[] gramBlock(int c0, int k) {
            double[] s = new double[k * k];
            for (int a = 0; a < k; a++) {
                for (int b = 0; b < k; b++) s[a * k + b] = o.gram() == Gram.DAMPED ? hAt(c0 + a, c0 + b) : h[(c0 + a) * m + c0 + b];
            }
            return s;
        }

        /**
         * GPTQ's inner loop over one visited block with static grids: column t (original column orig[t]) is quantized
         * with its group's grid, writing its code into that group's block in natural position. Returns Ŵ_B.
         */
        float[] staticColumnPass(AtqQuantizer aq, QuantizedBlock[] grid, float[] wb, double[] l, int[] orig, int k) {
            float[] u = new float[k * k];
            for (int j = 0; j < k; j++) for (int c = j; c < k; c++) u[j * k + c] = (float) l[c * k + j];
            float[] deqB = new float[n * k];
            Parallel.forRange(n, 16, (from, to) -> {
                float[] row = new float[k];
                for (int i = from; i < to; i++) {
                    System.arraycopy(wb, i * k, row, 0, k);
                    for (int j = 0; j < k; j++) {
                        int gi = orig[j] / bs;
                        float qv = aq.requantize(grid[gi], i, orig[j] - gi * bs, row[j]);
                        deqB[i * k + j] = qv;
                        float err = (row[j] - qv) / u[j * k + j];
                        int uj = j * k;
                        for (int c = j + 1; c < k; c++) row[c] -= err * u[uj + c];
                    }
                }
            });
            return deqB;
        }

        /**
         * Sorts each group's stored columns by original index (codes moved with them): the same Ŵ, and a permutation
         * the checkpoint can store as one group label per column.
         */
        void canonicalize(byte[] c1, byte[] c2, int[] p) {
            int[] old = p.clone();
            for (int g0 = 0; g0 < m; g0 += bs) Arrays.sort(p, g0, Math.min(m, g0 + bs));
            int[] src = new int[m]; // stored position before sorting of the column now stored at j
            int[] posOf = new int[m];
            for (int j = 0; j < m; j++) posOf[old[j]] = j;
            for (int j = 0; j < m; j++) src[j] = posOf[p[j]];
            for (byte[] c : c2 == null ? new byte[][] {c1} : new byte[][] {c1, c2}) {
                Parallel.forRange(n, 64, (from, to) -> {
                    byte[] row = new byte[m];
                    for (int i = from; i < to; i++) {
                        System.arraycopy(c, i * m, row, 0, m);
                        for (int j = 0; j < m; j++) c[i * m + j] = row[src[j]];
                    }
                });
            }
        }

        void unpermute(byte[] c, int[] p) {
            Parallel.forRange(n, 64, (from, to) -> {
                byte[] row = new byte[m];
                for (int i = from; i < to; i++) {
                    System.arraycopy(c, i * m, row, 0, m);
                    for (int j = 0; j < m; j++) c[i * m + p[j]] = row[j];
                }
            });
        }

        int[] firstK(int k) {
            int[] p = new int[k];
            for (int t = 0; t < k; t++) p[t] = t;
            return p;
        }

        /**
         * SSR: cosine similarity of every remaining column with the mean remaining column, top k (ties: lower original
         * index, which is also lower R position because SSR keeps R in ascending original order). O(n·r).
         */
        int[] ssrSelect(int k) {
            double[] mean = new double[n];
            Parallel.forRange(n, 64, (from, to) -> {
                for (int i = from; i < to; i++) {
                    double sum = 0;
                    for (int c = 0; c < r; c++) sum += wr[i * r + c];
                    mean[i] = sum / r;
                }
            });
            double mn = 0;
            for (int i = 0; i < n; i++) mn += mean[i] * mean[i];
            double meanNorm = Math.sqrt(mn);
            double[] dot = new double[r], sq = new double[r];
            // Parallel over column slabs so each column's sums run in row order on one thread: deterministic.
            Parallel.forRange(r, 256, (from, to) -> {
                for (int i = 0; i < n; i++) {
                    double mi = mean[i];
                    int base = i * r;
                    for (int c = from; c < to; c++) {
                        double v = wr[base + c];
                        dot[c] += v * mi;
                        sq[c] += v * v;
                    }
                }
            });
            double[] score = new double[r];
            for (int c = 0; c < r; c++) {
                double den = Math.sqrt(sq[c]) * meanNorm;
                score[c] = den > 0 ? dot[c] / den : 0;
            }
            Integer[] idx = new Integer[r];
            for (int c = 0; c < r; c++) idx[c] = c;
            Arrays.sort(idx, (a, b) -> score[a] != score[b] ? Double.compare(score[b], score[a])
                    : Integer.compare(rem[a], rem[b]));
            int[] p = new int[k];
            for (int t = 0; t < k; t++) p[t] = idx[t];
            return p;
        }

        /**
         * GPTQ's inner loop on the block with U = Lᵀ, the upper Cholesky factor of G_BB (so U_jj = L_jj and
         * U_jl = L_lj): quantize column j with the block-start parameters, then push (w_j − q_j)/U_jj into columns l > j.
         */
        void columnPass(QuantizedBlock qb, float[] wb, double[] l, int n, int k) {
            float[] u = new float[k * k]; // U = Lᵀ, row-contiguous so the inner update is a plain axpy
            for (int j = 0; j < k; j++) for (int c = j; c < k; c++) u[j * k + c] = (float) l[c * k + j];
            Parallel.forRange(n, 16, (from, to) -> {
                float[] row = new float[k];
                for (int i = from; i < to; i++) {
                    System.arraycopy(wb, i * k, row, 0, k);
                    for (int j = 0; j < k; j++) {
                        float qv = q.requantize(qb, i, j, row[j]);
                        float err = (row[j] - qv) / u[j * k + j];
                        int uj = j * k;
                        for (int c = j + 1; c < k; c++) row[c] -= err * u[uj + c];
                    }
                }
            });
        }

        /**
         * Drops block B from R: with E_B = W_B(start) − Ŵ_B and M = (G_BB)⁻¹ G_BF,
         * W_F −= E_B M and G_FF −= G_FB M, then compacts W and G to the surviving columns.
         */
        void removeBlock(int[] pos, int k, float[] wb, float[] deqB, double[] lbb) {
            int f = r - k;
            boolean[] inB = new boolean[r];
            for (int t = 0; t < k; t++) inB[pos[t]] = true;
            int[] fp = new int[f];
            for (int c = 0, x = 0; c < r; c++) if (!inB[c]) fp[x++] = c;
            final int rr = r;
            boolean feedback = o.errorFeedback() && f > 0;
            if (feedback) {
                double[] gbf = new double[k * f];
                for (int t = 0; t < k; t++) {
                    int base = pos[t] * rr;
                    for (int c = 0; c < f; c++) gbf[t * f + c] = g[base + fp[c]];
                }
                double[] mm = gbf.clone();
                SmallLinalg.solveParallel(lbb, k, mm, f);

                float[] negE = new float[n * k];
                for (int i = 0; i < n * k; i++) negE[i] = deqB[i] - wb[i];
                float[] pf = RankUpdate.packFloat(mm, 0, f, k, f);
                int[] wOff = new int[n];
                for (int i = 0; i < n; i++) wOff[i] = i * rr;
                Parallel.forRange(n, 8, (from, to) -> {
                    for (int i = from; i < to; i++) compactRow(wr, i * rr, fp, f);
                    RankUpdate.updateFloat(wr, wOff, negE, k, pf, f, from, to);
                });

                double[] negGfb = new double[f * k];
                for (int t = 0; t < k; t++) for (int c = 0; c < f; c++) negGfb[c * k + t] = -gbf[t * f + c];
                double[] pd = RankUpdate.pack(mm, 0, f, k, f);
                int[] gOff = new int[f];
                for (int c = 0; c < f; c++) gOff[c] = fp[c] * rr;
                Parallel.forRange(f, 8, (from, to) -> {
                    for (int c = from; c < to; c++) compactRow(g, gOff[c], fp, f);
                    RankUpdate.update(g, gOff, negGfb, 0, k, pd, f, 0, from, to);
                });
                // Row moves go to lower addresses in ascending order, so no row is overwritten before it is moved.
                for (int c = 0; c < f; c++) System.arraycopy(g, gOff[c], g, c * f, f);
            } else {
                Parallel.forRange(n, 8, (from, to) -> {
                    for (int i = from; i < to; i++) compactRow(wr, i * rr, fp, f);
                });
            }
            for (int i = 1; i < n; i++) System.arraycopy(wr, i * rr, wr, i * f, f);
            int[] nrem = new int[f];
            for (int c = 0; c < f; c++) nrem[c] = rem[fp[c]];
            rem = nrem;
            r = f;
        }

        private static void compactRow(float[] a, int off, int[] fp, int f) {
            for (int c = 0; c < f; c++) a[off + c] = a[off + fp[c]];
        }

        private static void compactRow(double[] a, int off, int[] fp, int f) {
            for (int c = 0; c < f; c++) a[off + c] = a[off + fp[c]];
        }
    }
}
