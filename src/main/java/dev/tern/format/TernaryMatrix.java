package dev.tern.format;

/** Ternary weights: W[r][perm[j]] = alpha[r,g] * t[r][j] + mu[r,g] with t in {-1,0,+1} (PT²-LLM, RTN ternary). */
public record TernaryMatrix(int rows, int cols, int groupSize, byte[] codes, float[] alpha, float[] mu, int[] perm)
        implements QuantizedMatrix {

    public TernaryMatrix {
        Checks.shape(rows, cols, groupSize, perm);
        Checks.length("codes", codes.length, (long) rows * cols);
        int groups = (cols + groupSize - 1) / groupSize;
        Checks.length("alpha", alpha.length, (long) rows * groups);
        Checks.length("mu", mu.length, (long) rows * groups);
    }

    @Override
    public float[] dequantize() {
        float[] w = new float[rows * cols];
        int groups = groups();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                int g = r * groups + j / groupSize;
                w[r * cols + QuantizedMatrix.original(perm, j)] = alpha[g] * codes[r * cols + j] + mu[g];
            }
        }
        return w;
    }

    /** Base-3 packing stores 5 trits per byte (1.6 bits); alpha is f16, and so is mu unless it is zero throughout. */
    @Override
    public long storageBits() {
        long codeBytes = (long) rows * TritPacking.bytesPerRow(cols);
        return codeBytes * 8 + paramBits() * (storesMu() ? 2 : 1) + QuantizedMatrix.permBits(perm, groupSize);
    }

    /** False for a symmetric layer (every mu is +0 or −0): the checkpoint then stores no mu tensor. */
    public boolean storesMu() {
        for (float v : mu) if (v != 0f) return true;
        return false;
    }

    @Override
    public String kind() {
        return "ternary";
    }
}
