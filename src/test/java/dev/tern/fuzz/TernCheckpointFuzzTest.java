package dev.tern.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.format.TritPacking;
import java.nio.file.Path;
import java.util.Arrays;

/** Fuzzes the Tern checkpoint reader (layer table in metadata, packed codes, parameters) and the code packings. */
class TernCheckpointFuzzTest {
    private static final Path DIR = FuzzChecks.scratchDir("ternckpt");

    @FuzzTest(maxDuration = "10s")
    void read(byte[] input) {
        FuzzChecks.writeOrDelete(DIR.resolve(TernCheckpoint.FILE), input);
        FuzzChecks.parsesOrTernException(() -> {
            TernCheckpoint.isCheckpoint(DIR);
            TernCheckpoint.Contents c = TernCheckpoint.read(DIR);
            try (var file = c.file()) {
                for (QuantizedMatrix q : c.layers().values()) {
                    // Every accepted layer must be usable: dequantize touches every code, parameter and perm entry.
                    float[] w = q.dequantize();
                    if (w.length != (long) q.rows() * q.cols()) throw new AssertionError("dequantized size");
                    q.storageBits();
                }
                SafetensorsFuzzTest.touchAll(file);
            }
        });
    }

    /**
     * Unpacking takes untrusted bytes with trusted (already validated) dimensions; it must either refuse them with
     * IllegalArgumentException, its documented contract that TernCheckpoint turns into a TernException, or produce
     * codes in range that survive a pack/unpack round trip.
     */
    @FuzzTest(maxDuration = "10s")
    void packing(FuzzedDataProvider data) {
        int rows = data.consumeInt(-2, 40);
        int cols = data.consumeInt(-2, 200);
        int bits = data.consumeInt(-1, 33);
        boolean base3 = data.consumeBoolean();
        byte[] packed = data.consumeRemainingAsBytes();
        try {
            if (base3) {
                byte[] t = TritPacking.unpackBase3(packed, rows, cols);
                for (byte v : t) if (v < -1 || v > 1) throw new AssertionError("not a trit: " + v);
                if (!Arrays.equals(t, TritPacking.unpackBase3(TritPacking.packBase3(t, rows, cols), rows, cols))) {
                    throw new AssertionError("base-3 round trip changed the codes");
                }
            } else {
                byte[] c = TritPacking.unpackBits(packed, rows, cols, bits);
                for (byte v : c) if ((v & 0xff) >>> bits != 0) throw new AssertionError("code " + v + " exceeds " + bits + " bits");
                if (!Arrays.equals(c, TritPacking.unpackBits(TritPacking.packBits(c, rows, cols, bits), rows, cols, bits))) {
                    throw new AssertionError("bit round trip changed the codes");
                }
            }
        } catch (IllegalArgumentException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("no message", e);
        } catch (Throwable t) {
            throw new AssertionError("TritPacking threw " + t, t);
        }
    }
}
