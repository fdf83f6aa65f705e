package dev.tern.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.TernException;
import dev.tern.TestData;
import dev.tern.eval.Perplexity;
import dev.tern.eval.TextDatasets;
import dev.tern.format.TernCheckpoint;
import dev.tern.format.TernaryMatrix;
import dev.tern.io.gguf.GgmlType;
import dev.tern.io.gguf.GgufFile;
import dev.tern.kernels.KernelConfig;
import dev.tern.kernels.KernelKind;
import dev.tern.model.KvCache;
import dev.tern.model.LoadedModel;
import dev.tern.model.ModelConfig;
import dev.tern.model.ModelLoader;
import dev.tern.model.Rope;
import dev.tern.model.Transformer;
import dev.tern.quant.QuantMethod;
import dev.tern.quant.QuantizeJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** GGUF export and import: round trips against the model they came from, and the refusals. */
class GgufConvertTest {
    @TempDir Path tmp;

    static final KernelConfig FLOAT = KernelConfig.pinned(KernelKind.FLOAT);

    static float[] lastLogits(LoadedModel m, String prompt) {
        int[] ids = m.tokenizer().encode(prompt, true);
        Transformer tf = new Transformer(m.model(), ids.length);
        KvCache cache = tf.newCache(ids.length);
        float[] h = tf.forward(ids, 0, ids.length, 0, cache);
        int hidden = m.config().hiddenSize();
        float[] last = new float[hidden];
        System.arraycopy(h, (ids.length - 1) * hidden, last, 0, hidden);
        return tf.logits(last, 1);
    }

    static Path export(Path model, Path out, String type, boolean strict, List<String> log) {
        GgufExporter.export(new GgufExporter.Settings(model, out, type, strict, null), log::add);
        return out;
    }

    @Test
    void floatExportLoadsBackBitForBit() {
        Path g = export(TestData.tinyStories(), tmp.resolve("ts.gguf"), "f32", false, new ArrayList<>());
        LoadedModel src = ModelLoader.load(TestData.tinyStories(), ModelLoader.FloatFormat.F32);
        LoadedModel back = ModelLoader.load(g, ModelLoader.FloatFormat.F32);
        assertEquals(src.config().hiddenSize(), back.config().hiddenSize());
        assertEquals(src.config().tiedEmbeddings(), back.config().tiedEmbeddings());
        String prompt = "Once upon a time, there was a little girl named Lily.";
        assertArrayEquals(lastLogits(src, prompt), lastLogits(back, prompt), "f32 export, q/k reordered out and back");
        String text = TextDatasets.read(TestData.data("tinystories/valid-snippet.txt"));
        assertArrayEquals(src.tokenizer().encode(text, true), back.tokenizer().encode(text, true), "tokenizer from GGUF metadata");
    }

    @ParameterizedTest
    @ValueSource(strings = {"tq2_0", "tq1_0"})
    void ternaryExportHoldsTheLayersExactly(String type) throws Exception {
        Path cp = TinyTernaryCheckpoint.write(tmp.resolve("cp"), 7, false);
        List<String> log = new ArrayList<>();
        Path g = export(cp, tmp.resolve("m.gguf"), type, true, log);
        Map<String, dev.tern.format.QuantizedMatrix> want = TernCheckpoint.read(cp).layers();
        try (GgufModelSource s = GgufModelSource.open(g)) {
            GgmlType t = type.equals("tq2_0") ? GgmlType.TQ2_0 : GgmlType.TQ1_0;
            assertEquals(t, s.file().tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.F32, s.file().tensor("blk.0.attn_norm.weight").type());
            Map<String, TernaryMatrix> got = s.ternaryLayers();
            assertEquals(want.keySet(), got.keySet());
            for (var e : want.entrySet()) {
                TernaryMatrix w = (TernaryMatrix) e.getValue(), h = got.get(e.getKey());
                assertArrayEquals(w.codes(), h.codes(), e.getKey() + " trits");
                assertArrayEquals(w.alpha(), h.alpha(), e.getKey() + " scales");
            }
        }
        LoadedModel a = ModelLoader.load(cp, ModelLoader.FloatFormat.F32, FLOAT, s -> { });
        LoadedModel b = ModelLoader.load(g, ModelLoader.FloatFormat.F32, FLOAT, s -> { });
        String prompt = "The little dog ran to the park and";
        assertArrayEquals(lastLogits(a, prompt), lastLogits(b, prompt), "same layers, same kernel, same logits");
        assertTrue(log.stream().noneMatch(l -> l.contains("written as F16")), log.toString());
    }

    @Test
    void asymmetricLayerFallsBackToF16UnlessStrict() throws Exception {
        Path cp = TinyTernaryCheckpoint.write(tmp.resolve("cp"), 3, true);
        List<String> log = new ArrayList<>();
        Path g = export(cp, tmp.resolve("m.gguf"), "tq2_0", false, log);
        assertEquals(1, log.stream().filter(l -> l.contains("written as F16")).count(), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("model.layers.0.self_attn.q_proj is asymmetric")), log.toString());
        try (GgufFile f = GgufFile.open(g)) {
            assertEquals(GgmlType.F16, f.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.TQ2_0, f.tensor("blk.1.attn_q.weight").type());
        }
        Path strictOut = tmp.resolve("s.gguf");
        TernException e = assertThrows(TernException.class, () -> export(cp, strictOut, "tq2_0", true, new ArrayList<>()));
        assertTrue(e.getMessage().contains("asymmetric"), e.getMessage());
        assertFalse(Files.exists(strictOut), "no half-written file");
    }

    @Test
    void floatModelIsNotExportedAsTernary() {
        TernException e = assertThrows(TernException.class,
                () -> export(TestData.tinyStories(), tmp.resolve("x.gguf"), "tq2_0", false, new ArrayList<>()));
        assertTrue(e.getMessage().contains("no ternary layers"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("x.gguf")));
    }

    @Test
    void interleavedRowOrderCommutesWithRope() {
        // llama.cpp rotates adjacent pairs, Hugging Face (and Tern) the two halves of each head: the export's row
        // reordering must turn one into the other for every position.
        ModelConfig c = TinyTernaryCheckpoint.config();
        int heads = c.numHeads(), d = c.headDim(), rows = heads * d;
        int[] src = GgufArch.toInterleavedRows(rows, heads);
        int[] back = GgufArch.fromInterleavedRows(rows, heads);
        for (int r = 0; r < rows; r++) assertEquals(r, src[back[r]]);
        Rope rope = new Rope(c, 64);
        java.util.Random rnd = new java.util.Random(1);
        for (int pos : new int[] {0, 1, 17, 63}) {
            float[] q = new float[rows];
            for (int i = 0; i < rows; i++) q[i] = (float) rnd.nextGaussian();
            float[] hf = q.clone();
            rope.apply(hf, 0, heads, pos);
            float[] gg = new float[rows];
            for (int g = 0; g < rows; g++) gg[g] = q[src[g]];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < d / 2; i++) {
                    double th = pos * Math.pow(c.ropeTheta(), -2.0 * i / d);
                    int o = h * d + 2 * i;
                    float x = gg[o], y = gg[o + 1];
                    gg[o] = (float) (x * Math.cos(th) - y * Math.sin(th));
                    gg[o + 1] = (float) (y * Math.cos(th) + x * Math.sin(th));
                }
            }
            for (int g = 0; g < rows; g++) assertEquals(hf[src[g]], gg[g], 1e-4, "pos " + pos + " row " + g);
        }
    }

    @Test
    void ggufIsASourceForQuantizeAndEval() {
        Path g = export(TestData.tinyStories(), tmp.resolve("ts.gguf"), "f32", false, new ArrayList<>());
        Path out = tmp.resolve("q");
        QuantMethod m = QuantMethod.of("rtn-ternary", 2, 128, true, true, null, null, false, 0, 0.01);
        QuantizeJob.run(new QuantizeJob.Settings(g, out, m, 2, 64, "tinystories", 0, null, false, false), s -> { });
        assertTrue(Files.isRegularFile(out.resolve(GgufVocabs.TOKENIZER_FILE)), "the GGUF's tokenizer is carried over");
        LoadedModel q = ModelLoader.load(out, ModelLoader.FloatFormat.F32, FLOAT, s -> { });
        LoadedModel f = ModelLoader.load(g, ModelLoader.FloatFormat.F32);
        String text = TextDatasets.read(TestData.data("tinystories/valid-snippet.txt"));
        assertArrayEquals(f.tokenizer().encode(text, true), q.tokenizer().encode(text, true));
        int[] ids = f.tokenizer().encode(text, true);
        double pf = Perplexity.run(new Transformer(f.model(), 256), ids, 256, 4, false).perplexity();
        double pq = Perplexity.run(new Transformer(q.model(), 256), ids, 256, 4, false).perplexity();
        assertTrue(pq > pf && pq < 50 * pf, "rtn-ternary from the GGUF is a degraded version of it: " + pf + " vs " + pq);
    }

    @Test
    void llamaCppProtocolScoresTheSecondHalfAfterBos() {
        LoadedModel m = ModelLoader.load(TestData.tinyStories(), ModelLoader.FloatFormat.F32);
        int[] ids = m.tokenizer().encode(TextDatasets.read(TestData.data("tinystories/valid-snippet.txt")), true);
        Transformer tf = new Transformer(m.model(), 128);
        Perplexity.Result r = Perplexity.run(tf, ids, 128, 3, false, Perplexity.Protocol.LLAMA_CPP, m.tokenizer().bosId());
        assertEquals(3L * (128 / 2 - 1), r.tokens());
        // Scoring by hand: window w's positions 64..126 predict the next token, with BOS in front of every window.
        double nll = 0;
        for (int w = 0; w < 3; w++) {
            int[] win = java.util.Arrays.copyOfRange(ids, w * 128, w * 128 + 128);
            win[0] = m.tokenizer().bosId();
            float[] h = new Transformer(m.model(), 128).forward(win, 0, 128, 0, tf.newCache(128));
            int hd = m.config().hiddenSize(), v = m.config().vocabSize();
            for (int t = 64; t < 127; t++) {
                float[] row = java.util.Arrays.copyOfRange(h, t * hd, (t + 1) * hd);
                float[] lg = tf.logits(row, 1);
                nll -= dev.tern.model.Ops.logProb(lg, 0, v, win[t + 1]);
            }
        }
        assertEquals(Math.exp(nll / r.tokens()), r.perplexity(), 1e-6 * r.perplexity(), "GEMM and GEMV logits sum in different orders");
    }
}
