package dev.tern.io.gguf;

import java.util.List;
import java.util.Objects;

/**
 * A GGUF metadata array. Elements are Long for every integer type (unsigned ones zero-extended; UINT64 keeps its
 * 64 bits), Float, Double, Boolean, String, or a nested GgufArray.
 */
public record GgufArray(GgufValueType elementType, List<?> values) {
    public GgufArray {
        Objects.requireNonNull(elementType, "elementType");
        // Arrays read from a file are already immutable and compact; copying would box every element.
        values = values instanceof GgufValues ? values : List.copyOf(values);
    }

    public int size() {
        return values.size();
    }
}
