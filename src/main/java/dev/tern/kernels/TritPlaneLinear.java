package dev.tern.kernels;

import dev.tern.format.TritPlaneMatrix;
import java.util.Arrays;

/** Two-trit-plane layer W = α1·t1 + α2·t2 (PTQTP): two base-3 planes summed through one set of lookup tables. */
public final class TritPlaneLinear implements LinearOp {
    private final int out, in, groupSize;
    private final int[] perm;
    private final Base3Kernel kernel;

    public TritPlaneLinear(TritPlaneMatrix m) {
        this.out = m.rows();
        this.in = m.cols();
        this.groupSize = m.groupSize();
        this.perm = m.perm() == null ? null : m.perm().clone();
        byte[] c1 = TernaryPacking.packBase3(m.codes1(), out, in, groupSize);
        byte[] c2 = TernaryPacking.packBase3(m.codes2(), out, in, groupSize);
        kernel = new Base3Kernel(out, in, groupSize, new byte[][] {c1, c2},
                new short[][] {TernaryPacking.toF16(m.alpha1()), TernaryPacking.toF16(m.alpha2())}, null);
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
        kernel.apply(xPermuted, null, y, tokens);
    }

    public boolean sharesInputLayout(TritPlaneLinear other) {
        return in == other.in && Arrays.equals(perm, other.perm);
    }

    @Override
    public long weightBytes() {
        return kernel.residentBytes() + (perm == null ? 0 : 4L * perm.length);
    }

    @Override
    public String format() {
        return "tritplane-base3";
    }
}
