package dev.tern.kernels;

/**
 * A linear layer y = W x over a batch of token rows; the one seam between the model and every weight format.
 *
 * <p>x is [tokens][in] row-major, y is [tokens][out] row-major; y is overwritten. Implementations must be
 * safe to call from one thread at a time and may use {@link dev.tern.util.Parallel} internally.
 */
public interface LinearOp {
    int inFeatures();

    int outFeatures();

    void apply(float[] x, float[] y, int tokens);

    /** Bytes the weights occupy in memory (codes, scales, offsets, permutation all counted). */
    long weightBytes();

    /** A short name of the storage format, e.g. "f32", "bf16", "ternary-2bit". */
    String format();
}
