package dev.tern.kernels;

/**
 * One packed ternary kernel: y = (α·T + μ)·x for inputs gathered into stored column order (or in original order
 * where {@link #takesOriginalOrder}). Each implementation owns its packed copy of the codes and scales;
 * {@link TernaryLinear} gathers the input for the others.
 */
interface TernaryKernel {
    /**
     * y[t][out] = Σ_j (α[r,g]·T[r][j] + μ[r,g])·xp[t][j] for xp[t][in] in stored column order; gs[t][groups] are
     * the per-group sums of xp (the μ term's multiplier; may be null when the layer has no μ).
     */
    void apply(float[] xp, float[] gs, float[] y, int tokens);

    /** Whether {@link #apply} reads the group sums for this many tokens (kernels that fold μ into f32 weights do not). */
    default boolean usesGroupSums(int tokens) {
        return true;
    }

    /**
     * Whether {@link #apply} takes the layer's input in its original column order for this many tokens (the kernel
     * gathers it itself, as the f32 GEMM does while packing x), instead of permuted into stored order.
     */
    default boolean takesOriginalOrder(int tokens) {
        return false;
    }

    /**
     * Whether a small layer may keep its f32 weights decoded after the first prefill ({@link PanelLinear}; on by
     * default). The kernel probe turns it off, so that its small warm-up layer trains the slice-by-slice path its
     * larger timed layers take.
     */
    default void keepDecodedWeights(boolean keep) {}

    /**
     * The same kernel over its own copy of the packed codes and scales (the kernel probe reads several copies per
     * round, so that its codes come from memory as a large model's do, not from the last-level cache).
     */
    TernaryKernel copy();

    /** Bytes of codes and scales this kernel keeps in memory. */
    long residentBytes();

    /** The kernel's name as {@code --kernel} spells it, e.g. "unpack-256". */
    String name();
}
