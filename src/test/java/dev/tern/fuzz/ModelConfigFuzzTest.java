package dev.tern.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tern.model.ModelConfig;
import java.nio.file.Path;

/** Fuzzes config.json parsing and checks that an accepted config has sizes a model could be built from. */
class ModelConfigFuzzTest {
    private static final Path DIR = FuzzChecks.scratchDir("config");

    @FuzzTest(maxDuration = "10s")
    void read(byte[] input) {
        Path f = DIR.resolve("config.json");
        FuzzChecks.writeOrDelete(f, input);
        FuzzChecks.parsesOrTernException(() -> {
            ModelConfig c = ModelConfig.read(f);
            checkSane(c);
            // What Tern writes for a config must read back as the same config.
            ModelConfig again = ModelConfig.fromJson(c.toJson(), "round trip");
            if (!again.equals(c)) throw new AssertionError("toJson/fromJson changed " + c + " into " + again);
        });
    }

    /**
     * Derived sizes drive allocations (q/k/v projections, the RoPE table), so an accepted config must keep them
     * positive, free of int overflow and finite.
     */
    static void checkSane(ModelConfig c) {
        long q = (long) c.numHeads() * c.headDim();
        long rope = (long) c.maxPositions() * c.headDim() / 2;
        if (c.qDim() != q || q <= 0 || q > 1 << 20) throw new AssertionError("q dim " + q + " out of range: " + c);
        if ((long) c.numKvHeads() * c.headDim() != c.kvDim()) throw new AssertionError("kv dim overflows: " + c);
        if (rope > 1L << 27) throw new AssertionError("RoPE table of " + rope + " floats: " + c);
        if (!(c.ropeTheta() > 0) || Double.isInfinite(c.ropeTheta())) throw new AssertionError("rope_theta: " + c);
        if (!(c.rmsNormEps() >= 0) || Double.isInfinite(c.rmsNormEps())) throw new AssertionError("rms_norm_eps: " + c);
        ModelConfig.RopeScaling s = c.ropeScaling();
        if (s != null && !(s.factor() > 0 && s.lowFreqFactor() > 0 && s.highFreqFactor() > s.lowFreqFactor()
                && Double.isFinite(s.factor()) && Double.isFinite(s.highFreqFactor()) && s.originalMaxPositions() > 0)) {
            throw new AssertionError("rope_scaling: " + c);
        }
    }
}
