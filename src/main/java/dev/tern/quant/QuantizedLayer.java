package dev.tern.quant;

import dev.tern.format.QuantizedMatrix;

/** Output of quantizing one linear layer: the storable matrix (codes in permuted order) and the dequantized W. */
public record QuantizedLayer(QuantizedMatrix matrix, float[] dequantized) {
    /** perm[j] = original column of stored column j, or null for the identity. */
    public int[] perm() {
        return matrix.perm();
    }
}
