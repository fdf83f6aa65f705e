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

    /**
     * Bits the checkpoint stores for this layer: exactly 8 × the bytes of its tensors in model.safetensors (codes,
     * f16 per-group parameters, the permutation when there is one).
     */
    long storageBits();

    /** Short method tag written into checkpoints ("ternary", "tritplane", "uniform"). */
    String kind();

    static int original(int[] perm, int j) {
        return perm == null ? j : perm[j];
    }

    /** Largest column count whose permutation is stored as 16-bit indices (larger ones as 32-bit). */
    int U16_PERM_COLS = 1 << 16;
    /** Most groups per row whose column-to-group labels fit in one byte each. */
    int MAX_LABEL_GROUPS = 256;

    /**
     * Bits of the stored permutation. Order inside a group cannot change Ŵ, so a permutation that lists each group's
     * columns in ascending order is fully given by each column's group: one byte per column (up to 256 groups).
     * Any other permutation costs 16-bit indices (up to 65,536 columns) or 32-bit ones.
     */
    static long permBits(int[] perm, int groupSize) {
        if (perm == null) return 0;
        if (groupsAscending(perm, groupSize) && (perm.length + groupSize - 1) / groupSize <= MAX_LABEL_GROUPS) return 8L * perm.length;
        return (perm.length <= U16_PERM_COLS ? 16L : 32L) * perm.length;
    }

    /** True if every group's stored columns appear in ascending original order. */
    static boolean groupsAscending(int[] perm, int groupSize) {
        for (int j = 1; j < perm.length; j++) {
            if (j % groupSize != 0 && perm[j] < perm[j - 1]) return false;
        }
        return true;
    }

    /** Bits of one f16 tensor holding a parameter per row and group. */
    default long paramBits() {
        return 16L * rows() * groups();
    }
}
