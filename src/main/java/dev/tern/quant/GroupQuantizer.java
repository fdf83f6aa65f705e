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

    /**
     * Refits the per-row parameters of b for the codes it holds now, against the block-start weights w (rows x cols)
     * and Gram sub-matrix s, after GPTQ's column pass re-chose the codes. Returns false if it changed nothing (then no
     * further re-rounding is needed). The default keeps the parameters fitted at block start, as GPTQ does.
     */
    default boolean refit(QuantizedBlock b, float[] w, double[] s) {
        return false;
    }

    /**
     * Re-chooses the codes of b for its current parameters to lower the quadratic objective (w − ŵ) s (w − ŵ)ᵀ per
     * row, where s is the block's error metric once later columns are compensated. Returns whether any code changed.
     * The default keeps GPTQ's column-pass codes.
     */
    default boolean refine(QuantizedBlock b, float[] w, double[] s) {
        return false;
    }
}
