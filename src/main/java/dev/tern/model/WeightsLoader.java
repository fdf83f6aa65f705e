package dev.tern.model;

import dev.tern.TernException;
import dev.tern.io.TensorSource;
import dev.tern.kernels.LinearOp;
import java.util.Arrays;

/** Builds a {@link LlamaModel} from Hugging Face-named tensors, checking every shape against the config. */
public final class WeightsLoader {
    private final ModelConfig c;
    private final TensorSource src;
    private final LinearFactory linears;
    private final java.util.function.Function<String, LinearOp> quantized;

    private WeightsLoader(ModelConfig c, TensorSource src, LinearFactory linears,
            java.util.function.Function<String, LinearOp> quantized) {
        this.c = c;
        this.src = src;
        this.linears = linears;
        this.quantized = quantized;
    }

    public static LlamaModel load(ModelConfig c, TensorSource src, LinearFactory linears) {
        return new WeightsLoader(c, src, linears, name -> null).load();
    }

    /**
     * As {@link #load(ModelConfig, TensorSource, LinearFactory)}, but a linear layer for which `quantized` returns
     * non-null (given the layer prefix, e.g. "model.layers.0.self_attn.q_proj") uses that instead of a dense tensor.
     */
    public static LlamaModel load(ModelConfig c, TensorSource src, LinearFactory linears,
            java.util.function.Function<String, LinearOp> quantized) {
        return new WeightsLoader(c, src, linears, quantized).load();
    }

    private LlamaModel load() {
        int h = c.hiddenSize();
        float[] emb = tensor("model.embed_tokens.weight", c.vocabSize(), h);
        LayerWeights[] layers = new LayerWeights[c.numLayers()];
        for (int l = 0; l < layers.length; l++) layers[l] = layer(l);
        float[] norm = tensor("model.norm.weight", h);
        LinearOp head;
        if (c.tiedEmbeddings() || !src.has("lm_head.weight")) {
            head = linears.create(emb, c.vocabSize(), h);
        } else {
            head = linears.create(tensor("lm_head.weight", c.vocabSize(), h), c.vocabSize(), h);
        }
        return new LlamaModel(c, emb, layers, norm, head);
    }

    private LayerWeights layer(int l) {
        String p = "model.layers." + l + ".";
        int h = c.hiddenSize(), q = c.qDim(), kv = c.kvDim(), m = c.intermediateSize(), hd = c.headDim();
        return new LayerWeights(
                tensor(p + "input_layernorm.weight", h),
                linear(p + "self_attn.q_proj.weight", q, h),
                linear(p + "self_attn.k_proj.weight", kv, h),
                linear(p + "self_attn.v_proj.weight", kv, h),
                linear(p + "self_attn.o_proj.weight", h, q),
                c.qkvBias() ? tensor(p + "self_attn.q_proj.bias", q) : null,
                c.qkvBias() ? tensor(p + "self_attn.k_proj.bias", kv) : null,
                c.qkvBias() ? tensor(p + "self_attn.v_proj.bias", kv) : null,
                c.qkNorm() ? tensor(p + "self_attn.q_norm.weight", hd) : null,
                c.qkNorm() ? tensor(p + "self_attn.k_norm.weight", hd) : null,
                tensor(p + "post_attention_layernorm.weight", h),
                linear(p + "mlp.gate_proj.weight", m, h),
                linear(p + "mlp.up_proj.weight", m, h),
                linear(p + "mlp.down_proj.weight", h, m));
    }

    private LinearOp linear(String name, int out, int in) {
        LinearOp q = quantized.apply(name.substring(0, name.length() - ".weight".length()));
        if (q != null) {
            if (q.outFeatures() != out || q.inFeatures() != in) {
                throw new TernException("weights: quantized layer " + name + " is " + q.outFeatures() + "x" + q.inFeatures()
                        + ", config implies " + out + "x" + in);
            }
            return q;
        }
        return linears.create(tensor(name, out, in), out, in);
    }

    private float[] tensor(String name, long... expected) {
        if (!src.has(name)) throw new TernException("weights: missing tensor " + name);
        long[] shape = src.shape(name);
        if (!Arrays.equals(shape, expected)) {
            throw new TernException("weights: tensor " + name + " has shape " + Arrays.toString(shape) + ", config implies "
                    + Arrays.toString(expected));
        }
        return src.floats(name);
    }
}
