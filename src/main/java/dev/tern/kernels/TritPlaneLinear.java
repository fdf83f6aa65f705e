package dev.tern.kernels;

import dev.tern.format.TritPlaneMatrix;
import java.util.Arrays;

/**
 * Two-trit-plane layer W = α1·t1 + α2·t2 (PTQTP). Default: both planes in the digit-sliced layout ({@link
 * SlicedKernel}, each plane one more masked add/sub pass, its own α per group, no μ); group sizes that are not a
 * multiple of 32 fall back to the 5-trits-per-byte lookup-table kernel ({@link Base3Kernel}).
 */
public final class TritPlaneLinear implements LinearOp {
    private final int out, in, groupSize;
    private final int[] perm;
    private final Base3Kernel lut;
    private final SlicedKernel sliced;
    private final boolean int8;

    public TritPlaneLinear(TritPlaneMatrix m) {
        this(m, TernaryLinear.DEFAULT_INT8);
    }

    /** int8Activations: quantize activations per group to int8 (fast) or keep f32 (exact); sliced layout only. */
    public TritPlaneLinear(TritPlaneMatrix m, boolean int8Activations) {
        this.out = m.rows();
        this.in = m.cols();
        this.groupSize = m.groupSize();
        this.perm = m.perm() == null ? null : m.perm().clone();
        short[][] alphas = {TernaryPacking.toF16(m.alpha1()), TernaryPacking.toF16(m.alpha2())};
        if (SlicedKernel.supports(groupSize)) {
            sliced = new SlicedKernel(out, in, groupSize, new byte[][] {TernaryPacking.packSliced(m.codes1(), out, in),
                TernaryPacking.packSliced(m.codes2(), out, in)}, alphas, null);
            lut = null;
            int8 = int8Activations;
        } else {
            lut = new Base3Kernel(out, in, groupSize, new byte[][] {TernaryPacking.packBase3(m.codes1(), out, in, groupSize),
                TernaryPacking.packBase3(m.codes2(), out, in, groupSize)}, alphas, null);
            sliced = null;
            int8 = false;
        }
    }

    @Override public int inFeatures() { return in; }
    @Override public int outFeatures() { return out; }

    @Override
    public void apply(float[] x, float[] y, int tokens) {
        applyPermuted(permute(x, tokens), y, tokens);
    }

    /** x [tokens][in] gathered into stored column order (x itself when there is no permutation). */
    public float[] permute(float[] x, int tokens) {
        return TernaryLinear.permute(x, tokens, in, perm);
    }

    /** No μ here, so no group sums are needed. */
    public void applyPermuted(float[] xPermuted, float[] y, int tokens) {
        if (xPermuted.length < (long) tokens * in || y.length < (long) tokens * out) {
            throw new IllegalArgumentException("x/y too short");
        }
        if (sliced != null) {
            sliced.apply(xPermuted, null, y, tokens, int8);
        } else {
            lut.apply(xPermuted, null, y, tokens);
        }
    }

    public boolean sharesInputLayout(TritPlaneLinear other) {
        return in == other.in && Arrays.equals(perm, other.perm);
    }

    @Override
    public long weightBytes() {
        return (sliced != null ? sliced.residentBytes() : lut.residentBytes()) + (perm == null ? 0 : 4L * perm.length);
    }

    @Override
    public String format() {
        return sliced == null ? "tritplane-base3" : int8 ? "tritplane-sliced" : "tritplane-sliced-f";
    }
}
