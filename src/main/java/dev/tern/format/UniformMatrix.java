package dev.tern.format;

/** Uniform asymmetric k-bit weights (GPTQ baseline): W[r][perm[j]] = scale[r,g] * (q[r][j] - zero[r,g]). */
public record UniformMatrix(int rows, int cols, int groupSize, int bits, byte[] codes, float[] scale, float[] zero,
        int[] perm) implements QuantizedMatrix {

    public UniformMatrix {
        Checks.shape(rows, cols, groupSize, perm);
        if (bits < 1 || bits > 8) throw new IllegalArgumentException("bits must be in 1..8, got " + bits);
        Checks.length("codes", codes.length, (long) rows * cols);
        int groups = (cols + groupSize - 1) / groupSize;
        Checks.length("scale", scale.length, (long) rows * groups);
        Checks.length("zero", zero.length, (long) rows * groups);
    }

    @Override
    public float[] dequantize() {
        float[] w = new float[rows * cols];
        int groups = groups();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                int g = r * groups + j / groupSize;
                w[r * cols + QuantizedMatrix.original(perm, j)] = scale[g] * ((codes[r * cols + j] & 0xff) - zero[g]);
            }
        }
        return w;
    }

    /** Codes packed at `bits` each (rows padded to whole bytes); scale and zero point both f16, as the file holds them. */
    @Override
    public long storageBits() {
        return 8L * rows * TritPacking.bitBytesPerRow(cols, bits) + 2 * paramBits() + QuantizedMatrix.permBits(perm, groupSize);
    }

    @Override
    public String kind() {
        return "uniform";
    }
}
