package dev.tern.format;

/**
 * A quantized weight matrix (rows = outputs, cols = inputs) in unpacked form, as produced by a quantizer.
 *
 * <p>Columns are stored in permuted order: stored column j holds original input column perm[j] (perm null means
 * identity). Groups are consecutive runs of {@code groupSize} stored columns; per-row, per-group parameters are
 * indexed [row * groups() + group].
 */
public sealed interface QuantizedMatrix permits TernaryMatrix, TritPlaneMatrix, UniformMatrix {
    int rows();

    int cols();

    int groupSize();

    int[] perm();

    default int groups() {
        return (cols() + groupSize() - 1) / groupSize();
    }

    /** The dequantized matrix, rows x cols row-major, in the ORIGINAL column order: the slow, obvious reference. */
    float[] dequantize();

    /** Stored bits of the packed representation: codes + per-group parameters (f16) + permutation (i32). */
    long storageBits();

    /** Short method tag written into checkpoints ("ternary", "tritplane", "uniform"). */
    String kind();

    static int original(int[] perm, int j) {
        return perm == null ? j : perm[j];
    }

    static long permBits(int[] perm) {
        return perm == null ? 0 : 32L * perm.length;
    }
}
