package dev.tern.format;

/** Two trit-planes (PTQTP): W[r][perm[j]] = alpha1[r,g] * t1[r][j] + alpha2[r,g] * t2[r][j]. */
public record TritPlaneMatrix(int rows, int cols, int groupSize, byte[] codes1, byte[] codes2, float[] alpha1,
        float[] alpha2, int[] perm) implements QuantizedMatrix {

    public TritPlaneMatrix {
        Checks.shape(rows, cols, groupSize, perm);
        Checks.length("codes1", codes1.length, (long) rows * cols);
        Checks.length("codes2", codes2.length, (long) rows * cols);
        int groups = (cols + groupSize - 1) / groupSize;
        Checks.length("alpha1", alpha1.length, (long) rows * groups);
        Checks.length("alpha2", alpha2.length, (long) rows * groups);
    }

    @Override
    public float[] dequantize() {
        float[] w = new float[rows * cols];
        int groups = groups();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                int g = r * groups + j / groupSize;
                int i = r * cols + j;
                w[r * cols + QuantizedMatrix.original(perm, j)] = alpha1[g] * codes1[i] + alpha2[g] * codes2[i];
            }
        }
        return w;
    }

    @Override
    public long storageBits() {
        long codeBytes = 2L * rows * TritPacking.bytesPerRow(cols);
        return codeBytes * 8 + 2 * paramBits() + QuantizedMatrix.permBits(perm, groupSize);
    }

    @Override
    public String kind() {
        return "tritplane";
    }
}
