package dev.tern.kernels;

import dev.tern.format.TernaryMatrix;
import jdk.incubator.vector.ShortVector;

/** The ternary kernels Tern has, each with the layout it packs and the name {@code --kernel} takes. */
public enum KernelKind {
    /** 3-trit codes looked up 32 rows at a time by one 512-bit permute ({@link Lut3Kernel}); AVX-512 only. */
    LUT3_512("lut3-512"),
    /** 2-bit codes as nibble indices into per-token byte tables of pair sums, 16 rows per 128-bit shuffle ({@link TableKernel}). */
    TABLE_128("table-128"),
    /** 2-bit codes unpacked and multiplied with int16 activations at the preferred width, one tile per loop ({@link UnpackKernel}). */
    UNPACK("unpack"),
    /**
     * The same codes and arithmetic, four tiles per loop (four code streams in flight), up to 256 bits: faster where
     * memory latency limits decode (Sapphire Rapids: 39-42 against 35 G multiply-adds/s), slower where it does not
     * (Zen 3: 38-41 against 48-53), so the probe decides.
     */
    UNPACK4("unpack4"),
    /** The same codes decoded to f32 weights for the float GEMM and GEMV; exact activations ({@link FloatDecodeKernel}). */
    FLOAT("float");

    private final String stem;

    KernelKind(String stem) {
        this.stem = stem;
    }

    /** The name with the vector width this JVM runs it at, e.g. "unpack-256". */
    public String label() {
        return this == LUT3_512 || this == TABLE_128 ? stem : stem + "-" + ShortVector.SPECIES_PREFERRED.vectorBitSize();
    }

    /** What {@code --kernel} accepts: the stem, or the label of this JVM. */
    public static KernelKind parse(String s) {
        for (KernelKind k : values()) {
            if (k.stem.equals(s) || k.label().equals(s)) return k;
        }
        return null;
    }

    public static String choices() {
        StringBuilder b = new StringBuilder();
        for (KernelKind k : values()) b.append(b.isEmpty() ? "" : ", ").append(k.stem);
        return b.toString();
    }

    /**
     * Whether the vectors this kernel uses fit the JVM's vector registers at all. A kernel that fits can still
     * fall into the Vector API's Java fallback on some CPU; the probe ({@link KernelSelector}) finds those.
     */
    public boolean fitsThisJvm() {
        int bits = ShortVector.SPECIES_PREFERRED.vectorBitSize();
        return switch (this) {
            case LUT3_512 -> bits >= 512;
            case TABLE_128 -> bits >= 128;
            // at 512 bits one tile's word is already four cache lines: four tiles per loop made units too coarse
            case UNPACK4 -> bits < 512;
            default -> true;
        };
    }

    /** Group sizes the kernel's integer sums cannot overflow for. */
    public boolean supports(int groupSize) {
        return this != LUT3_512 || Lut3Kernel.supports(groupSize);
    }

    /**
     * The kernel whose prefill (from {@link UnpackKernel#PREFILL_TOKENS} tokens on) this one runs, bit for bit:
     * unpack4's and table-128's are unpack's (the integer GEMM of {@link UnpackGemm}, over their own layouts).
     */
    public KernelKind prefillTwin() {
        return switch (this) {
            case UNPACK4, TABLE_128 -> UNPACK;
            default -> this;
        };
    }

    /** Activations stay f32 (no per-group integer rounding). */
    public boolean exactActivations() {
        return this == FLOAT;
    }

    /** Packs m (codes in stored column order; m.perm() is the permutation) for this kernel; mu may be dropped (null). */
    TernaryKernel create(TernaryMatrix m, boolean withMu) {
        int out = m.rows(), in = m.cols(), gs = m.groupSize();
        if (!supports(gs)) throw new IllegalArgumentException(label() + " cannot take groups of " + gs + " columns");
        short[] alpha = TernaryPacking.toF16(m.alpha()), mu = withMu ? TernaryPacking.toF16(m.mu()) : null;
        return switch (this) {
            case LUT3_512 -> new Lut3Kernel(out, in, gs, TernaryPacking.packLut3(m.codes(), out, in, gs), alpha, mu);
            case TABLE_128 -> new TableKernel(out, in, gs, m.codes(), alpha, mu);
            case UNPACK -> new UnpackKernel(UnpackLayout.pack(out, in, gs, m.codes(), alpha, mu), 1);
            case UNPACK4 -> new UnpackKernel(UnpackLayout.pack(out, in, gs, m.codes(), alpha, mu), 4);
            case FLOAT -> new FloatDecodeKernel(UnpackLayout.pack(out, in, gs, m.codes(), alpha, mu), m.perm());
        };
    }
}
