package dev.tern.kernels;

import dev.tern.format.TernaryMatrix;
import dev.tern.format.TritPlaneMatrix;

/**
 * Two-trit-plane layer W = α1·t1 + α2·t2 (PTQTP): each plane is a ternary layer without μ, run by the same
 * {@link KernelKind kernel}, and the two outputs are added.
 */
public final class TritPlaneLinear implements LinearOp {
    private final int out, in;
    private final int[] perm;
    private final TernaryKernel plane1, plane2;

    public TritPlaneLinear(TritPlaneMatrix m, KernelKind kind) {
        this.out = m.rows();
        this.in = m.cols();
        this.perm = m.perm() == null ? null : m.perm().clone();
        float[] noMu = new float[m.alpha1().length];
        // the planes run on stored-order input, gathered once here for both
        plane1 = kind.create(new TernaryMatrix(out, in, m.groupSize(), m.codes1(), m.alpha1(), noMu, null), false);
        plane2 = kind.create(new TernaryMatrix(out, in, m.groupSize(), m.codes2(), m.alpha2(), noMu, null), false);
    }

    @Override public int inFeatures() { return in; }
    @Override public int outFeatures() { return out; }

    @Override
    public void apply(float[] x, float[] y, int tokens) {
        if (x.length < (long) tokens * in || y.length < (long) tokens * out) throw new IllegalArgumentException("x/y too short");
        float[] xp = TernaryLinear.permute(x, tokens, in, perm), second = new float[tokens * out];
        plane1.apply(xp, null, y, tokens);
        plane2.apply(xp, null, second, tokens);
        for (int i = 0; i < tokens * out; i++) y[i] += second[i];
    }

    @Override
    public long weightBytes() {
        return plane1.residentBytes() + plane2.residentBytes() + (perm == null ? 0 : 4L * perm.length);
    }

    @Override
    public String format() {
        return "tritplane-" + plane1.name();
    }
}
