package dev.tern.model;

import dev.tern.kernels.LinearOp;
import dev.tern.util.Parallel;

/**
 * The batched forward pass: a window of tokens at once (prefill, evaluation, calibration) or one token (decode),
 * with a KV cache. Linear layers go through whatever {@link dev.tern.kernels.LinearOp} the model holds.
 */
public final class Transformer {
    /** Where a block's linear layers read their input; layers at the same site share it (and one Hessian). */
    public enum Site { QKV, O, GATE_UP, DOWN }

    /** Receives the input rows [tokens][dim] of each site while a block runs (for calibration). */
    public interface Capture {
        void input(int layer, Site site, float[] x, int tokens);
    }

    private final LlamaModel model;
    private final ModelConfig c;
    private final Rope rope;

    public Transformer(LlamaModel model) {
        this(model, model.config().maxPositions());
    }

    public Transformer(LlamaModel model, int maxPositions) {
        this.model = model;
        this.c = model.config();
        this.rope = new Rope(c, maxPositions);
    }

    public LlamaModel model() {
        return model;
    }

    public KvCache newCache(int capacity) {
        if (capacity > rope.maxPositions()) throw new IllegalArgumentException("cache longer than the RoPE table");
        return new KvCache(c, capacity);
    }

    /** Embedding rows of the given tokens: [n][hidden]. */
    public float[] embed(int[] tokens, int from, int n) {
        int h = c.hiddenSize();
        float[] x = new float[n * h];
        for (int t = 0; t < n; t++) {
            int id = tokens[from + t];
            if (id < 0 || id >= c.vocabSize()) throw new IllegalArgumentException("token id " + id + " out of range");
            System.arraycopy(model.embeddings(), id * h, x, t * h, h);
        }
        return x;
    }

    /** Runs all blocks over tokens[from, from+n) at positions startPos.. and returns the final-normed hidden rows. */
    public float[] forward(int[] tokens, int from, int n, int startPos, KvCache cache) {
        float[] x = embed(tokens, from, n);
        for (int l = 0; l < c.numLayers(); l++) block(l, model.layers()[l], x, n, startPos, cache, null);
        return finalNorm(x, n);
    }

    public float[] finalNorm(float[] x, int n) {
        int h = c.hiddenSize();
        float[] out = new float[n * h];
        for (int t = 0; t < n; t++) Ops.rmsNorm(out, t * h, x, t * h, model.finalNorm(), h, c.rmsNormEps());
        return out;
    }

    /** Logits [n][vocab] of hidden rows [n][hidden]. */
    public float[] logits(float[] hidden, int n) {
        float[] out = new float[n * c.vocabSize()];
        model.lmHead().apply(hidden, out, n);
        return out;
    }

    /**
     * One transformer block over n rows of x (updated in place) at positions startPos.., with weights w (which may
     * differ from the model's, as during quantization). capture may be null.
     */
    public void block(int layer, LayerWeights w, float[] x, int n, int startPos, KvCache cache, Capture capture) {
        int h = c.hiddenSize(), qDim = c.qDim(), kvDim = c.kvDim(), hd = c.headDim();
        if (startPos + n > cache.capacity()) throw new IllegalArgumentException("KV cache full");
        float[] xn = new float[n * h];
        for (int t = 0; t < n; t++) Ops.rmsNorm(xn, t * h, x, t * h, w.attnNorm(), h, c.rmsNormEps());
        if (capture != null) capture.input(layer, Site.QKV, xn, n);
        float[] q = new float[n * qDim], k = new float[n * kvDim], v = new float[n * kvDim];
        LinearOp.applyAll(new LinearOp[] {w.q(), w.k(), w.v()}, xn, new float[][] {q, k, v}, n);
        float[] keys = cache.keys(layer), values = cache.values(layer);
        for (int t = 0; t < n; t++) {
            addBias(q, t * qDim, w.qBias());
            addBias(k, t * kvDim, w.kBias());
            addBias(v, t * kvDim, w.vBias());
            if (w.qNorm() != null) {
                for (int hh = 0; hh < c.numHeads(); hh++) Ops.rmsNorm(q, t * qDim + hh * hd, q, t * qDim + hh * hd, w.qNorm(), hd, c.rmsNormEps());
                for (int hh = 0; hh < c.numKvHeads(); hh++) Ops.rmsNorm(k, t * kvDim + hh * hd, k, t * kvDim + hh * hd, w.kNorm(), hd, c.rmsNormEps());
            }
            rope.apply(q, t * qDim, c.numHeads(), startPos + t);
            rope.apply(k, t * kvDim, c.numKvHeads(), startPos + t);
        }
        int cap = cache.capacity();
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < kvDim; i++) {
                keys[i * cap + startPos + t] = k[t * kvDim + i];
                values[i * cap + startPos + t] = v[t * kvDim + i];
            }
        }

        float[] att = new float[n * qDim];
        attention(q, keys, values, cap, att, n, startPos);
        if (capture != null) capture.input(layer, Site.O, att, n);
        float[] o = new float[n * h];
        w.o().apply(att, o, n);
        for (int i = 0; i < n * h; i++) x[i] += o[i];

        for (int t = 0; t < n; t++) Ops.rmsNorm(xn, t * h, x, t * h, w.mlpNorm(), h, c.rmsNormEps());
        if (capture != null) capture.input(layer, Site.GATE_UP, xn, n);
        int m = c.intermediateSize();
        float[] g = new float[n * m], u = new float[n * m];
        LinearOp.applyAll(new LinearOp[] {w.gate(), w.up()}, xn, new float[][] {g, u}, n);
        Ops.swiglu(g, u, n * m);
        if (capture != null) capture.input(layer, Site.DOWN, g, n);
        w.down().apply(g, o, n);
        for (int i = 0; i < n * h; i++) x[i] += o[i];
    }

    private static void addBias(float[] y, int off, float[] bias) {
        if (bias == null) return;
        for (int i = 0; i < bias.length; i++) y[off + i] += bias[i];
    }

    /**
     * Causal attention of n query rows (positions startPos..) over the cache, whose keys and values are stored
     * transposed per KV head ([channel][position], stride cap): query·key for all positions sums rows of keys scaled
     * by the query's channels, and scores·values is a dot product per channel, over long contiguous rows, which
     * vectorises well even for the tiny head sizes of small models. Heads run in parallel (one query row per head is
     * enough work when decoding).
     */
    private void attention(float[] q, float[] kt, float[] vt, int cap, float[] att, int n, int startPos) {
        int heads = c.numHeads(), hd = c.headDim(), qDim = c.qDim(), kvHeads = c.numKvHeads();
        int group = heads / kvHeads;
        int ctx = startPos + n;
        float scale = (float) (1.0 / Math.sqrt(hd));
        int work = heads * n;
        Parallel.forRange(work, 1, (from, to) -> {
            float[] scores = new float[ctx];
            for (int wi = from; wi < to; wi++) {
                int hh = wi / n, t = wi % n;
                int len = startPos + t + 1;
                int qo = t * qDim + hh * hd;
                int kh = hh / group;
                VecMath.scoresT(q, qo, scale, hd, kt, kh * hd * cap, cap, scores, len);
                Ops.softmax(scores, 0, len);
                VecMath.dotRows(scores, len, vt, kh * hd * cap, cap, hd, att, t * qDim + hh * hd);
            }
        });
    }
}
