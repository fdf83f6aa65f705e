package dev.tern.io.gguf;

import dev.tern.TernException;
import dev.tern.io.TensorSource;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A GGUF file (v2/v3), memory-mapped read-only; never copies tensor data onto the heap. */
public final class GgufFile implements TensorSource {
    /** Magic, version, tensor count, metadata count. */
    private static final int MIN_HEADER = 24;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final GgufParser.Header header;
    private final Map<String, GgufTensorInfo> byName;

    private GgufFile(Path path, Arena arena, MemorySegment file, GgufParser.Header header) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.header = header;
        Map<String, GgufTensorInfo> m = new LinkedHashMap<>();
        for (GgufTensorInfo t : header.tensors()) m.put(t.name(), t);
        this.byName = Collections.unmodifiableMap(m);
    }

    /** Maps the file and validates the whole header and every tensor's placement before returning; close() unmaps. */
    public static GgufFile open(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < MIN_HEADER) throw new TernException(file + ": too short for a GGUF header (" + size + " bytes)");
            Arena arena = Arena.ofShared();
            try {
                MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return new GgufFile(file, arena, all, GgufParser.parse(file.toString(), all));
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new TernException("missing " + file);
        } catch (IOException e) {
            throw new TernException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return header.version();
    }

    public long alignment() {
        return header.alignment();
    }

    /** Absolute file offset where the data section starts. */
    public long dataStart() {
        return header.dataStart();
    }

    /** Typed metadata; as a Map it is TensorSource's string view (scalars as text, arrays as "[array of N T]"). */
    @Override
    public GgufMetadata metadata() {
        return header.metadata();
    }

    /** In file order. */
    public List<GgufTensorInfo> tensors() {
        return header.tensors();
    }

    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = byName.get(name);
        if (t == null) throw new TernException(path + ": no tensor named '" + name + "'");
        return t;
    }

    /** The tensor's bytes, a slice of the mapping exactly info.bytes() long; valid until close(). */
    public MemorySegment data(String name) {
        GgufTensorInfo t = tensor(name);
        return file.asSlice(t.offset(), t.bytes());
    }

    /** Trits and scales of a TQ1_0/TQ2_0 matrix: rows = product of the outer dimensions, cols = the row length. */
    public GgmlCodec.Ternary ternary(String name) {
        GgufTensorInfo t = tensor(name);
        String where = path + ": tensor '" + name + "'";
        if (t.type() != GgmlType.TQ1_0 && t.type() != GgmlType.TQ2_0) {
            throw new TernException(where + " has type " + t.type() + ", not TQ1_0 or TQ2_0");
        }
        if (t.elements() > Integer.MAX_VALUE - 8) throw new TernException(where + " is too large for one trit array");
        int cols = (int) t.rowLength();
        int rows = (int) (t.elements() / cols);
        try {
            return GgmlCodec.decodeTernary(t.type(), data(name), rows, cols);
        } catch (TernException e) {
            throw new TernException(where + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Set<String> names() {
        return byName.keySet();
    }

    @Override
    public boolean has(String name) {
        return byName.containsKey(name);
    }

    @Override
    public long[] shape(String name) {
        return tensor(name).shape();
    }

    /** The GGML type's name: "F32", "F16", "BF16", "Q8_0", "TQ2_0", ... */
    @Override
    public String dtype(String name) {
        return tensor(name).type().name();
    }

    @Override
    public float[] floats(String name) {
        GgufTensorInfo t = tensor(name);
        String where = path + ": tensor '" + name + "'";
        if (!t.type().readable()) {
            throw new TernException(where + " has type " + t.type() + ", which Tern cannot read as floats (it reads F32, F16, BF16, Q8_0, TQ1_0, TQ2_0)");
        }
        if (t.elements() > Integer.MAX_VALUE - 8) {
            throw new TernException(where + ": " + t.elements() + " elements is too large for one float array");
        }
        float[] out = new float[(int) t.elements()];
        GgmlCodec.dequantize(t.type(), data(name), t.elements(), out, 0);
        return out;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
