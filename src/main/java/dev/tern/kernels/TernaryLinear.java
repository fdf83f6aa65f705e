package dev.tern.kernels;

import dev.tern.format.TernaryMatrix;
import dev.tern.util.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Ternary linear layer W[r][perm[j]] = α[r,g]·t[r][j] + μ[r,g], computed from packed codes by one of the
 * {@link KernelKind kernels}: the input is gathered into stored column order (when the layer has a permutation), the
 * per-group input sums for the μ term are taken, and the kernel does the rest.
 */
public final class TernaryLinear implements LinearOp {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private final int out, in, groupSize;
    private final int[] perm;
    private final boolean hasMu;
    private final KernelKind kind;
    private final TernaryKernel kernel;

    public TernaryLinear(TernaryMatrix m, KernelKind kind) {
        // an all-zero μ (symmetric layers, e.g. from GGUF TQ types) costs neither memory nor the group sums
        this(m, kind, kind.create(m, !allZero(m.mu())));
    }

    /** m's layer over a kernel already packed from it by kind (the kernel probe's, which packs each layer once). */
    TernaryLinear(TernaryMatrix m, KernelKind kind, TernaryKernel kernel) {
        this.out = m.rows();
        this.in = m.cols();
        this.groupSize = m.groupSize();
        this.perm = m.perm() == null ? null : m.perm().clone();
        this.kind = kind;
        this.hasMu = !allZero(m.mu());
        this.kernel = kernel;
    }

    private static boolean allZero(float[] a) {
        for (float v : a) if (v != 0f) return false;
        return true;
    }

    @Override public int inFeatures() { return in; }
    @Override public int outFeatures() { return out; }
    public int groupSize() { return groupSize; }
    public KernelKind kind() { return kind; }

    @Override
    public long weightBytes() {
        return kernel.residentBytes() + (perm == null ? 0 : 4L * perm.length);
    }

    @Override
    public String format() {
        return "ternary-" + kernel.name();
    }

    @Override
    public void apply(float[] x, float[] y, int tokens) {
        if (x.length < (long) tokens * in || y.length < (long) tokens * out) throw new IllegalArgumentException("x/y too short");
        if (kernel.takesOriginalOrder(tokens)) {
            kernel.apply(x, null, y, tokens);
            return;
        }
        float[] xp = permute(x, tokens, in, perm);
        kernel.apply(xp, hasMu && kernel.usesGroupSums(tokens) ? groupSums(xp, tokens, in, groupSize) : null, y, tokens);
    }

    /**
     * One token through layers that share their input, in one parallel pass where all of them run a tiled kernel of
     * the same kind ({@link TiledDecode}); otherwise one after the other.
     */
    static boolean applyFused(LinearOp[] ops, float[] x, float[][] ys) {
        TiledDecode.Kernel[] ks = new TiledDecode.Kernel[ops.length];
        for (int i = 0; i < ops.length; i++) {
            if (!(ops[i] instanceof TernaryLinear t) || !(t.kernel instanceof TiledDecode.Kernel k) || t.in != ((TernaryLinear) ops[0]).in
                    || k.getClass() != ((TernaryLinear) ops[0]).kernel.getClass()) return false;
            ks[i] = k;
        }
        float[][] xp = new float[ops.length][], gs = new float[ops.length][];
        for (int i = 0; i < ops.length; i++) {
            TernaryLinear t = (TernaryLinear) ops[i];
            xp[i] = i > 0 && java.util.Arrays.equals(t.perm, ((TernaryLinear) ops[i - 1]).perm) ? xp[i - 1] : permute(x, 1, t.in, t.perm);
            gs[i] = t.hasMu ? groupSums(xp[i], 1, t.in, t.groupSize) : null;
        }
        TiledDecode.run(ks, xp, gs, ys, 1);
        return true;
    }

    /** x [tokens][in] gathered into stored column order (x itself when there is no permutation). */
    static float[] permute(float[] x, int tokens, int in, int[] perm) {
        if (perm == null) return x;
        float[] xp = new float[tokens * in];
        // tokens in parallel: a 128-token prompt's gather was a tenth of prefill time on one thread
        Parallel.forParts(tokens, Math.min(tokens, Parallel.threads()), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int o = t * in;
                for (int j = 0; j < in; j++) xp[o + j] = x[o + perm[j]];
            }
        });
        return xp;
    }

    /** Per token, per group, the sum of the permuted input over the group's columns: the μ term's multiplier. */
    static float[] groupSums(float[] xp, int tokens, int in, int groupSize) {
        int groups = TernaryPacking.groups(in, groupSize);
        float[] gs = new float[tokens * groups];
        Parallel.forParts(tokens, Math.min(tokens, Parallel.threads()), (t0, t1) -> {
            float[] lanes = new float[L];
            for (int t = t0; t < t1; t++) {
                for (int g = 0; g < groups; g++) {
                    // L partial sums, then added in lane order: a serial double sum took as long as a small GEMV
                    int j = t * in + g * groupSize, e = t * in + Math.min(in, (g + 1) * groupSize);
                    FloatVector v = FloatVector.zero(S);
                    for (; j + L <= e; j += L) v = v.add(FloatVector.fromArray(S, xp, j));
                    v.intoArray(lanes, 0);
                    float sum = 0f;
                    for (int i = 0; i < L; i++) sum += lanes[i];
                    for (; j < e; j++) sum += xp[j];
                    gs[t * groups + g] = sum;
                }
            }
        });
        return gs;
    }
}
