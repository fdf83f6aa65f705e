package dev.tern.model;

import dev.tern.kernels.LinearOp;

/** A loaded LLaMA-family decoder: config, embeddings, blocks, final norm and LM head, whatever the weight formats. */
public record LlamaModel(ModelConfig config, float[] embeddings, LayerWeights[] layers, float[] finalNorm, LinearOp lmHead) {

    public long weightBytes() {
        long b = 4L * embeddings.length + 4L * finalNorm.length;
        for (LayerWeights l : layers) b += l.weightBytes();
        // A tied head shares the embedding table; count it once.
        if (!config.tiedEmbeddings()) b += lmHead.weightBytes();
        return b;
    }

    /** Bytes and count of the weights in the seven linear layers of every block. */
    public long linearWeightBytes() {
        long b = 0;
        for (LayerWeights l : layers) for (LinearOp op : l.linears()) b += op.weightBytes();
        return b;
    }

    public long linearWeightCount() {
        long n = 0;
        for (LayerWeights l : layers) for (LinearOp op : l.linears()) n += (long) op.inFeatures() * op.outFeatures();
        return n;
    }

    public LlamaModel withLayers(LayerWeights[] newLayers) {
        return new LlamaModel(config, embeddings, newLayers, finalNorm, lmHead);
    }
}
