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

    /** A short name of the storage format, e.g. "f32", "bf16", "ternary-unpack-256". */
    String format();

    /**
     * ys[i] = ops[i](x) for layers that read the same input (q, k, v; gate, up). For one token through ternary
     * layers of a tiled kernel (unpack, table), all of them run in one parallel pass (one synchronisation instead of
     * one per layer); otherwise one after the other.
     */
    static void applyAll(LinearOp[] ops, float[] x, float[][] ys, int tokens) {
        if (tokens == 1 && TernaryLinear.applyFused(ops, x, ys)) return;
        for (int i = 0; i < ops.length; i++) ops[i].apply(x, ys[i], tokens);
    }
}
