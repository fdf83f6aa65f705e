package dev.tern.io;

import dev.tern.TernException;

/** Element types a safetensors file may declare, with their byte widths. */
public enum Dtype {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), U16(2), I8(1), U8(1), BOOL(1);

    private final int bytes;

    Dtype(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** True for the dtypes {@link TensorSource#floats} can convert. */
    public boolean isFloat16or32() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** Parses a safetensors dtype string; {@code where} prefixes the error message. */
    public static Dtype parse(String s, String where) {
        for (Dtype d : values()) {
            if (d.name().equals(s)) return d;
        }
        throw new TernException(where + ": unsupported dtype '" + s + "'");
    }
}
