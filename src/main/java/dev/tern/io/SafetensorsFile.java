package dev.tern.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TernException;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** A memory-mapped, strictly validated safetensors file. */
public final class SafetensorsFile implements TensorSource {
    /** Same cap as the reference implementation: a bigger header is corrupt or hostile. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One validated header entry; offsets are relative to the start of the data region. */
    record Entry(String name, Dtype dtype, long[] shape, long numel, long begin, long end) {}

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final Map<String, String> aliases;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, Map<String, Entry> entries,
            Map<String, String> metadata, Map<String, String> aliases) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
        this.aliases = aliases;
    }

    /** Validates the header, then maps the file read-only; close() unmaps it. */
    public static SafetensorsFile open(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(path, "file too short for a safetensors header (" + size + " bytes)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            // Compare unsigned: a length with the top bit set is a huge value, not a negative one.
            if (Long.compareUnsigned(headerLen, size - 8) > 0) {
                throw bad(path, "header length " + Long.toUnsignedString(headerLen) + " exceeds the file size ("
                        + size + " bytes)");
            }
            if (headerLen > MAX_HEADER_BYTES) {
                throw bad(path, "header length " + headerLen + " exceeds the 100 MB limit");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            long dataSize = size - 8 - headerLen;
            Parsed p = parseHeader(path, header.array(), dataSize);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return new SafetensorsFile(path, arena, all.asSlice(8 + headerLen, dataSize), p.entries, p.metadata,
                        p.aliases);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new TernException("missing " + path);
        } catch (EOFException e) {
            throw bad(path, "file shrank while reading the header");
        } catch (IOException e) {
            throw new TernException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private record Parsed(Map<String, Entry> entries, Map<String, String> metadata, Map<String, String> aliases) {}

    private static Parsed parseHeader(Path path, byte[] header, long dataSize) {
        JsonNode root;
        try {
            ObjectMapper om = new ObjectMapper()
                    .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
            root = om.readTree(header);
        } catch (IOException e) {
            throw bad(path, "header is not valid JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) throw bad(path, "header is not a JSON object");
        Map<String, Entry> entries = new TreeMap<>();
        Map<String, String> metadata = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw bad(path, "__metadata__ is not a JSON object");
                v.fields().forEachRemaining(m -> {
                    if (!m.getValue().isTextual()) {
                        throw bad(path, "__metadata__ value for '" + m.getKey() + "' is not a string");
                    }
                    metadata.put(m.getKey(), m.getValue().textValue());
                });
                continue;
            }
            entries.put(name, parseEntry(path, name, v, dataSize));
        }
        checkNoOverlap(path, entries.values());
        // Tied weights are stored once; the metadata maps the dropped name to the stored one.
        Map<String, String> aliases = new TreeMap<>();
        metadata.forEach((k, target) -> {
            if (!entries.containsKey(k) && entries.containsKey(target)) aliases.put(k, target);
        });
        return new Parsed(Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata),
                Collections.unmodifiableMap(aliases));
    }

    private static Entry parseEntry(Path path, String name, JsonNode v, long dataSize) {
        String where = "tensor '" + name + "'";
        if (!v.isObject()) throw bad(path, where + " is not a JSON object");
        JsonNode dt = v.get("dtype");
        if (dt == null || !dt.isTextual()) throw bad(path, where + " has no dtype string");
        Dtype dtype = Dtype.parse(dt.textValue(), path + ": " + where);
        JsonNode sh = v.get("shape");
        if (sh == null || !sh.isArray()) throw bad(path, where + " has no shape array");
        long[] shape = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(path, where + " shape", sh.get(i));
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException e) {
                throw bad(path, where + " shape " + sh + " overflows (element count too large)");
            }
        }
        long nbytes;
        try {
            nbytes = Math.multiplyExact(numel, (long) dtype.bytes());
        } catch (ArithmeticException e) {
            throw bad(path, where + " shape " + sh + " overflows (byte size too large)");
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2) {
            throw bad(path, where + " has no data_offsets [begin, end]");
        }
        long begin = nonNegativeLong(path, where + " data_offsets", off.get(0));
        long end = nonNegativeLong(path, where + " data_offsets", off.get(1));
        if (begin > end) throw bad(path, where + " data_offsets " + off + " has begin > end");
        if (end > dataSize) {
            throw bad(path, where + " data_offsets " + off + " point past the data (" + dataSize + " bytes)");
        }
        if (end - begin != nbytes) {
            throw bad(path, where + " size mismatch: data_offsets " + off + " span " + (end - begin)
                    + " bytes but shape " + sh + " of " + dtype + " needs " + nbytes);
        }
        return new Entry(name, dtype, shape, numel, begin, end);
    }

    private static long nonNegativeLong(Path path, String where, JsonNode n) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
            throw bad(path, where + " must hold non-negative integers, got " + n);
        }
        return n.longValue();
    }

    private static void checkNoOverlap(Path path, Iterable<Entry> all) {
        List<Entry> sorted = new ArrayList<>();
        all.forEach(e -> {
            if (e.end > e.begin) sorted.add(e); // empty tensors occupy no bytes
        });
        sorted.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < sorted.size(); i++) {
            Entry a = sorted.get(i - 1), b = sorted.get(i);
            if (b.begin < a.end) {
                throw bad(path, "tensors '" + a.name + "' and '" + b.name + "' overlap in the data region");
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) throw new EOFException();
        }
    }

    static TernException bad(Path path, String problem) {
        return new TernException(path + ": " + problem);
    }

    static String firstLine(String s) {
        if (s == null) return "unreadable";
        int i = s.indexOf('\n');
        String line = i < 0 ? s : s.substring(0, i);
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    public Path path() {
        return path;
    }

    /** Tensors physically present in the file (no tied aliases). */
    public Set<String> storedNames() {
        return entries.keySet();
    }

    /** Tied aliases from __metadata__: alias name to stored tensor name. */
    public Map<String, String> aliases() {
        return aliases;
    }

    @Override
    public Set<String> names() {
        Set<String> all = new TreeSet<>(entries.keySet());
        all.addAll(aliases.keySet());
        return Collections.unmodifiableSet(all);
    }

    @Override
    public boolean has(String name) {
        return entries.containsKey(name) || aliases.containsKey(name);
    }

    Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            String target = aliases.get(name);
            if (target != null) e = entries.get(target);
        }
        if (e == null) throw bad(path, "no tensor named '" + name + "'");
        return e;
    }

    @Override
    public long[] shape(String name) {
        return entry(name).shape.clone();
    }

    @Override
    public String dtype(String name) {
        return entry(name).dtype.name();
    }

    /** Raw little-endian bytes of a tensor; valid until close(). */
    public MemorySegment segment(String name) {
        Entry e = entry(name);
        return data.asSlice(e.begin, e.end - e.begin);
    }

    @Override
    public float[] floats(String name) {
        Entry e = entry(name);
        return toFloats(segment(name), e.dtype, e.numel, path + ": tensor '" + name + "'");
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    /** Converts little-endian F32/F16/BF16 bytes to a float array. */
    static float[] toFloats(MemorySegment seg, Dtype dtype, long numel, String where) {
        if (!dtype.isFloat16or32()) throw new TernException(where + ": dtype " + dtype + " cannot be read as floats");
        if (numel > Integer.MAX_VALUE - 8) {
            throw new TernException(where + ": " + numel + " elements is too large for one float array");
        }
        int n = (int) numel;
        float[] out = new float[n];
        if (dtype == Dtype.F32) {
            MemorySegment.copy(seg, F32_LE, 0, out, 0, n);
            return out;
        }
        // Convert in chunks so a large tensor never needs a second full-size short[] buffer.
        short[] buf = new short[Math.min(n, 1 << 16)];
        for (int start = 0; start < n; start += buf.length) {
            int len = Math.min(buf.length, n - start);
            MemorySegment.copy(seg, I16_LE, 2L * start, buf, 0, len);
            if (dtype == Dtype.F16) {
                for (int i = 0; i < len; i++) out[start + i] = Float.float16ToFloat(buf[i]);
            } else {
                for (int i = 0; i < len; i++) out[start + i] = Float.intBitsToFloat(buf[i] << 16);
            }
        }
        return out;
    }
}
