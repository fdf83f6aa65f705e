package dev.tern.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tern.io.SafetensorsFile;
import dev.tern.io.TensorSource;
import java.nio.file.Path;

/** Fuzzes the safetensors reader: header length, header JSON, tensor table validation, then every tensor read. */
class SafetensorsFuzzTest {
    private static final Path DIR = FuzzChecks.scratchDir("safetensors");

    @FuzzTest(maxDuration = "10s")
    void open(byte[] input) {
        Path f = DIR.resolve("model.safetensors");
        FuzzChecks.writeOrDelete(f, input);
        FuzzChecks.parsesOrTernException(() -> {
            try (SafetensorsFile s = SafetensorsFile.open(f)) {
                s.aliases();
                s.storedNames().forEach(s::segment);
                touchAll(s);
            }
        });
    }

    /**
     * Reads every tensor's shape, dtype and, for float tensors, its values. A validated tensor lies inside the file,
     * so its float array is bounded by the (small) fuzz input; an allocation beyond that is a validation bug.
     */
    static void touchAll(TensorSource s) {
        s.metadata();
        for (String n : s.names()) {
            if (!s.has(n)) throw new AssertionError("names() lists '" + n + "' but has() denies it");
            long[] shape = s.shape(n);
            long numel = 1;
            for (long d : shape) {
                if (d < 0) throw new AssertionError("negative dimension in '" + n + "'");
                numel = Math.multiplyExact(numel, d);
            }
            String dtype = s.dtype(n);
            if (dtype.equals("F32") || dtype.equals("F16") || dtype.equals("BF16")) {
                float[] v = s.floats(n);
                if (v.length != numel) throw new AssertionError("'" + n + "' has " + v.length + " floats, shape says " + numel);
            } else {
                // Other dtypes must be refused with a TernException, not e.g. read as garbage floats.
                try {
                    s.floats(n);
                    throw new AssertionError("floats() accepted dtype " + dtype);
                } catch (dev.tern.TernException expected) {
                    // the documented refusal
                }
            }
        }
    }
}
