package dev.tern.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tern.TernException;
import dev.tern.io.gguf.GgmlType;
import dev.tern.io.gguf.GgufArray;
import dev.tern.io.gguf.GgufFile;
import dev.tern.io.gguf.GgufMetadata;
import dev.tern.io.gguf.GgufTensorInfo;
import dev.tern.io.gguf.GgufValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Fuzzes the GGUF reader: header, metadata of every type, tensor table validation, then every tensor and value read. */
class GgufFuzzTest {
    private static final Path DIR = FuzzChecks.scratchDir("gguf");

    @FuzzTest(maxDuration = "10s")
    void open(byte[] input) {
        Path f = DIR.resolve("model.gguf");
        FuzzChecks.writeOrDelete(f, input);
        FuzzChecks.parsesOrTernException(() -> {
            try (GgufFile g = GgufFile.open(f)) {
                long size = Files.size(f);
                touchMetadata(g.metadata());
                checkPlacement(g, size);
                touchTensors(g);
            }
        });
    }

    /** Every accessor on every key; a wrong-type read must be a TernException, which the caller accepts. */
    static void touchMetadata(GgufMetadata m) {
        m.asStrings();
        for (String k : m.keys()) {
            GgufValueType t = m.type(k);
            if (m.get(k) == null) throw new AssertionError("asStrings lacks " + k);
            switch (t) {
                case STRING -> m.requireString(k);
                case BOOL -> m.requireBool(k);
                case FLOAT32, FLOAT64 -> m.requireNumber(k);
                case ARRAY -> touchArray(m, k);
                default -> {
                    m.requireNumber(k);
                    if (t != GgufValueType.UINT64) m.requireInteger(k);
                }
            }
        }
    }

    private static void touchArray(GgufMetadata m, String k) {
        GgufArray a = m.array(k).orElseThrow();
        if (a.elementType() != m.arrayElementType(k)) throw new AssertionError("element type of " + k);
        walk(a);
        switch (a.elementType()) {
            case STRING -> m.stringArray(k).size();
            case FLOAT32 -> m.floatArray(k);
            case UINT8, INT8, UINT16, INT16, INT32 -> m.intArray(k);
            case UINT32, UINT64, INT64 -> m.longArray(k);
            default -> { }
        }
    }

    private static void walk(GgufArray a) {
        for (Object o : a.values()) {
            if (o instanceof GgufArray inner) walk(inner);
        }
    }

    /** What open() promises: every tensor inside the file, aligned, none overlapping, data slices exactly sized. */
    static void checkPlacement(GgufFile g, long size) {
        List<GgufTensorInfo> sorted = new ArrayList<>(g.tensors());
        sorted.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        long end = g.dataStart();
        for (GgufTensorInfo t : sorted) {
            if (t.offset() < end) throw new AssertionError("tensor '" + t.name() + "' overlaps or precedes the data");
            if ((t.offset() - g.dataStart()) % g.alignment() != 0) throw new AssertionError("misaligned " + t.name());
            if (t.bytes() != t.type().bytes(t.elements())) throw new AssertionError("byte size of " + t.name());
            end = t.offset() + t.bytes();
            if (end > size) throw new AssertionError("tensor '" + t.name() + "' ends past the file");
            if (g.data(t.name()).byteSize() != t.bytes()) throw new AssertionError("slice size of " + t.name());
        }
    }

    static void touchTensors(GgufFile g) {
        for (String n : g.names()) {
            if (!g.has(n)) throw new AssertionError("names() lists '" + n + "' but has() denies it");
            GgufTensorInfo t = g.tensor(n);
            long numel = 1;
            for (long d : g.shape(n)) numel = Math.multiplyExact(numel, d);
            if (!g.dtype(n).equals(t.type().name())) throw new AssertionError("dtype of " + n);
            if (t.type().readable()) {
                float[] v = g.floats(n);
                if (v.length != numel) throw new AssertionError("'" + n + "' has " + v.length + " floats, shape says " + numel);
            } else {
                try {
                    g.floats(n);
                    throw new AssertionError("floats() accepted type " + t.type());
                } catch (TernException expected) {
                    // the documented refusal
                }
            }
            if (t.type() == GgmlType.TQ1_0 || t.type() == GgmlType.TQ2_0) {
                try {
                    if (g.ternary(n).trits().length != numel) throw new AssertionError("trit count of " + n);
                } catch (TernException e) {
                    // a TQ2_0 code 3 is refused as a trit; anything else must not happen
                    if (!e.getMessage().contains("code 3")) throw e;
                }
            }
        }
    }
}
