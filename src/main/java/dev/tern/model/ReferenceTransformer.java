package dev.tern.model;

/**
 * Token-by-token forward pass with plain loops and no threads: the slow, obvious path that the batched
 * {@link Transformer} is tested against. Linear layers are whatever the model holds.
 */
public final class ReferenceTransformer {
    private final LlamaModel model;
    private final ModelConfig c;
    private final float[][] keys, values; // [layer][pos*kvDim]
    private final Rope rope;

    public ReferenceTransformer(LlamaModel model, int capacity) {
        this.model = model;
        this.c = model.config();
        this.rope = new Rope(c, capacity);
        keys = new float[c.numLayers()][capacity * c.kvDim()];
        values = new float[c.numLayers()][capacity * c.kvDim()];
    }

    /** Logits [vocab] for `token` at position `pos`, given that positions 0..pos-1 were fed before. */
    public float[] step(int token, int pos) {
        int h = c.hiddenSize(), hd = c.headDim(), kvDim = c.kvDim(), qDim = c.qDim(), m = c.intermediateSize();
        float[] x = new float[h];
        System.arraycopy(model.embeddings(), token * h, x, 0, h);
        float[] xn = new float[h];
        for (int l = 0; l < c.numLayers(); l++) {
            LayerWeights w = model.layers()[l];
            Ops.rmsNorm(xn, 0, x, 0, w.attnNorm(), h, c.rmsNormEps());
            float[] q = new float[qDim], k = new float[kvDim], v = new float[kvDim];
            w.q().apply(xn, q, 1);
            w.k().apply(xn, k, 1);
            w.v().apply(xn, v, 1);
            for (int i = 0; w.qBias() != null && i < qDim; i++) q[i] += w.qBias()[i];
            for (int i = 0; w.kBias() != null && i < kvDim; i++) k[i] += w.kBias()[i];
            for (int i = 0; w.vBias() != null && i < kvDim; i++) v[i] += w.vBias()[i];
            if (w.qNorm() != null) {
                for (int hh = 0; hh < c.numHeads(); hh++) Ops.rmsNorm(q, hh * hd, q, hh * hd, w.qNorm(), hd, c.rmsNormEps());
                for (int hh = 0; hh < c.numKvHeads(); hh++) Ops.rmsNorm(k, hh * hd, k, hh * hd, w.kNorm(), hd, c.rmsNormEps());
            }
            rope.apply(q, 0, c.numHeads(), pos);
            rope.apply(k, 0, c.numKvHeads(), pos);
            System.arraycopy(k, 0, keys[l], pos * kvDim, kvDim);
            System.arraycopy(v, 0, values[l], pos * kvDim, kvDim);
            float[] att = new float[qDim];
            int group = c.numHeads() / c.numKvHeads();
            for (int hh = 0; hh < c.numHeads(); hh++) {
                int ko = (hh / group) * hd;
                double[] s = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p <= pos; p++) {
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += (double) q[hh * hd + i] * keys[l][p * kvDim + ko + i];
                    s[p] = d / Math.sqrt(hd);
                    max = Math.max(max, s[p]);
                }
                double sum = 0;
                for (int p = 0; p <= pos; p++) sum += (s[p] = Math.exp(s[p] - max));
                for (int i = 0; i < hd; i++) {
                    double a = 0;
                    for (int p = 0; p <= pos; p++) a += s[p] / sum * values[l][p * kvDim + ko + i];
                    att[hh * hd + i] = (float) a;
                }
            }
            float[] o = new float[h];
            w.o().apply(att, o, 1);
            for (int i = 0; i < h; i++) x[i] += o[i];
            Ops.rmsNorm(xn, 0, x, 0, w.mlpNorm(), h, c.rmsNormEps());
            float[] g = new float[m], u = new float[m];
            w.gate().apply(xn, g, 1);
            w.up().apply(xn, u, 1);
            for (int i = 0; i < m; i++) g[i] = (float) (g[i] / (1 + Math.exp(-g[i]))) * u[i];
            w.down().apply(g, o, 1);
            for (int i = 0; i < h; i++) x[i] += o[i];
        }
        Ops.rmsNorm(xn, 0, x, 0, model.finalNorm(), h, c.rmsNormEps());
        float[] logits = new float[c.vocabSize()];
        model.lmHead().apply(xn, logits, 1);
        return logits;
    }
}
