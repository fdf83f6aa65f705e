package dev.tern.kernels;

import dev.tern.format.TernaryMatrix;
import dev.tern.util.Parallel;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Ternary linear layer W[r][perm[j]] = α[r,g]·t[r][j] + μ[r,g], computed without multiplying weights by inputs.
 *
 * <p>Layouts and the trade-off (2 threads, AMD EPYC Zen 4 VM with AVX-512, shared and noisy; ratios from
 * interleaved runs in one process):
 * <ul>
 *   <li>{@link Layout#LUT3} (default for groups of up to 128 columns): 3 trits per 5-bit code, three codes per
 *       16-bit lane, 32 rows per vector; about 1.80 bit codes + f16 α, μ + i32 permutation ≈ 2.06 bit/weight on
 *       TinyLlama shapes. Kernels in {@link Lut3Kernel}: per token a 27-entry table of partial sums per column
 *       triple, looked up for 32 rows by one permute; int16 activations (±255 per group). The fastest layout for
 *       both decode and prefill, by about 2-3x over SLICED for the GEMV: it does a fifth of the vector work per
 *       weight, at 0.17 bit/weight more.
 *   <li>{@link Layout#SLICED}: digit-sliced base 3, 1.625 bit codes ≈ 1.89 bit/weight, the densest; kernels in
 *       {@link SlicedKernel} (masked int16 add/sub; also an exact f32-activation mode, the default when
 *       {@code -Dtern.int8act=false}, and for groups over 128 columns).
 *   <li>{@link Layout#BASE3}: 5 trits per byte per group, per-token lookup tables ({@link Base3Kernel}); fallback
 *       for group sizes the others cannot take; slower than the dense formats for GEMV.
 *   <li>{@link Layout#PLANES2}: nonzero + negative bit-planes, 2.25 bit/weight (over the 2.1-bit budget), masked
 *       f32 add/sub; kept for comparison.
 * </ul>
 *
 * <p>Layers that share an input and a permutation (q/k/v, gate/up) can gather once: call {@link #permute} and
 * {@link #groupSums} on one layer, then {@link #applyPermuted} on each layer for which {@link #sharesInputLayout}.
 */
public final class TernaryLinear implements LinearOp {
    /** Packed code layout. */
    public enum Layout { LUT3, SLICED, BASE3, PLANES2 }

    /**
     * Default activation mode of {@link Layout#SLICED} layers: int8 per-group-quantized activations (fast) unless
     * {@code -Dtern.int8act=false}, which selects the exact f32-activation kernel.
     */
    public static final boolean DEFAULT_INT8 = Boolean.parseBoolean(System.getProperty("tern.int8act", "true"));

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private final int out, in, groupSize, groups;
    private final int[] perm;
    private final Layout layout;
    private final boolean int8;
    private final Base3Kernel base3;
    private final SlicedKernel sliced;
    private final Lut3Kernel lut3;
    // PLANES2 only
    private final TernaryPacking.Planes planes;
    private final short[] alpha, mu;
    private final int wpg;

    /** Default layout: LUT3 (SLICED or BASE3 for group sizes it cannot take, or with f32 activations). */
    public TernaryLinear(TernaryMatrix m) {
        this(m, defaultLayout(m.groupSize()), DEFAULT_INT8);
    }

    public TernaryLinear(TernaryMatrix m, Layout layout) {
        this(m, layout, DEFAULT_INT8);
    }

    /**
     * int8Activations only affects {@link Layout#SLICED}; LUT3 always quantizes activations, BASE3 and PLANES2
     * never do.
     */
    public TernaryLinear(TernaryMatrix m, Layout layout, boolean int8Activations) {
        this.out = m.rows();
        this.in = m.cols();
        this.groupSize = m.groupSize();
        this.groups = m.groups();
        this.perm = m.perm() == null ? null : m.perm().clone();
        this.layout = layout;
        if (layout == Layout.LUT3 && !Lut3Kernel.supports(groupSize)) {
            throw new IllegalArgumentException("LUT3 layout needs a group size of at most 128, got " + groupSize);
        }
        this.int8 = layout == Layout.LUT3 || layout == Layout.SLICED && int8Activations;
        short[] alpha = TernaryPacking.toF16(m.alpha()), mu = TernaryPacking.toF16(m.mu());
        // only PLANES2 reads α, μ here; the other layouts keep their own (possibly reordered) copies
        this.alpha = layout == Layout.PLANES2 ? alpha : null;
        this.mu = layout == Layout.PLANES2 ? mu : null;
        this.wpg = TernaryPacking.planeWordsPerGroup(groupSize);
        Base3Kernel b3 = null;
        SlicedKernel sk = null;
        Lut3Kernel lk = null;
        TernaryPacking.Planes pl = null;
        switch (layout) {
            case LUT3 -> lk = new Lut3Kernel(out, in, groupSize, TernaryPacking.packLut3(m.codes(), out, in, groupSize), alpha, mu);
            case SLICED -> sk = new SlicedKernel(out, in, groupSize,
                    new byte[][] {TernaryPacking.packSliced(m.codes(), out, in)}, new short[][] {alpha}, mu);
            case BASE3 -> b3 = new Base3Kernel(out, in, groupSize,
                    new byte[][] {TernaryPacking.packBase3(m.codes(), out, in, groupSize)}, new short[][] {alpha}, mu);
            case PLANES2 -> pl = TernaryPacking.packPlanes(m.codes(), out, in, groupSize);
        }
        base3 = b3;
        sliced = sk;
        lut3 = lk;
        planes = pl;
    }

    static Layout defaultLayout(int groupSize) {
        if (DEFAULT_INT8 && Lut3Kernel.supports(groupSize)) return Layout.LUT3;
        return SlicedKernel.supports(groupSize) ? Layout.SLICED : Layout.BASE3;
    }

    @Override public int inFeatures() { return in; }
    @Override public int outFeatures() { return out; }
    public int groupSize() { return groupSize; }
    public Layout layout() { return layout; }
    public boolean int8Activations() { return int8; }

    /** True when other's permuted input and group sums are valid for this layer too. */
    public boolean sharesInputLayout(TernaryLinear other) {
        return in == other.in && groupSize == other.groupSize && Arrays.equals(perm, other.perm);
    }

    @Override
    public long weightBytes() {
        long params = switch (layout) {
            case LUT3 -> lut3.residentBytes();
            case SLICED -> sliced.residentBytes();
            case BASE3 -> base3.residentBytes();
            case PLANES2 -> 8L * (planes.nonzero().length + planes.negative().length) + 2L * alpha.length + 2L * mu.length;
        };
        return params + (perm == null ? 0 : 4L * perm.length);
    }

    @Override
    public String format() {
        return switch (layout) {
            case LUT3 -> "ternary-lut3";
            case SLICED -> int8 ? "ternary-sliced" : "ternary-sliced-f";
            case BASE3 -> "ternary-base3";
            case PLANES2 -> "ternary-2bit";
        };
    }

    @Override
    public void apply(float[] x, float[] y, int tokens) {
        float[] xp = permute(x, tokens);
        applyPermuted(xp, groupSums(xp, tokens), y, tokens);
    }

    /** x [tokens][in] gathered into stored column order (x itself when there is no permutation). */
    public float[] permute(float[] x, int tokens) {
        return permute(x, tokens, in, perm);
    }

    /** Per token, per group, the sum of the permuted input over the group's columns: the μ term's multiplier. */
    public float[] groupSums(float[] xPermuted, int tokens) {
        return groupSums(xPermuted, tokens, in, groupSize);
    }

    public void applyPermuted(float[] xPermuted, float[] groupSums, float[] y, int tokens) {
        if (xPermuted.length < (long) tokens * in || y.length < (long) tokens * out) {
            throw new IllegalArgumentException("x/y too short");
        }
        switch (layout) {
            case LUT3 -> lut3.apply(xPermuted, groupSums, y, tokens);
            case SLICED -> sliced.apply(xPermuted, groupSums, y, tokens, int8);
            case BASE3 -> base3.apply(xPermuted, groupSums, y, tokens);
            case PLANES2 -> planesApply(xPermuted, groupSums, y, tokens);
        }
    }

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

    // ---------------------------------------------------------------- PLANES2 kernel

    private void planesApply(float[] xp, float[] gs, float[] y, int tokens) {
        int stride = groups * wpg * 64;
        // zero-padded per group so the vector loads never run past a group (padding bits are 0 in both planes)
        float[] xpad = new float[stride];
        for (int t = 0; t < tokens; t++) {
            Arrays.fill(xpad, 0f);
            for (int g = 0; g < groups; g++) {
                int c0 = g * groupSize, len = Math.min(groupSize, in - c0);
                System.arraycopy(xp, t * in + c0, xpad, g * wpg * 64, len);
            }
            int tt = t;
            Parallel.forRange(out, 64, (r0, r1) -> planesRows(xpad, gs, tt * groups, y, tt * out, r0, r1));
        }
    }

    private void planesRows(float[] xpad, float[] gs, int go, float[] y, int yo, int r0, int r1) {
        long[] nz = planes.nonzero(), ng = planes.negative();
        long laneMask = L == 64 ? -1L : (1L << L) - 1;
        float[] lanes = new float[L];
        for (int r = r0; r < r1; r++) {
            FloatVector yv = FloatVector.zero(S);
            float m = 0f;
            for (int g = 0; g < groups; g++) {
                // separate + and - accumulators per 16-lane quarter: one masked add per chain per step, so the
                // 3-cycle add latency is overlapped instead of serialising add(pos) -> sub(neg) -> next quarter
                FloatVector z = FloatVector.zero(S), p0 = z, p1 = z, n0 = z, n1 = z;
                int w0 = (r * groups + g) * wpg;
                for (int w = 0; w < wpg; w++) {
                    long n = nz[w0 + w], s = ng[w0 + w], p = n & ~s;
                    int xo = (g * wpg + w) * 64;
                    for (int q = 0; q < 64; q += 2 * L) {
                        FloatVector xa = FloatVector.fromArray(S, xpad, xo + q);
                        FloatVector xb = FloatVector.fromArray(S, xpad, xo + q + L);
                        p0 = p0.add(xa, VectorMask.fromLong(S, (p >>> q) & laneMask));
                        n0 = n0.add(xa, VectorMask.fromLong(S, (s >>> q) & laneMask));
                        p1 = p1.add(xb, VectorMask.fromLong(S, (p >>> (q + L)) & laneMask));
                        n1 = n1.add(xb, VectorMask.fromLong(S, (s >>> (q + L)) & laneMask));
                    }
                }
                FloatVector acc = p0.add(p1).sub(n0.add(n1));
                int pi = r * groups + g;
                yv = acc.fma(FloatVector.broadcast(S, Float.float16ToFloat(alpha[pi])), yv);
                m += Float.float16ToFloat(mu[pi]) * gs[go + g];
            }
            // reduceLanes(ADD) may associate differently when JIT-compiled than when interpreted: sum in lane order
            yv.intoArray(lanes, 0);
            float sum = m;
            for (int i = 0; i < L; i++) sum += lanes[i];
            y[yo + r] = sum;
        }
    }
}
