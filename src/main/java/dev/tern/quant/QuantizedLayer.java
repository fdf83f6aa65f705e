package dev.tern.quant;

import dev.tern.format.QuantizedMatrix;

/**
 * Output of quantizing one linear layer: the storable matrix (codes in permuted order), the dequantized W, and ITF's
 * mean and largest step count per (row, group) fit (0 when ITF did not run).
 */
public record QuantizedLayer(QuantizedMatrix matrix, float[] dequantized, double meanItfSteps, int maxItfSteps) {
    public QuantizedLayer(QuantizedMatrix matrix, float[] dequantized) {
        this(matrix, dequantized, 0, 0);
    }

    /** perm[j] = original column of stored column j, or null for the identity. */
    public int[] perm() {
        return matrix.perm();
    }
}
