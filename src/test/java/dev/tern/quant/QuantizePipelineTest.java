package dev.tern.quant;

import dev.tern.cli.CliRunner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.TestData;
import dev.tern.eval.Perplexity;
import dev.tern.eval.TextDatasets;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.format.TernaryMatrix;
import dev.tern.model.LoadedModel;
import dev.tern.model.ModelLoader;
import dev.tern.model.Transformer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quantize command end to end on the real TinyStories model: determinism, checkpoint fidelity, bad input. */
class QuantizePipelineTest {
    @TempDir static Path tmp;
    static Path first;

    static QuantizeJob.Summary quantize(Path out, String method) {
        QuantMethod m = QuantMethod.of(method, 2, 128, true, true, null, null, false, 0, 0.01);
        return QuantizeJob.run(new QuantizeJob.Settings(TestData.tinyStories(), out, m, 8, 128, "tinystories", 0, out.resolveSibling(out.getFileName() + "-deq"), false, false), s -> {});
    }

    @BeforeAll
    static void once() {
        first = tmp.resolve("a");
        quantize(first, "pt2");
    }

    @Test
    void sameSeedGivesIdenticalCheckpointBytes() throws Exception {
        Path second = tmp.resolve("b");
        quantize(second, "pt2");
        assertArrayEquals(Files.readAllBytes(first.resolve(TernCheckpoint.FILE)), Files.readAllBytes(second.resolve(TernCheckpoint.FILE)));
    }

    @Test
    void checkpointHoldsTernaryLayersWithinBitBudget() {
        TernCheckpoint.Contents c = TernCheckpoint.read(first);
        try (var f = c.file()) {
            assertEquals(2 * 7, c.layers().size());
            for (QuantizedMatrix q : c.layers().values()) {
                assertTrue(q instanceof TernaryMatrix, q.kind());
                for (byte t : ((TernaryMatrix) q).codes()) assertTrue(t >= -1 && t <= 1);
            }
            assertEquals("pt2", c.metadata().get("tern.method"));
        }
    }

    /** The packed kernels and the plain float export of the same checkpoint must give the same perplexity (issue: 0.1%). */
    @Test
    void packedCheckpointMatchesDequantizedExport() {
        int[] ids = null;
        double[] ppl = new double[2];
        Path[] dirs = {first, first.resolveSibling("a-deq")};
        for (int i = 0; i < 2; i++) {
            LoadedModel m = ModelLoader.load(dirs[i], ModelLoader.FloatFormat.F32);
            if (ids == null) ids = m.tokenizer().encode(TextDatasets.read(TestData.data("tinystories/valid-snippet.txt")), true);
            ppl[i] = Perplexity.run(new Transformer(m.model(), 512), ids, 512, 0, false).perplexity();
        }
        assertEquals(ppl[1], ppl[0], ppl[1] * 1e-3, "packed " + ppl[0] + " vs dequantized " + ppl[1]);
    }

    @Test
    void badInputIsOneClearLine() throws Exception {
        String model = TestData.tinyStories().toString();
        Path file = Files.writeString(tmp.resolve("short.txt"), "Once upon a time.");
        Path notDir = Files.writeString(tmp.resolve("plainfile"), "x");
        String[][] cases = {
            {"unknown method 'foo'", "quantize", "--model", model, "--out", tmp.resolve("x1").toString(), "--method", "foo"},
            {"--bits must be in [2, 8]", "quantize", "--model", model, "--out", tmp.resolve("x2").toString(), "--method", "gptq", "--bits", "9"},
            {"fewer than one window", "quantize", "--model", model, "--out", tmp.resolve("x3").toString(), "--calib", file.toString()},
            {"exists and is not a folder", "quantize", "--model", model, "--out", notDir.toString()},
            {"model not found", "quantize", "--model", tmp.resolve("nope").toString(), "--out", tmp.resolve("x4").toString()},
        };
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            CliRunner.Run r = CliRunner.run(args);
            assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
            // Progress lines may precede it; the error itself is the last line, and there is no stack trace.
            String[] lines = r.err().strip().split("\n");
            assertTrue(lines[lines.length - 1].startsWith("tern: ") && lines[lines.length - 1].contains(c[0]), r.err());
            assertTrue(!r.err().contains("Exception") && !r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void refusesWhatDoesNotFitInMemoryWithAHint() {
        var c = dev.tern.model.Architectures.get("llama-2-7b");
        QuantMethod pt2 = QuantMethod.of("pt2", 2, 128, true, true, null, null, false, 0, 0.01);
        long need = QuantizeJob.estimateBytes(c, pt2, 128, 2048);
        // 128 x 2048 x 4096 f32 activations alone are 4 GiB.
        assertTrue(need > 4L << 30, "estimate " + need);
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.tern.TernException.class,
                () -> QuantizeJob.checkMemory(c, pt2, 128, 2048, 3L << 30));
        assertTrue(e.getMessage().contains("TERN_HEAP"), e.getMessage());
        var e2 = org.junit.jupiter.api.Assertions.assertThrows(dev.tern.TernException.class,
                () -> QuantizeJob.checkMemory(c, pt2, 128, 2048, 9L << 30));
        assertTrue(e2.getMessage().contains("lower --nsamples to"), e2.getMessage());
        QuantizeJob.checkMemory(c, pt2, 128, 2048, 16L << 30); // fits: no exception
    }
}
