package dev.tern.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tern.io.ShardedSafetensors;
import java.nio.file.Path;
import java.util.List;

/**
 * Fuzzes the sharded reader: the index JSON (weight_map, shard names that become paths) and its cross-checks against
 * two shard files. Input: index.json, shard 1, shard 2, joined by {@link FuzzInput#SEPARATOR}; a missing part means a
 * missing file.
 */
class ShardedSafetensorsFuzzTest {
    static final String SHARD1 = "model-00001-of-00002.safetensors";
    static final String SHARD2 = "model-00002-of-00002.safetensors";
    private static final Path DIR = FuzzChecks.scratchDir("sharded");

    @FuzzTest(maxDuration = "10s")
    void open(byte[] input) {
        List<byte[]> parts = FuzzInput.split(input, 3);
        Path index = DIR.resolve("model.safetensors.index.json");
        FuzzChecks.writeOrDelete(index, parts.get(0));
        FuzzChecks.writeOrDelete(DIR.resolve(SHARD1), parts.size() > 1 ? parts.get(1) : null);
        FuzzChecks.writeOrDelete(DIR.resolve(SHARD2), parts.size() > 2 ? parts.get(2) : null);
        FuzzChecks.parsesOrTernException(() -> {
            ShardedSafetensors.readWeightMap(index);
            for (Path p : ShardedSafetensors.shardPaths(index)) {
                // A shard name from the file must never resolve outside the model folder.
                if (!p.getParent().equals(DIR.toAbsolutePath())) throw new AssertionError("shard path escapes: " + p);
            }
            try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
                s.names().forEach(s::segment);
                SafetensorsFuzzTest.touchAll(s);
            }
        });
    }
}
