package dev.tern.io.gguf;

import dev.tern.TernException;

/** GGUF metadata value types. */
public enum GgufValueType {
    // Declared in on-disk id order (gguf-py constants.py GGUFValueType): ordinal() is the id.
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(-1), ARRAY(-1),
    UINT64(8), INT64(8), FLOAT64(8);

    private static final GgufValueType[] ALL = values();

    private final int size;

    GgufValueType(int size) {
        this.size = size;
    }

    public int id() {
        return ordinal();
    }

    /** Bytes of one value, or -1 for the variable-length STRING and ARRAY. */
    public int size() {
        return size;
    }

    /** Smallest encoding of one value: a string's or array's length fields count, so a lying count fails early. */
    int minSize() {
        return switch (this) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> size;
        };
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64;
    }

    public static GgufValueType of(int id) {
        if (id < 0 || id >= ALL.length) throw new TernException("unknown GGUF value type " + Integer.toUnsignedString(id));
        return ALL[id];
    }
}
