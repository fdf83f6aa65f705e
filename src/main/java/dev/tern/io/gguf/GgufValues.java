package dev.tern.io.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.AbstractList;
import java.util.RandomAccess;

/**
 * The elements of a metadata array as read from a file, kept in their on-disk form: a 150 000-entry token-type array
 * stays 600 KB of bytes instead of 150 000 boxed objects, and {@link GgufArray} does not copy it.
 */
final class GgufValues extends AbstractList<Object> implements RandomAccess {
    private final GgufValueType type;
    private final ByteBuffer raw; // little-endian fixed-size elements; null for STRING and ARRAY
    private final Object[] objects; // Strings or GgufArrays; null for fixed-size types
    private final int size;

    private GgufValues(GgufValueType type, ByteBuffer raw, Object[] objects, int size) {
        this.type = type;
        this.raw = raw;
        this.objects = objects;
        this.size = size;
    }

    static GgufValues ofRaw(GgufValueType type, byte[] bytes) {
        return new GgufValues(type, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), null, bytes.length / type.size());
    }

    /** Takes ownership of the array: the caller must not keep or change it. */
    static GgufValues ofObjects(GgufValueType type, Object[] values) {
        return new GgufValues(type, null, values, values.length);
    }

    GgufValueType type() {
        return type;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Object get(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException(i);
        if (objects != null) return objects[i];
        return switch (type) {
            case FLOAT32 -> floatAt(i);
            case FLOAT64 -> raw.getDouble(i * 8);
            case BOOL -> raw.get(i) != 0;
            default -> longAt(i);
        };
    }

    /** Element i of an integer array, unsigned types zero-extended. */
    long longAt(int i) {
        int at = i * type.size();
        return switch (type) {
            case UINT8 -> Byte.toUnsignedInt(raw.get(at));
            case INT8 -> raw.get(at);
            case UINT16 -> Short.toUnsignedInt(raw.getShort(at));
            case INT16 -> raw.getShort(at);
            case UINT32 -> Integer.toUnsignedLong(raw.getInt(at));
            case INT32 -> raw.getInt(at);
            case UINT64, INT64 -> raw.getLong(at);
            default -> throw new IllegalStateException(type + " is not an integer type");
        };
    }

    /** Element i of a FLOAT32 array, without boxing. */
    float floatAt(int i) {
        return raw.getFloat(i * 4);
    }
}
