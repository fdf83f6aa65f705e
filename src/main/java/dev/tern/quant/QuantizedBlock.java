package dev.tern.quant;

/**
 * One quantized block (rows x cols, the block's columns in quantization order): dequantized values, codes and the
 * per-row parameters p1/p2 whose meaning is given by {@link QuantFormat}. codes2 is non-null only for trit-planes;
 * itfSteps (ITF steps per row) only where ITF ran.
 */
public record QuantizedBlock(int rows, int cols, float[] deq, byte[] codes, byte[] codes2, float[] p1, float[] p2,
        int[] itfSteps) {
    public QuantizedBlock {
        if (deq.length != rows * cols || codes.length != rows * cols || p1.length != rows || p2.length != rows) {
            throw new IllegalArgumentException("inconsistent block arrays for " + rows + "x" + cols);
        }
        if (codes2 != null && codes2.length != rows * cols) throw new IllegalArgumentException("codes2 length");
        if (itfSteps != null && itfSteps.length != rows) throw new IllegalArgumentException("itfSteps length");
    }

    static QuantizedBlock allocate(int rows, int cols, boolean twoPlanes) {
        return new QuantizedBlock(rows, cols, new float[rows * cols], new byte[rows * cols],
                twoPlanes ? new byte[rows * cols] : null, new float[rows], new float[rows], null);
    }
}
