package dev.tern.quant;

import dev.tern.util.Parallel;

/**
 * The refits on the final trits for static groups ({@link Gptq.Order#STATIC}): once GPTQ's column pass is done no
 * later column can compensate, so each row's cost is (w − ŵ) C (w − ŵ)ᵀ on the whole row, and the grid of all its
 * groups is refitted jointly. Codes n x m in natural order, parameters n x groups, group g = columns [g·bs, (g+1)·bs).
 */
final class StaticRefit {
    private StaticRefit() {}

    /**
     * Refits every row's grid for its trits: with itf, ITF's grid step per group (α alone for symmetric, else (α, μ))
     * against w; then, with gram (m x m, null = no AGA), AGA over all the row's groups at once — the least-squares
     * (α_g, μ_g) (μ fixed at 0 when symmetric) of (w − Σ_g α_g t_g − μ_g 1_g) S (…)ᵀ, kept only where the normal
     * equations are positive definite, the result finite and the objective not higher. α ≥ 0 by flipping a group's
     * trits; symmetric α are rounded to f16. diag (may be null) replaces gram's diagonal. Returns whether any
     * parameter changed.
     */
    static boolean grid(float[] w, int n, int m, int bs, byte[] t, float[] alpha, float[] mu, double[] gram, double[] diag,
            boolean itf, boolean symmetric) {
        int groups = (m + bs - 1) / bs;
        boolean[] changed = new boolean[n];
        Parallel.forRange(n, 4, (from, to) -> {
            double[] am = new double[2];
            double[] a = new double[groups], u = new double[groups];
            for (int i = from; i < to; i++) {
                for (int gi = 0; gi < groups; gi++) {
                    a[gi] = alpha[i * groups + gi];
                    u[gi] = mu[i * groups + gi];
                }
                if (itf) {
                    for (int gi = 0; gi < groups; gi++) {
                        int c0 = gi * bs, kg = Math.min(bs, m - c0);
                        am[0] = a[gi];
                        am[1] = u[gi];
                        if (symmetric) Itf.gridSymmetric(w, i * m + c0, kg, t, i * m + c0, am);
                        else Itf.grid(w, i * m + c0, kg, t, i * m + c0, am);
                        a[gi] = am[0];
                        u[gi] = am[1];
                    }
                }
                if (gram != null) alignRow(w, i * m, m, bs, groups, gram, diag, t, a, u, symmetric);
                for (int gi = 0; gi < groups; gi++) {
                    float na = symmetric ? AtqQuantizer.f16(a[gi]) : (float) a[gi], nm = symmetric ? 0f : (float) u[gi];
                    int p = i * groups + gi;
                    if (na != alpha[p] || nm != mu[p]) changed[i] = true;
                    alpha[p] = na;
                    mu[p] = nm;
                }
            }
        });
        for (boolean c : changed) if (c) return true;
        return false;
    }

    /** Joint AGA of one row: parameters are α_g for groups with a non-zero trit, and μ_g unless symmetric. */
    private static void alignRow(float[] w, int off, int m, int bs, int groups, double[] s, double[] diag, byte[] t,
            double[] a, double[] u, boolean symmetric) {
        // Basis vectors: kind 0 = the group's trits, kind 1 = the group's indicator.
        int[] grp = new int[2 * groups], kind = new int[2 * groups];
        int p = 0;
        for (int gi = 0; gi < groups; gi++) {
            int c0 = gi * bs, kg = Math.min(bs, m - c0);
            boolean any = false;
            for (int j = 0; j < kg && !any; j++) any = t[off + c0 + j] != 0;
            if (any) {
                grp[p] = gi;
                kind[p++] = 0;
            }
            if (!symmetric) {
                grp[p] = gi;
                kind[p++] = 1;
            }
        }
        if (p == 0) return;
        // y_q = S b_q (length m), then M_pq = b_p · y_q and r_p = b_p · (S w) = w · y_p.
        double[][] y = new double[p][m];
        for (int q = 0; q < p; q++) {
            int c0 = grp[q] * bs, kg = Math.min(bs, m - c0);
            double[] yq = y[q];
            for (int j = c0; j < c0 + kg; j++) {
                double bj = kind[q] == 0 ? t[off + j] : 1;
                if (bj == 0) continue;
                axpyRow(yq, bj, s, j, m, diag);
            }
        }
        double[] mat = new double[p * p], rhs = new double[p], old = new double[p];
        for (int q = 0; q < p; q++) {
            double r = 0;
            for (int c = 0; c < m; c++) r += w[off + c] * y[q][c];
            rhs[q] = r;
            old[q] = kind[q] == 0 ? a[grp[q]] : u[grp[q]];
            for (int x = 0; x < p; x++) {
                int c0 = grp[x] * bs, kg = Math.min(bs, m - c0);
                double v = 0;
                for (int j = c0; j < c0 + kg; j++) v += (kind[x] == 0 ? t[off + j] : 1) * y[q][j];
                mat[x * p + q] = v;
            }
        }
        for (int x = 0; x < p; x++) {
            for (int q = 0; q < x; q++) {
                double v = 0.5 * (mat[x * p + q] + mat[q * p + x]);
                mat[x * p + q] = v;
                mat[q * p + x] = v;
            }
        }
        double[] theta;
        try {
            double[] l = SmallLinalg.cholesky(mat, p);
            for (int x = 0; x < p; x++) if (!(l[x * p + x] * l[x * p + x] > Aga.SINGULAR_REL * mat[x * p + x])) return;
            theta = rhs.clone();
            SmallLinalg.solveInPlace(l, p, theta, 1, 0, 1);
        } catch (ArithmeticException e) {
            return;
        }
        for (double v : theta) if (!Double.isFinite(v)) return;
        if (!(objective(mat, rhs, theta, p) <= objective(mat, rhs, old, p))) return;
        for (int q = 0; q < p; q++) {
            int gi = grp[q];
            if (kind[q] == 1) {
                u[gi] = theta[q];
                continue;
            }
            double na = theta[q];
            if (na < 0) {
                na = -na;
                int c0 = gi * bs, kg = Math.min(bs, m - c0);
                for (int j = c0; j < c0 + kg; j++) t[off + j] = (byte) -t[off + j];
            }
            a[gi] = na;
        }
    }

    /** y += f · row j of S, with S's diagonal entry replaced by diag[j] when diag is given (same order of additions). */
    private static void axpyRow(double[] y, double f, double[] s, int j, int m, double[] diag) {
        int row = j * m;
        if (diag == null) {
            for (int c = 0; c < m; c++) y[c] += f * s[row + c];
            return;
        }
        for (int c = 0; c < j; c++) y[c] += f * s[row + c];
        y[j] += f * diag[j];
        for (int c = j + 1; c < m; c++) y[c] += f * s[row + c];
    }

    /** θᵀ M θ − 2 rᵀ θ: the objective minus its constant w S wᵀ. */
    private static double objective(double[] mat, double[] rhs, double[] th, int p) {
        double f = 0;
        for (int x = 0; x < p; x++) {
            double v = 0;
            for (int q = 0; q < p; q++) v += mat[x * p + q] * th[q];
            f += th[x] * v - 2 * rhs[x] * th[x];
        }
        return f;
    }

    /**
     * Exact coordinate descent on each row's trits against (w − ŵ) C (w − ŵ)ᵀ over the whole row (C m x m), the
     * parameters held: each trit in turn takes the value that lowers the objective most, sweeping until none moves
     * (cap {@link AtqQuantizer#MAX_SWEEPS}). Never increases the objective. C is h with its diagonal replaced by
     * diag. Returns whether any trit changed.
     */
    static boolean descend(float[] w, int n, int m, int bs, byte[] t, float[] alpha, float[] mu, double[] h, double[] diag) {
        int groups = (m + bs - 1) / bs;
        boolean[] changed = new boolean[n];
        Parallel.forRange(n, 4, (from, to) -> {
            double[] g = new double[m];
            for (int i = from; i < to; i++) {
                int off = i * m;
                java.util.Arrays.fill(g, 0);
                for (int j = 0; j < m; j++) {
                    int p = i * groups + j / bs;
                    double e = w[off + j] - ((double) alpha[p] * t[off + j] + mu[p]);
                    axpyRow(g, e, h, j, m, diag);
                }
                for (int sweep = 0; sweep < AtqQuantizer.MAX_SWEEPS; sweep++) {
                    boolean moved = false;
                    for (int j = 0; j < m; j++) {
                        double a = alpha[i * groups + j / bs];
                        if (!(a > 0)) continue;
                        int cur = t[off + j];
                        double cjj = diag[j];
                        int best = cur;
                        double bestGain = 0;
                        for (int cand = -1; cand <= 1; cand++) {
                            if (cand == cur) continue;
                            double de = -a * (cand - cur);
                            double gain = 2 * de * g[j] + de * de * cjj;
                            if (gain < bestGain - 1e-12 * Math.abs(cjj) * a * a) {
                                bestGain = gain;
                                best = cand;
                            }
                        }
                        if (best != cur) {
                            double de = -a * (best - cur);
                            t[off + j] = (byte) best;
                            axpyRow(g, de, h, j, m, diag);
                            moved = true;
                        }
                    }
                    if (!moved) break;
                    changed[i] = true;
                }
            }
        });
        for (boolean ch : changed) if (ch) return true;
        return false;
    }
}
