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
    static QuantizeJob.Summary firstSummary;

    static QuantizeJob.Summary quantize(Path out, String method) {
        QuantMethod m = QuantMethod.of(method, 2, 128, true, true, null, null, false, 0, 0.01);
        return QuantizeJob.run(new QuantizeJob.Settings(TestData.tinyStories(), out, m, 8, 128, "tinystories", 0, out.resolveSibling(out.getFileName() + "-deq"), false, false), s -> {});
    }

    @BeforeAll
    static void once() {
        first = tmp.resolve("a");
        firstSummary = quantize(first, "pt2");
    }

    @Test
    void sameSeedGivesIdenticalCheckpointBytes() throws Exception {
        Path second = tmp.resolve("b");
        quantize(second, "pt2");
        assertArrayEquals(Files.readAllBytes(first.resolve(TernCheckpoint.FILE)), Files.readAllBytes(second.resolve(TernCheckpoint.FILE)));
    }

    /**
     * Every bits/weight figure is the file's own bytes: per layer, 8 × the bytes of the tensors stored under its
     * prefix; overall, what quantize reports. Also the budget: PT²-LLM under 1.9 bits/weight here, RTN-TWN stores no
     * μ, GPTQ 2-bit pays its f16 zero points.
     */
    @Test
    void bitsPerWeightAreTheBytesOnDisk() {
        String[] methods = {"pt2", "rtn-twn", "gptq"};
        for (String method : methods) {
            Path dir = method.equals("pt2") ? first : tmp.resolve("bits-" + method);
            QuantizeJob.Summary sum = method.equals("pt2") ? firstSummary : quantize(dir, method);
            TernCheckpoint.Contents c = TernCheckpoint.read(dir);
            try (var f = c.file()) {
                assertEquals(2 * 7, c.layers().size());
                long bits = 0, weights = 0, expected = 0;
                for (var e : c.layers().entrySet()) {
                    long rows = e.getValue().rows(), cols = e.getValue().cols(), groups = (cols + 127) / 128;
                    // Written out from the format: rows padded to whole bytes, f16 parameters per row and group.
                    if (method.equals("rtn-twn")) expected += rows * (8 * ((cols + 4) / 5) + 16 * groups);
                    if (method.equals("gptq")) expected += rows * (8 * ((2 * cols + 7) / 8) + 32 * groups);
                    long bytes = 0;
                    for (String n : f.storedNames()) if (n.startsWith(e.getKey() + ".")) bytes += f.segment(n).byteSize();
                    assertEquals(8 * bytes, e.getValue().storageBits(), method + " " + e.getKey());
                    bits += 8 * bytes;
                    weights += (long) e.getValue().rows() * e.getValue().cols();
                    if (method.equals("rtn-twn")) assertTrue(!f.has(e.getKey() + ".t_mu"), e.getKey() + " stores an all-zero mu");
                    if (e.getValue() instanceof TernaryMatrix t) for (byte v : t.codes()) assertTrue(v >= -1 && v <= 1);
                }
                double bpw = (double) bits / weights;
                assertEquals(bpw, sum.quantBitsPerWeight(), 1e-12, method);
                assertEquals(bpw, QuantReport.read(dir).path("totals").path("bits_per_weight").asDouble(), 1e-12, method);
                switch (method) {
                    case "pt2" -> assertTrue(bpw <= 1.9, "pt2 " + bpw);
                    default -> assertEquals(expected, bits, method);
                }
            }
        }
    }

    /** report.json against values recomputed from the source model, the checkpoint and the calibration windows. */
    @Test
    void reportMatchesRecomputedValues() {
        var report = QuantReport.read(first);
        TernCheckpoint.Contents c = TernCheckpoint.read(first);
        LoadedModel src = ModelLoader.load(TestData.tinyStories(), ModelLoader.FloatFormat.F32);
        try (var f = c.file(); var weights = dev.tern.io.ModelDir.open(TestData.tinyStories()).openWeights()) {
            assertEquals(14, report.path("layers").size());
            // Block 0's q/k/v inputs: the normed embeddings of the same calibration windows quantize drew.
            var calib = Calibration.sample(src.tokenizer(), TextDatasets.calibrationText("tinystories"), "tinystories", 8, 128, 0);
            Transformer tf = new Transformer(src.model(), 128);
            java.util.List<float[]> xs = new java.util.ArrayList<>();
            for (int[] win : calib.windows()) {
                float[] x = tf.embed(win, 0, 128);
                tf.block(0, src.model().layers()[0], x, 128, 0, tf.newCache(128), (layer, site, in, n) -> {
                    if (site == Transformer.Site.QKV) xs.add(java.util.Arrays.copyOf(in, n * 128));
                });
            }
            for (var l : report.path("layers")) {
                String name = l.path("name").asText();
                QuantizedMatrix q = c.layers().get(name);
                int n = q.rows(), m = q.cols();
                assertEquals(n, l.path("rows").asInt());
                assertEquals(m, l.path("cols").asInt());
                assertEquals((double) q.storageBits() / ((long) n * m), l.path("bits_per_weight").asDouble(), 1e-12, name);
                float[] w = weights.floats(name + ".weight"), wq = q.dequantize();
                double num = 0, den = 0;
                for (int i = 0; i < w.length; i++) {
                    num += (w[i] - wq[i]) * (double) (w[i] - wq[i]);
                    den += (double) w[i] * w[i];
                }
                assertEquals(Math.sqrt(num / den), l.path("weight_rel_error").asDouble(), 1e-9, name);
                double out = l.path("output_rel_error").asDouble();
                assertTrue(out > 0 && out < 1, name + " output error " + out);
                if (name.startsWith("model.layers.0.self_attn.") && !name.endsWith("o_proj")) {
                    double eo = 0, wo = 0;
                    for (float[] x : xs) {
                        for (int t = 0; t < x.length / m; t++) {
                            for (int i = 0; i < n; i++) {
                                double a = 0, b = 0;
                                for (int j = 0; j < m; j++) {
                                    a += (double) w[i * m + j] * x[t * m + j];
                                    b += (double) (w[i * m + j] - wq[i * m + j]) * x[t * m + j];
                                }
                                wo += a * a;
                                eo += b * b;
                            }
                        }
                    }
                    assertEquals(eo / wo, out, 1e-3 * out, name);
                }
                assertTrue(l.path("itf_mean_steps").asDouble() >= 1 && l.path("itf_max_steps").asInt() <= Itf.MAX_STEPS, name);
                assertTrue(l.path("seconds").asDouble() >= 0);
            }
            assertEquals(2, report.path("blocks").size());
            assertEquals("tinystories", report.path("settings").path("calibration").asText().split(",")[0]);
            assertTrue(Files.isRegularFile(first.resolve(QuantReport.HTML)));
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
                () -> QuantizeJob.checkMemory(c, pt2, 128, 2048, 14L << 30));
        assertTrue(e2.getMessage().contains("lower --nsamples to"), e2.getMessage());
        QuantizeJob.checkMemory(c, pt2, 128, 2048, 20L << 30); // fits: no exception
    }
}
