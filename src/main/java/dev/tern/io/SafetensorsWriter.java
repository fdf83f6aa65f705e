package dev.tern.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds a safetensors file from named arrays with deterministic bytes (sorted tensors, sorted header keys).
 * Arrays are referenced, not copied, until {@link #write}; f16/bf16 conversion happens while writing.
 */
public final class SafetensorsWriter {
    private final Map<String, Pending> tensors = new TreeMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    /** Puts elements [from, from + n) of one tensor into a little-endian buffer that has room for them. */
    private interface Encoder {
        void put(ByteBuffer buf, int from, int n);
    }

    private record Pending(Dtype dtype, long[] shape, int count, Encoder enc) {
        long nbytes() {
            return (long) count * dtype.bytes();
        }
    }

    public SafetensorsWriter putMetadata(String key, String value) {
        if (key == null || value == null) throw new IllegalArgumentException("metadata key/value must not be null");
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter putMetadata(Map<String, String> all) {
        all.forEach(this::putMetadata);
        return this;
    }

    public SafetensorsWriter addF32(String name, long[] shape, float[] data) {
        return add(name, Dtype.F32, shape, data.length, (b, from, n) -> {
            b.asFloatBuffer().put(data, from, n);
            b.position(b.position() + 4 * n);
        });
    }

    /** Stores as IEEE half precision (round to nearest even, as Float.floatToFloat16). */
    public SafetensorsWriter addF16(String name, long[] shape, float[] data) {
        return add(name, Dtype.F16, shape, data.length, (b, from, n) -> {
            for (int i = from; i < from + n; i++) b.putShort(Float.floatToFloat16(data[i]));
        });
    }

    /** Stores as bfloat16, rounding to nearest even. */
    public SafetensorsWriter addBF16(String name, long[] shape, float[] data) {
        return add(name, Dtype.BF16, shape, data.length, (b, from, n) -> {
            for (int i = from; i < from + n; i++) b.putShort(toBf16(data[i]));
        });
    }

    public SafetensorsWriter addF16Bits(String name, long[] shape, short[] bits) {
        return add(name, Dtype.F16, shape, bits.length, shorts(bits));
    }

    public SafetensorsWriter addBF16Bits(String name, long[] shape, short[] bits) {
        return add(name, Dtype.BF16, shape, bits.length, shorts(bits));
    }

    public SafetensorsWriter addI16(String name, long[] shape, short[] data) {
        return add(name, Dtype.I16, shape, data.length, shorts(data));
    }

    /** Unsigned 16-bit values, given as the low 16 bits of each int (0..65535). */
    public SafetensorsWriter addU16(String name, long[] shape, int[] data) {
        short[] bits = new short[data.length];
        for (int i = 0; i < data.length; i++) {
            if (data[i] < 0 || data[i] > 0xFFFF) throw new IllegalArgumentException("U16 value " + data[i] + " out of range");
            bits[i] = (short) data[i];
        }
        return add(name, Dtype.U16, shape, bits.length, shorts(bits));
    }

    public SafetensorsWriter addI32(String name, long[] shape, int[] data) {
        return add(name, Dtype.I32, shape, data.length, (b, from, n) -> {
            b.asIntBuffer().put(data, from, n);
            b.position(b.position() + 4 * n);
        });
    }

    public SafetensorsWriter addI64(String name, long[] shape, long[] data) {
        return add(name, Dtype.I64, shape, data.length, (b, from, n) -> {
            b.asLongBuffer().put(data, from, n);
            b.position(b.position() + 8 * n);
        });
    }

    public SafetensorsWriter addU8(String name, long[] shape, byte[] data) {
        return add(name, Dtype.U8, shape, data.length, (b, from, n) -> b.put(data, from, n));
    }

    public SafetensorsWriter addI8(String name, long[] shape, byte[] data) {
        return add(name, Dtype.I8, shape, data.length, (b, from, n) -> b.put(data, from, n));
    }

    private SafetensorsWriter add(String name, Dtype dtype, long[] shape, int count, Encoder enc) {
        if (name == null || name.isEmpty() || name.equals("__metadata__")) {
            throw new IllegalArgumentException("invalid tensor name '" + name + "'");
        }
        if (tensors.containsKey(name)) throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        long numel = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            numel = Math.multiplyExact(numel, d);
        }
        if (numel != count) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds "
                    + numel + " elements but data has " + count);
        }
        tensors.put(name, new Pending(dtype, shape.clone(), count, enc));
        return this;
    }

    private static Encoder shorts(short[] data) {
        return (b, from, n) -> {
            b.asShortBuffer().put(data, from, n);
            b.position(b.position() + 2 * n);
        };
    }

    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40); // keep it a (quiet) NaN after truncation
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** Header JSON padded with spaces so the data region starts 8-byte aligned. */
    private byte[] header() {
        Map<String, Object> root = new TreeMap<>();
        if (!metadata.isEmpty()) root.put("__metadata__", metadata);
        long offset = 0;
        for (Map.Entry<String, Pending> e : tensors.entrySet()) {
            Pending p = e.getValue();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", p.dtype.name());
            entry.put("shape", p.shape);
            entry.put("data_offsets", List.of(offset, offset + p.nbytes()));
            offset += p.nbytes();
            root.put(e.getKey(), entry);
        }
        byte[] json;
        try {
            json = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Writes the whole file to a stream (which is not closed). */
    public void writeTo(OutputStream os) throws IOException {
        byte[] header = header();
        ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length);
        os.write(buf.array(), 0, 8);
        os.write(header);
        buf.clear();
        for (Pending p : tensors.values()) {
            for (int i = 0; i < p.count; ) {
                int n = Math.min(p.count - i, buf.remaining() / p.dtype.bytes());
                if (n == 0) {
                    os.write(buf.array(), 0, buf.position());
                    buf.clear();
                    continue;
                }
                p.enc.put(buf, i, n);
                i += n;
            }
        }
        os.write(buf.array(), 0, buf.position());
    }

    /** Writes atomically: the target either keeps its old content or holds the complete new file. */
    public void write(Path target) {
        AtomicFiles.write(target, this::writeTo);
    }

    /** The file as bytes; for small files and tests. */
    public byte[] toBytes() {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try {
            writeTo(bos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.toByteArray();
    }

}
