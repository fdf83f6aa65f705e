package dev.tern.io.gguf;

import dev.tern.TernException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * Reads and validates a GGUF header from a mapped file. Every length and count is checked against the bytes left
 * before anything is allocated, so a hostile header costs at most about its own size in memory.
 */
final class GgufParser {
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    static final int DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Keys and tensor names are identifiers; llama.cpp itself caps tensor names at 64 bytes. */
    static final int MAX_NAME_BYTES = 64 * 1024;
    /** The longest real strings are chat templates of tens of KB; beyond this a length is corrupt or hostile. */
    static final int MAX_STRING_BYTES = 16 * 1024 * 1024;
    /** Nesting of arrays inside arrays; real files use at most two levels. */
    static final int MAX_ARRAY_DEPTH = 8;
    /**
     * Non-empty strings (keys, values, tensor names) and arrays in the whole header. Each costs a few times its file
     * bytes on the heap, so a header of millions of tiny strings would need gigabytes; real vocabularies and merge
     * lists hold well under a million.
     */
    static final int MAX_OBJECTS = 4 << 20;
    /** Tensors per file; the largest real models have a few thousand. */
    static final int MAX_TENSORS = 1 << 20;
    /** Smallest tensor info: empty name (8), n_dims (4), one dimension (8), type (4), offset (8). */
    static final int MIN_TENSOR_INFO = 32;
    /** Smallest key/value: empty key (8), value type (4), one-byte value. */
    static final int MIN_KV = 13;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    record Header(int version, long alignment, GgufMetadata metadata, List<GgufTensorInfo> tensors, long dataStart) {}

    private final String source;
    private final MemorySegment seg;
    private final long size;
    private long pos;
    private long objects;

    private GgufParser(String source, MemorySegment seg) {
        this.source = source;
        this.seg = seg;
        this.size = seg.byteSize();
    }

    static Header parse(String source, MemorySegment file) {
        return new GgufParser(source, file).header();
    }

    private Header header() {
        if (size < 4 || seg.get(U32, 0) != MAGIC) throw bad("not a GGUF file (no \"GGUF\" magic at the start)");
        pos = 4;
        int version = u32("the version");
        if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
            throw bad("big-endian GGUF (version " + Integer.reverseBytes(version) + " byte-swapped); Tern reads little-endian files only");
        }
        if (version != 2 && version != 3) {
            throw bad("unsupported GGUF version " + Integer.toUnsignedString(version) + " (Tern reads versions 2 and 3)");
        }
        long tensorCount = u64("the tensor count");
        long kvCount = u64("the metadata count");
        long left = size - pos;
        // Unsigned compares: a count with the top bit set is huge, not negative.
        if (Long.compareUnsigned(kvCount, left / MIN_KV) > 0) {
            throw bad("metadata count " + Long.toUnsignedString(kvCount) + " cannot fit in the " + left + " bytes left");
        }
        if (Long.compareUnsigned(tensorCount, (left - kvCount * MIN_KV) / MIN_TENSOR_INFO) > 0) {
            throw bad("tensor count " + Long.toUnsignedString(tensorCount) + " cannot fit in the " + left + " bytes left");
        }
        if (tensorCount > MAX_TENSORS) throw bad("tensor count " + tensorCount + " exceeds the limit of " + MAX_TENSORS);
        LinkedHashMap<String, GgufMetadata.Value> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string(MAX_NAME_BYTES, "metadata key " + i);
            if (kv.containsKey(key)) throw bad("duplicate metadata key " + key);
            GgufValueType type = valueType("metadata key " + key);
            kv.put(key, new GgufMetadata.Value(type, value(type, key, 0)));
        }
        long alignment = alignment(kv.get(ALIGNMENT_KEY));
        List<Pending> pending = new ArrayList<>((int) Math.min(tensorCount, 1 << 16));
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            Pending p = tensorInfo(i);
            if (!names.add(p.name)) throw bad("duplicate tensor name '" + p.name + "'");
            pending.add(p);
        }
        long dataStart = roundUp(pos, alignment);
        List<GgufTensorInfo> tensors = new ArrayList<>(pending.size());
        for (Pending p : pending) tensors.add(place(p, dataStart, alignment));
        checkNoOverlap(tensors);
        return new Header(version, alignment, new GgufMetadata(source, kv), List.copyOf(tensors), dataStart);
    }

    private record Pending(String name, GgmlType type, long[] ne, long relOffset, long bytes) {}

    private Pending tensorInfo(long index) {
        String name = string(MAX_NAME_BYTES, "the name of tensor " + index);
        String where = "tensor '" + name + "'";
        int nDims = u32("the dimension count of " + where);
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw bad(where + " has " + Integer.toUnsignedString(nDims) + " dimensions (1 to " + MAX_DIMS + " allowed)");
        }
        long[] ne = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            ne[d] = u64("the dimensions of " + where);
            if (ne[d] <= 0) throw bad(where + " has dimension " + Long.toUnsignedString(ne[d]) + " (must be positive)");
            try {
                elements = Math.multiplyExact(elements, ne[d]);
            } catch (ArithmeticException e) {
                throw bad(where + " has too many elements (the dimensions overflow)");
            }
        }
        int typeId = u32("the type of " + where);
        GgmlType type = GgmlType.byId(typeId);
        if (type == null) throw bad(where + " has unknown GGML tensor type " + Integer.toUnsignedString(typeId));
        if (ne[0] % type.blockSize() != 0) {
            throw bad(where + " row length " + ne[0] + " is not a multiple of the " + type + " block size "
                    + type.blockSize());
        }
        long bytes;
        try {
            bytes = type.bytes(elements);
        } catch (TernException e) {
            throw bad(where + " is too large (its byte size overflows)");
        }
        long rel = u64("the offset of " + where);
        return new Pending(name, type, ne, rel, bytes);
    }

    /** Absolute placement of a tensor, checked to be aligned and inside the file. */
    private GgufTensorInfo place(Pending p, long dataStart, long alignment) {
        String where = "tensor '" + p.name + "'";
        if (Long.remainderUnsigned(p.relOffset, alignment) != 0) {
            throw bad(where + " offset " + Long.toUnsignedString(p.relOffset) + " is not a multiple of the alignment "
                    + alignment);
        }
        if (Long.compareUnsigned(p.relOffset, size) > 0 || dataStart + p.relOffset > size
                || p.bytes > size - (dataStart + p.relOffset)) {
            throw bad(where + " data (" + p.bytes + " bytes at data offset " + Long.toUnsignedString(p.relOffset)
                    + ") runs past the end of the file (" + size + " bytes)");
        }
        return new GgufTensorInfo(p.name, p.type, p.ne, dataStart + p.relOffset, p.bytes);
    }

    private void checkNoOverlap(List<GgufTensorInfo> tensors) {
        List<GgufTensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        for (int i = 1; i < sorted.size(); i++) {
            GgufTensorInfo a = sorted.get(i - 1), b = sorted.get(i);
            if (b.offset() < a.offset() + a.bytes()) {
                throw bad("tensors '" + a.name() + "' and '" + b.name() + "' overlap in the data section");
            }
        }
    }

    private long alignment(GgufMetadata.Value v) {
        if (v == null) return DEFAULT_ALIGNMENT;
        // gguf-py refuses any other type for this key, and so does Tern: the data layout depends on it.
        if (v.type() != GgufValueType.UINT32) throw bad(ALIGNMENT_KEY + " has type " + v.type() + ", expected UINT32");
        long a = (Long) v.value();
        if (a == 0 || (a & (a - 1)) != 0) throw bad(ALIGNMENT_KEY + " " + a + " is not a power of two");
        return a;
    }

    private GgufValueType valueType(String where) {
        int id = u32("the value type of " + where);
        if (id < 0 || id >= GgufValueType.values().length) {
            throw bad(where + " has unknown value type " + Integer.toUnsignedString(id));
        }
        return GgufValueType.of(id);
    }

    private Object value(GgufValueType type, String key, int depth) {
        String where = "metadata key " + key;
        return switch (type) {
            case UINT8 -> (long) Byte.toUnsignedInt(bytes(1, where)[0]);
            case INT8 -> (long) bytes(1, where)[0];
            case UINT16 -> {
                need(2, where);
                long v = Short.toUnsignedInt(seg.get(U16, pos));
                pos += 2;
                yield v;
            }
            case INT16 -> {
                need(2, where);
                long v = seg.get(U16, pos);
                pos += 2;
                yield v;
            }
            case UINT32 -> Integer.toUnsignedLong(u32(where));
            case INT32 -> (long) u32(where);
            case UINT64, INT64 -> u64(where);
            case FLOAT32 -> Float.intBitsToFloat(u32(where));
            case FLOAT64 -> Double.longBitsToDouble(u64(where));
            case BOOL -> bool(bytes(1, where)[0], where);
            case STRING -> string(MAX_STRING_BYTES, where);
            case ARRAY -> array(key, depth);
        };
    }

    private boolean bool(byte b, String where) {
        if (b != 0 && b != 1) throw bad(where + " has BOOL value " + b + " (must be 0 or 1)");
        return b == 1;
    }

    private GgufArray array(String key, int depth) {
        String where = "metadata key " + key;
        if (depth >= MAX_ARRAY_DEPTH) throw bad(where + " nests arrays deeper than " + MAX_ARRAY_DEPTH + " levels");
        countObject();
        GgufValueType elem = valueType("the array elements of " + where);
        long count = u64("the array length of " + where);
        long left = size - pos;
        if (Long.compareUnsigned(count, left / elem.minSize()) > 0) {
            throw bad(where + " array of " + Long.toUnsignedString(count) + " " + elem + " cannot fit in the " + left
                    + " bytes left");
        }
        if (count > Integer.MAX_VALUE - 8) throw bad(where + " array of " + count + " elements is too long");
        int n = (int) count;
        if (elem == GgufValueType.STRING || elem == GgufValueType.ARRAY) {
            // Checked before the element array is allocated; each element then counts itself.
            if (objects + n > MAX_OBJECTS) throw tooManyObjects();
            Object[] items = new Object[n];
            for (int i = 0; i < n; i++) {
                items[i] = elem == GgufValueType.STRING ? string(MAX_STRING_BYTES, where) : array(key, depth + 1);
            }
            return new GgufArray(elem, GgufValues.ofObjects(elem, items));
        }
        byte[] raw = bytes(n * elem.size(), where); // n * size <= left, checked above
        if (elem == GgufValueType.BOOL) {
            for (byte b : raw) bool(b, where);
        }
        return new GgufArray(elem, GgufValues.ofRaw(elem, raw));
    }

    private String string(int cap, String what) {
        long len = u64("the length of " + what);
        if (Long.compareUnsigned(len, size - pos) > 0) {
            throw bad("string length " + Long.toUnsignedString(len) + " of " + what + " runs past the end of the file");
        }
        if (len > cap) throw bad("string length " + len + " of " + what + " exceeds the " + cap + "-byte limit");
        if (len == 0) return ""; // shared: empty strings cost no heap beyond their reference
        countObject();
        byte[] b = bytes((int) len, what);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw bad(what + " is not valid UTF-8");
        }
    }

    private void countObject() {
        if (++objects > MAX_OBJECTS) throw tooManyObjects();
    }

    private TernException tooManyObjects() {
        return bad("more than " + MAX_OBJECTS + " strings and arrays in the header");
    }

    private byte[] bytes(int n, String what) {
        need(n, what);
        byte[] b = seg.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return b;
    }

    private int u32(String what) {
        need(4, what);
        int v = seg.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64(String what) {
        need(8, what);
        long v = seg.get(U64, pos);
        pos += 8;
        return v;
    }

    private void need(long n, String what) {
        if (n > size - pos) throw bad("truncated: " + what + " at offset " + pos + " runs past the end of the file (" + size + " bytes)");
    }

    private static long roundUp(long x, long alignment) {
        return (x + alignment - 1) & -alignment;
    }

    private TernException bad(String problem) {
        return new TernException(source + ": " + problem);
    }
}
