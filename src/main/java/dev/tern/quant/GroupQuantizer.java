package dev.tern.quant;

/**
 * Quantizes one GPTQ block (= one group of columns) for all rows at once; the driver owns ordering and error feedback.
 */
public interface GroupQuantizer {
    QuantFormat format();

    /** Bits per code for {@link QuantFormat#UNIFORM}; ignored otherwise. */
    default int bits() {
        return 2;
    }

    /** True if {@link #quantize} uses the Gram matrix s (false: data-free, s may be null). */
    default boolean usesGram() {
        return false;
    }

    /**
     * Fits per-row parameters on the block and quantizes it whole. w: rows x cols row-major (not modified); s: cols x cols
     * Gram/Hessian sub-matrix H_BB of the block's columns in the same order (may be null for data-free quantizers).
     */
    QuantizedBlock quantize(float[] w, int rows, int cols, double[] s);

    /**
     * Re-quantizes one value of the block with the parameters already stored in b (GPTQ's column-by-column mode, where the
     * parameters are fitted at block start and the values then move under error feedback). Writes the code(s) and the
     * dequantized value into b and returns the dequantized value.
     */
    float requantize(QuantizedBlock b, int row, int col, float value);
}
