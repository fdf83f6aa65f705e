package dev.tern.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TernException;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.io.AtomicFiles;
import dev.tern.io.SafetensorsFile;
import dev.tern.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What a quantization run keeps in its output folder so that `--resume` can continue after a kill: one file per
 * finished block with its quantized layers, the calibration activations entering the next block, and a small
 * state.json (written last, atomically) naming the next block and a fingerprint of the settings.
 */
final class ResumeState {
    static final String DIR = ".tern-resume";

    /** State read back: the next block to quantize, the layers of the finished ones, the activations (null if data-free). */
    record Saved(int nextLayer, Map<String, QuantizedMatrix> layers, float[][] activations) {}

    private ResumeState() {}

    static Path dir(Path out) {
        return out.resolve(DIR);
    }

    static void save(Path out, String fingerprint, int layer, Map<String, QuantizedMatrix> block, float[][] x) {
        Path d = dir(out);
        TernCheckpoint.buildLayers(block, Map.of()).write(d.resolve(String.format("block-%04d.safetensors", layer)));
        if (x != null) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (int s = 0; s < x.length; s++) w.addF32(String.format("x.%06d", s), new long[] {x[s].length}, x[s]);
            w.write(d.resolve("activations.safetensors"));
        }
        var o = new ObjectMapper().createObjectNode();
        o.put("fingerprint", fingerprint);
        o.put("next_layer", layer + 1);
        AtomicFiles.writeString(d.resolve("state.json"), o.toPrettyString());
    }

    /** The saved state, or null if there is none; a TernException if it belongs to different settings or is damaged. */
    static Saved load(Path out, String fingerprint, int windows) {
        Path d = dir(out);
        Path state = d.resolve("state.json");
        if (!Files.isRegularFile(state)) return null;
        JsonNode j;
        try {
            j = new ObjectMapper().readTree(Files.readString(state));
        } catch (IOException e) {
            throw new TernException("damaged resume state " + state + "; delete " + d + " to start over");
        }
        if (!fingerprint.equals(j.path("fingerprint").asText())) {
            throw new TernException("the resume state in " + d + " was made with different settings (" + j.path("fingerprint").asText()
                    + "); run without --resume to start over");
        }
        int next = j.path("next_layer").asInt(-1);
        if (next < 1) throw new TernException("damaged resume state " + state + "; delete " + d + " to start over");
        Map<String, QuantizedMatrix> layers = new LinkedHashMap<>();
        for (int l = 0; l < next; l++) {
            Path f = d.resolve(String.format("block-%04d.safetensors", l));
            if (!Files.isRegularFile(f)) throw new TernException("resume state lacks " + f + "; delete " + d + " to start over");
            TernCheckpoint.Contents c = TernCheckpoint.readFile(f);
            c.file().close();
            layers.putAll(c.layers());
        }
        float[][] x = null;
        Path act = d.resolve("activations.safetensors");
        if (windows > 0) {
            if (!Files.isRegularFile(act)) throw new TernException("resume state lacks " + act + "; delete " + d + " to start over");
            try (SafetensorsFile f = SafetensorsFile.open(act)) {
                x = new float[windows][];
                for (int s = 0; s < windows; s++) x[s] = f.floats(String.format("x.%06d", s));
            }
        }
        return new Saved(next, layers, x);
    }

    static void clear(Path out) {
        Path d = dir(out);
        if (!Files.exists(d)) return;
        try (Stream<Path> s = Files.walk(d)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new TernException("cannot remove " + d + ": " + e.getMessage());
        }
    }
}
