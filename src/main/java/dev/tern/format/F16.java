package dev.tern.format;

/** Rounding of per-group parameters to the f16 values a checkpoint stores, so in-memory and on-disk models agree. */
public final class F16 {
    private F16() {}

    public static float[] round(float[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = Float.float16ToFloat(Float.floatToFloat16(a[i]));
        return out;
    }

    /** The same matrix with every scale/offset rounded to f16. */
    public static QuantizedMatrix roundParams(QuantizedMatrix q) {
        return switch (q) {
            case TernaryMatrix t -> new TernaryMatrix(t.rows(), t.cols(), t.groupSize(), t.codes(), round(t.alpha()), round(t.mu()), t.perm());
            case TritPlaneMatrix t -> new TritPlaneMatrix(t.rows(), t.cols(), t.groupSize(), t.codes1(), t.codes2(),
                    round(t.alpha1()), round(t.alpha2()), t.perm());
            case UniformMatrix u -> new UniformMatrix(u.rows(), u.cols(), u.groupSize(), u.bits(), u.codes(), round(u.scale()),
                    round(u.zero()), u.perm());
        };
    }
}
