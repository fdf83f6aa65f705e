package dev.tern.quant;

/**
 * Textbook GPTQ (Frantar et al.) for a fixed column order, written to be obviously correct rather than fast: H⁻¹ via
 * Cholesky, the upper Cholesky factor U of H⁻¹, column-by-column quantization with intra-block error propagation and a
 * lazy update of the later columns after each block, min-max parameters fitted on each group at its start. Contains its
 * own independent copy of GPTQ's asymmetric min-max quantizer. Test-only reference.
 */
final class ClassicGptq {
    private ClassicGptq() {}

    /** Returns the dequantized W (n x m, original column order) in double. */
    static double[] quantize(float[] w0, int n, int m, double[] h0, int[] perm, int bits, int block, double percdamp) {
        double[] w = new double[n * m];
        for (int i = 0; i < w.length; i++) w[i] = w0[i];
        double[] h = h0.clone();
        for (int j = 0; j < m; j++) {
            if (h[j * m + j] == 0) {
                h[j * m + j] = 1;
                for (int i = 0; i < n; i++) w[i * m + j] = 0;
            }
        }
        // Permute.
        double[] wp = new double[n * m], hp = new double[m * m];
        for (int i = 0; i < n; i++) for (int c = 0; c < m; c++) wp[i * m + c] = w[i * m + perm[c]];
        for (int a = 0; a < m; a++) for (int b = 0; b < m; b++) hp[a * m + b] = h[perm[a] * m + perm[b]];
        double mean = 0;
        for (int j = 0; j < m; j++) mean += hp[j * m + j];
        double damp = percdamp * mean / m;
        for (int j = 0; j < m; j++) hp[j * m + j] += damp;
        double[] hinv = TestData.inverse(hp, m);
        double[] l2 = SmallLinalg.cholesky(hinv, m); // Hinv = L2 L2ᵀ, so U = L2ᵀ
        double[] u = new double[m * m];
        for (int a = 0; a < m; a++) for (int b = 0; b < m; b++) u[a * m + b] = l2[b * m + a];

        int maxq = (1 << bits) - 1;
        double[] qp = new double[n * m];
        for (int i1 = 0; i1 < m; i1 += block) {
            int i2 = Math.min(m, i1 + block), cnt = i2 - i1;
            float[] scale = new float[n], zero = new float[n];
            for (int i = 0; i < n; i++) {
                float xmin = 0, xmax = 0;
                for (int j = i1; j < i2; j++) {
                    float v = (float) wp[i * m + j];
                    if (v < xmin) xmin = v;
                    if (v > xmax) xmax = v;
                }
                if (xmin == 0 && xmax == 0) {
                    xmin = -1;
                    xmax = 1;
                }
                scale[i] = (xmax - xmin) / maxq;
                zero[i] = (float) Math.rint(-xmin / scale[i]);
            }
            double[] err = new double[n * cnt];
            for (int j = i1; j < i2; j++) {
                double d = u[j * m + j];
                for (int i = 0; i < n; i++) {
                    float v = (float) wp[i * m + j];
                    float q = (float) Math.rint(v / scale[i]) + zero[i];
                    if (q < 0) q = 0;
                    if (q > maxq) q = maxq;
                    double deq = scale[i] * (q - zero[i]);
                    qp[i * m + j] = deq;
                    double e = (wp[i * m + j] - deq) / d;
                    err[i * cnt + (j - i1)] = e;
                    for (int c = j + 1; c < i2; c++) wp[i * m + c] -= e * u[j * m + c];
                }
            }
            for (int i = 0; i < n; i++) {
                for (int c = i2; c < m; c++) {
                    double s = 0;
                    for (int j = i1; j < i2; j++) s += err[i * cnt + (j - i1)] * u[j * m + c];
                    wp[i * m + c] -= s;
                }
            }
        }
        double[] out = new double[n * m];
        for (int i = 0; i < n; i++) for (int c = 0; c < m; c++) out[i * m + perm[c]] = qp[i * m + c];
        return out;
    }
}
