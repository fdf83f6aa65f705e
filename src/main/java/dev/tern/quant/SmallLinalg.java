package dev.tern.quant;

import dev.tern.util.Parallel;

/** Dense Cholesky-based helpers for the small (block-sized) SPD systems of GPTQ and AGA. */
final class SmallLinalg {
    private SmallLinalg() {}

    /**
     * Lower Cholesky factor of the k x k SPD matrix a (row-major), as a new array; upper triangle zero. Throws if the
     * matrix is not numerically positive definite, because silently continuing would poison the error feedback.
     */
    static double[] cholesky(double[] a, int k) {
        double[] l = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * k + j];
                for (int p = 0; p < j; p++) s -= l[i * k + p] * l[j * k + p];
                if (i == j) {
                    if (!(s > 0)) throw new ArithmeticException("matrix not positive definite at pivot " + i + ": " + s);
                    l[i * k + i] = Math.sqrt(s);
                } else {
                    l[i * k + j] = s / l[j * k + j];
                }
            }
        }
        return l;
    }

    /** Inverse of L Lᵀ from its lower factor l (k x k), full symmetric result. */
    static double[] inverseFromCholesky(double[] l, int k) {
        double[] inv = new double[k * k];
        for (int i = 0; i < k; i++) inv[i * k + i] = 1;
        solveInPlace(l, k, inv, k, 0, k);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < i; j++) {
                double s = 0.5 * (inv[i * k + j] + inv[j * k + i]);
                inv[i * k + j] = s;
                inv[j * k + i] = s;
            }
        }
        return inv;
    }

    /** Solves (L Lᵀ) X = B in place for B k x len (row-major, stride len), columns [c0, c1) only. */
    static void solveInPlace(double[] l, int k, double[] b, int len, int c0, int c1) {
        // Row-oriented substitution: every update is an axpy over a contiguous column slab.
        for (int t = 0; t < k; t++) {
            int bt = t * len;
            for (int s = 0; s < t; s++) {
                double f = l[t * k + s];
                if (f == 0) continue;
                int bs = s * len;
                for (int c = c0; c < c1; c++) b[bt + c] -= f * b[bs + c];
            }
            double d = 1.0 / l[t * k + t];
            for (int c = c0; c < c1; c++) b[bt + c] *= d;
        }
        for (int t = k - 1; t >= 0; t--) {
            int bt = t * len;
            for (int s = t + 1; s < k; s++) {
                double f = l[s * k + t];
                if (f == 0) continue;
                int bs = s * len;
                for (int c = c0; c < c1; c++) b[bt + c] -= f * b[bs + c];
            }
            double d = 1.0 / l[t * k + t];
            for (int c = c0; c < c1; c++) b[bt + c] *= d;
        }
    }

    /** Parallel {@link #solveInPlace} over column slabs (each column is solved by exactly one thread). */
    static void solveParallel(double[] l, int k, double[] b, int len) {
        Parallel.forRange(len, 64, (from, to) -> solveInPlace(l, k, b, len, from, to));
    }

    /** out (k x len) = p (k x k) · v (k x len, stride len), parallel over column slabs. */
    static double[] multiply(double[] p, int k, double[] v, int len) {
        double[] out = new double[k * len];
        Parallel.forRange(len, 64, (from, to) -> {
            for (int t = 0; t < k; t++) {
                int ot = t * len;
                for (int s = 0; s < k; s++) {
                    double f = p[t * k + s];
                    int vs = s * len;
                    for (int c = from; c < to; c++) out[ot + c] += f * v[vs + c];
                }
            }
        });
        return out;
    }

    /** Rows per {@link #rowsTimes} call: each loaded vector of S then serves this many rows. */
    static final int ROW_BLOCK = 4;

    private static final jdk.incubator.vector.VectorSpecies<Double> D = jdk.incubator.vector.DoubleVector.SPECIES_PREFERRED;

    /**
     * out[r·k + a] = Σ_c x[xOff + r·k + c] · s[c·k + a] for r &lt; rows (at most {@link #ROW_BLOCK}): a few rows of
     * x times the k × k matrix s, each sum taken in ascending c with a separate multiply and add, so every entry is
     * bit for bit what the one-row loop {@code for c: for a: out[a] += x[c]·s[c·k+a]} gives. The point is the reuse:
     * a k = 128 block's S is 128 KiB of doubles, read from L2 once per call instead of once per row.
     */
    static void rowsTimes(double[] x, int xOff, int rows, double[] s, int k, double[] out) {
        if (rows < 1 || rows > ROW_BLOCK) throw new IllegalArgumentException("rows " + rows);
        int vl = D.length(), a = 0;
        if (rows == ROW_BLOCK) {
            // a chunk of columns of S at a time, summed over c in registers: the order of the one-row loop
            for (; a + vl <= k; a += vl) {
                var z = jdk.incubator.vector.DoubleVector.zero(D);
                var g0 = z;
                var g1 = z;
                var g2 = z;
                var g3 = z;
                for (int c = 0; c < k; c++) {
                    var sv = jdk.incubator.vector.DoubleVector.fromArray(D, s, c * k + a);
                    g0 = g0.add(sv.mul(x[xOff + c]));
                    g1 = g1.add(sv.mul(x[xOff + k + c]));
                    g2 = g2.add(sv.mul(x[xOff + 2 * k + c]));
                    g3 = g3.add(sv.mul(x[xOff + 3 * k + c]));
                }
                g0.intoArray(out, a);
                g1.intoArray(out, k + a);
                g2.intoArray(out, 2 * k + a);
                g3.intoArray(out, 3 * k + a);
            }
        }
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * k, oo = r * k;
            for (int b = a; b < k; b++) out[oo + b] = 0;
            for (int c = 0; c < k; c++) {
                double xc = x[xo + c];
                int sr = c * k;
                for (int b = a; b < k; b++) out[oo + b] += xc * s[sr + b];
            }
        }
    }
}
