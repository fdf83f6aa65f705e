package dev.tern.io;

import java.util.Set;

/** Named tensors of a model checkpoint (safetensors, llama2.c, ...), read as floats on demand. */
public interface TensorSource extends AutoCloseable {
    Set<String> names();

    boolean has(String name);

    /** Shape as stored, outermost dimension first. Throws TernException for an unknown name. */
    long[] shape(String name);

    /** Stored dtype name as in safetensors ("F32", "F16", "BF16"). */
    String dtype(String name);

    /** The whole tensor converted to f32, row-major. Throws TernException for an unknown name or unsupported dtype. */
    float[] floats(String name);

    /** Free-form metadata (safetensors __metadata__), empty if none. */
    default java.util.Map<String, String> metadata() {
        return java.util.Map.of();
    }

    @Override
    void close();
}
