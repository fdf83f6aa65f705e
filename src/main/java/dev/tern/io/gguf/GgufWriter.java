package dev.tern.io.gguf;

import dev.tern.TernException;
import dev.tern.io.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes GGUF v3 files, streaming tensor data, atomically. */
public final class GgufWriter {
    /** Produces one tensor's bytes when the file is written, so only one tensor need exist at a time. */
    public interface TensorBytes {
        long size();

        void writeTo(WritableByteChannel out) throws IOException;

        static TensorBytes of(byte[] b) {
            return new TensorBytes() {
                @Override
                public long size() {
                    return b.length;
                }

                @Override
                public void writeTo(WritableByteChannel out) throws IOException {
                    writeFully(out, ByteBuffer.wrap(b));
                }
            };
        }

        /** Bytes of a segment, e.g. another GgufFile's data(name); read when written. */
        static TensorBytes of(MemorySegment s) {
            return new TensorBytes() {
                @Override
                public long size() {
                    return s.byteSize();
                }

                @Override
                public void writeTo(WritableByteChannel out) throws IOException {
                    long chunk = 1 << 20;
                    for (long at = 0; at < s.byteSize(); at += chunk) {
                        writeFully(out, s.asSlice(at, Math.min(chunk, s.byteSize() - at)).asByteBuffer());
                    }
                }
            };
        }
    }

    private record Tensor(String name, GgmlType type, long[] ne, TensorBytes data) {}

    private final LinkedHashMap<String, GgufMetadata.Value> kv = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
    private long alignment = GgufParser.DEFAULT_ALIGNMENT;

    /** Alignment 32; general.alignment is written only when set (putU32("general.alignment", a) or alignment(a)). */
    public GgufWriter() {}

    /** Sets the data alignment (a power of two) and records it as general.alignment. */
    public GgufWriter alignment(long a) {
        return putU32(GgufParser.ALIGNMENT_KEY, a);
    }

    public GgufWriter putString(String k, String v) {
        return put(k, GgufValueType.STRING, v);
    }

    public GgufWriter putU8(String k, int v) {
        return put(k, GgufValueType.UINT8, v);
    }

    public GgufWriter putI8(String k, int v) {
        return put(k, GgufValueType.INT8, v);
    }

    public GgufWriter putU16(String k, int v) {
        return put(k, GgufValueType.UINT16, v);
    }

    public GgufWriter putI16(String k, int v) {
        return put(k, GgufValueType.INT16, v);
    }

    public GgufWriter putU32(String k, long v) {
        return put(k, GgufValueType.UINT32, v);
    }

    public GgufWriter putI32(String k, int v) {
        return put(k, GgufValueType.INT32, v);
    }

    /** v's 64 bits, read as unsigned (so -1 is 2^64 - 1). */
    public GgufWriter putU64(String k, long v) {
        return put(k, GgufValueType.UINT64, v);
    }

    public GgufWriter putI64(String k, long v) {
        return put(k, GgufValueType.INT64, v);
    }

    public GgufWriter putF32(String k, float v) {
        return put(k, GgufValueType.FLOAT32, v);
    }

    public GgufWriter putF64(String k, double v) {
        return put(k, GgufValueType.FLOAT64, v);
    }

    public GgufWriter putBool(String k, boolean v) {
        return put(k, GgufValueType.BOOL, v);
    }

    public GgufWriter putStringArray(String k, List<String> v) {
        return putArray(k, new GgufArray(GgufValueType.STRING, v));
    }

    public GgufWriter putF32Array(String k, float[] v) {
        List<Float> l = new ArrayList<>(v.length);
        for (float f : v) l.add(f);
        return putArray(k, new GgufArray(GgufValueType.FLOAT32, l));
    }

    public GgufWriter putI32Array(String k, int[] v) {
        List<Long> l = new ArrayList<>(v.length);
        for (int i : v) l.add((long) i);
        return putArray(k, new GgufArray(GgufValueType.INT32, l));
    }

    /** Any array, nested ones included; elements as {@link GgufArray} documents them (any Number for numbers). */
    public GgufWriter putArray(String k, GgufArray v) {
        return put(k, GgufValueType.ARRAY, v);
    }

    private GgufWriter put(String k, GgufValueType type, Object v) {
        if (k == null || v == null) throw new IllegalArgumentException("metadata key and value must not be null");
        if (kv.containsKey(k)) throw new IllegalArgumentException("duplicate metadata key " + k);
        check(type, v, k);
        if (k.equals(GgufParser.ALIGNMENT_KEY)) {
            long a = type == GgufValueType.UINT32 ? ((Number) v).longValue() : 0;
            if (a == 0 || (a & (a - 1)) != 0) {
                throw new IllegalArgumentException(k + " must be a UINT32 power of two, got " + type + " " + v);
            }
            alignment = a;
        }
        kv.put(k, new GgufMetadata.Value(type, v));
        return this;
    }

    /** Refuses values the type cannot hold now, rather than writing a file that says something else. */
    private static void check(GgufValueType type, Object v, String k) {
        boolean ok = switch (type) {
            case UINT8 -> v instanceof Number n && n.longValue() >= 0 && n.longValue() <= 0xFF;
            case INT8 -> v instanceof Number n && n.longValue() == n.byteValue();
            case UINT16 -> v instanceof Number n && n.longValue() >= 0 && n.longValue() <= 0xFFFF;
            case INT16 -> v instanceof Number n && n.longValue() == n.shortValue();
            case UINT32 -> v instanceof Number n && n.longValue() >= 0 && n.longValue() <= 0xFFFF_FFFFL;
            case INT32 -> v instanceof Number n && n.longValue() == n.intValue();
            case UINT64, INT64 -> v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte;
            case FLOAT32, FLOAT64 -> v instanceof Number;
            case BOOL -> v instanceof Boolean;
            case STRING -> v instanceof String;
            case ARRAY -> v instanceof GgufArray;
        };
        if (!ok) throw new IllegalArgumentException("metadata key " + k + ": " + v + " is not a valid " + type);
        if (v instanceof GgufArray a) {
            for (Object e : a.values()) check(a.elementType(), e, k);
        }
    }

    /** shape outermost first, as Tern's tensors; the row length (last) must be whole blocks of the type. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorBytes data) {
        if (name == null || type == null || data == null) throw new IllegalArgumentException("null tensor argument");
        if (tensors.containsKey(name)) throw new IllegalArgumentException("duplicate tensor " + name);
        if (shape.length < 1 || shape.length > GgufParser.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + " has " + shape.length + " dimensions (1 to 4 allowed)");
        }
        long elements = 1;
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] <= 0) throw new IllegalArgumentException("tensor " + name + " has dimension " + shape[i]);
            elements = Math.multiplyExact(elements, shape[i]);
            ne[shape.length - 1 - i] = shape[i];
        }
        if (ne[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + " row length " + ne[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize());
        }
        long need = type.bytes(elements);
        if (data.size() != need) {
            throw new IllegalArgumentException("tensor " + name + ": " + java.util.Arrays.toString(shape) + " of " + type
                    + " is " + need + " bytes, data has " + data.size());
        }
        tensors.put(name, new Tensor(name, type, ne, data));
        return this;
    }

    /**
     * Header, metadata in insertion order, tensor infos, padding, then each tensor's data padded to the alignment;
     * to a temporary file that is renamed over {@code out} only when complete.
     */
    public void write(Path out) {
        AtomicFiles.writeChannel(out, this::writeTo);
    }

    /** The same bytes as write(Path) into any channel (not atomic: the caller owns the destination). */
    public void writeTo(WritableByteChannel ch) throws IOException {
        byte[] header = header();
        writeFully(ch, ByteBuffer.wrap(header));
        long at = header.length;
        at += pad(ch, at);
        for (Tensor t : tensors.values()) {
            Counting c = new Counting(ch);
            t.data.writeTo(c);
            if (c.count != t.data.size()) {
                throw new IOException("tensor " + t.name + " wrote " + c.count + " bytes, declared " + t.data.size());
            }
            at += c.count;
            at += pad(ch, at);
        }
    }

    /** The whole file in memory, for small files (tests, fuzz seeds). */
    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            writeTo(java.nio.channels.Channels.newChannel(bytes));
        } catch (IOException e) {
            throw new TernException("cannot encode GGUF: " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    private byte[] header() {
        Buf b = new Buf();
        b.u32(GgufParser.MAGIC).u32(3).u64(tensors.size()).u64(kv.size());
        for (Map.Entry<String, GgufMetadata.Value> e : kv.entrySet()) {
            b.string(e.getKey());
            b.u32(e.getValue().type().id());
            b.value(e.getValue().type(), e.getValue().value());
        }
        long offset = 0;
        for (Tensor t : tensors.values()) {
            b.string(t.name).u32(t.ne.length);
            for (long d : t.ne) b.u64(d);
            b.u32(t.type.id()).u64(offset);
            offset += padded(t.data.size());
        }
        return b.toByteArray();
    }

    private long padded(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    private long pad(WritableByteChannel ch, long at) throws IOException {
        int n = (int) (padded(at) - at);
        if (n > 0) writeFully(ch, ByteBuffer.allocate(n));
        return n;
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Counts what a TensorBytes writes, so a producer that lies about its size cannot shift later tensors. */
    private static final class Counting implements WritableByteChannel {
        private final WritableByteChannel out;
        long count;

        Counting(WritableByteChannel out) {
            this.out = out;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = out.write(src);
            count += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return out.isOpen();
        }

        @Override
        public void close() {
            // The file's channel belongs to the writer.
        }
    }

    /** Little-endian header bytes. */
    private static final class Buf extends ByteArrayOutputStream {
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        Buf u32(long v) {
            scratch.clear();
            write(scratch.putInt((int) v).array(), 0, 4);
            return this;
        }

        Buf u64(long v) {
            scratch.clear();
            write(scratch.putLong(v).array(), 0, 8);
            return this;
        }

        Buf string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
            return this;
        }

        void value(GgufValueType type, Object v) {
            switch (type) {
                case UINT8, INT8 -> write(((Number) v).intValue());
                case UINT16, INT16 -> {
                    int x = ((Number) v).intValue();
                    write(x);
                    write(x >>> 8);
                }
                case UINT32, INT32 -> u32(((Number) v).longValue());
                case UINT64, INT64 -> u64(((Number) v).longValue());
                case FLOAT32 -> u32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case FLOAT64 -> u64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case BOOL -> write((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> {
                    GgufArray a = (GgufArray) v;
                    u32(a.elementType().id()).u64(a.size());
                    for (Object e : a.values()) value(a.elementType(), e);
                }
            }
        }
    }
}
