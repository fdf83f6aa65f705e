package dev.tern.io.gguf;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor's header entry. {@code ne} is in ggml order, innermost (the row length) first; {@code offset} is the
 * absolute file offset of the data, which is {@code bytes} long.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long offset, long bytes) {
    public GgufTensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** Outermost first (ne reversed), as Tern's TensorSource reports shapes. */
    public long[] shape() {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) s[i] = ne[ne.length - 1 - i];
        return s;
    }

    public long elements() {
        long n = 1;
        for (long d : ne) n *= d; // validated on open not to overflow
        return n;
    }

    /** Length of one row (ne[0]): blocks never cross it. */
    public long rowLength() {
        return ne[0];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(ne, t.ne)
                && offset == t.offset && bytes == t.bytes;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(ne), offset, bytes);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape()) + " @" + offset + "+" + bytes;
    }
}
