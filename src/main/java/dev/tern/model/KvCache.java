package dev.tern.model;

/** Keys and values of past positions, per layer, [position][kvDim] row-major; layers are allocated on first use. */
public final class KvCache {
    // Stored transposed, [kvHead·headDim + d][position] with row stride capacity: attention then reads every
    // key and value channel as one contiguous run over positions, and nothing is re-laid out per step.
    private final float[][] keys, values;
    private final int capacity, kvDim;

    public KvCache(ModelConfig c, int capacity) {
        this.capacity = capacity;
        this.kvDim = c.kvDim();
        keys = new float[c.numLayers()][];
        values = new float[c.numLayers()][];
    }

    /** Row stride of the transposed key and value arrays. */
    public int capacity() {
        return capacity;
    }

    public float[] keys(int layer) {
        if (keys[layer] == null) keys[layer] = new float[capacity * kvDim];
        return keys[layer];
    }

    public float[] values(int layer) {
        if (values[layer] == null) values[layer] = new float[capacity * kvDim];
        return values[layer];
    }
}
