package dev.tern.model;

import dev.tern.kernels.LinearOp;

/**
 * Weights of one transformer block. Biases (qwen2) and per-head q/k norms (qwen3) are null when absent.
 */
public record LayerWeights(
        float[] attnNorm,
        LinearOp q, LinearOp k, LinearOp v, LinearOp o,
        float[] qBias, float[] kBias, float[] vBias,
        float[] qNorm, float[] kNorm,
        float[] mlpNorm,
        LinearOp gate, LinearOp up, LinearOp down) {

    /** The seven linear layers in the order the quantization pipeline and checkpoints use. */
    public LinearOp[] linears() {
        return new LinearOp[] {q, k, v, o, gate, up, down};
    }

    public static final String[] LINEAR_NAMES = {
        "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"
    };

    public LayerWeights withLinears(LinearOp[] l) {
        return new LayerWeights(attnNorm, l[0], l[1], l[2], l[3], qBias, kBias, vBias, qNorm, kNorm, mlpNorm, l[4], l[5], l[6]);
    }

    public long weightBytes() {
        long b = 4L * (attnNorm.length + mlpNorm.length);
        for (LinearOp l : linears()) b += l.weightBytes();
        for (float[] f : new float[][] {qBias, kBias, vBias, qNorm, kNorm}) if (f != null) b += 4L * f.length;
        return b;
    }
}
