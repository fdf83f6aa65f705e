package dev.tern.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TestData;
import dev.tern.io.SafetensorsFile;
import java.io.InputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The forward pass against PyTorch golden logits, and the batched path against the token-by-token reference. */
class ForwardPassTest {
    static LlamaModel model;
    static JsonNode golden;

    @BeforeAll
    static void load() throws Exception {
        ModelConfig c = ModelConfig.read(TestData.tinyStories().resolve("config.json"));
        try (SafetensorsFile f = SafetensorsFile.open(TestData.tinyStories().resolve("model.safetensors"))) {
            model = WeightsLoader.load(c, f, LinearFactory.REFERENCE);
        }
        try (InputStream in = ForwardPassTest.class.getResourceAsStream("/golden/tinystories-656k-logits.json")) {
            golden = new ObjectMapper().readTree(in);
        }
    }

    static int[] goldenIds() {
        JsonNode ids = golden.get("ids");
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) out[i] = ids.get(i).asInt();
        return out;
    }

    /** Max |a-b| / max|b| over a row, the relative error used throughout. */
    static double relErr(float[] a, int off, JsonNode row) {
        double maxDiff = 0, maxRef = 0;
        for (int v = 0; v < row.size(); v++) {
            double ref = row.get(v).asDouble();
            maxDiff = Math.max(maxDiff, Math.abs(a[off + v] - ref));
            maxRef = Math.max(maxRef, Math.abs(ref));
        }
        return maxDiff / maxRef;
    }

    @Test
    void batchedLogitsMatchPyTorch() {
        int[] ids = goldenIds();
        Transformer tf = new Transformer(model);
        float[] logits = tf.logits(tf.forward(ids, 0, ids.length, 0, tf.newCache(ids.length)), ids.length);
        int vocab = model.config().vocabSize();
        for (int t = 0; t < ids.length; t++) {
            double err = relErr(logits, t * vocab, golden.get("logits").get(t));
            assertTrue(err < 1e-4, "position " + t + " relative error " + err);
        }
    }

    @Test
    void referencePathMatchesPyTorch() {
        int[] ids = goldenIds();
        ReferenceTransformer ref = new ReferenceTransformer(model, ids.length);
        for (int t = 0; t < ids.length; t++) {
            double err = relErr(ref.step(ids[t], t), 0, golden.get("logits").get(t));
            assertTrue(err < 1e-4, "position " + t + " relative error " + err);
        }
    }

    @Test
    void prefillThenDecodeEqualsOneBatch() {
        int[] ids = goldenIds();
        int vocab = model.config().vocabSize();
        Transformer tf = new Transformer(model);
        float[] all = tf.logits(tf.forward(ids, 0, ids.length, 0, tf.newCache(ids.length)), ids.length);
        KvCache cache = tf.newCache(ids.length);
        int split = 5;
        float[] first = tf.logits(tf.forward(ids, 0, split, 0, cache), split);
        for (int v = 0; v < split * vocab; v++) assertEquals(all[v], first[v], 1e-4f);
        for (int t = split; t < ids.length; t++) {
            float[] one = tf.logits(tf.forward(ids, t, 1, t, cache), 1);
            for (int v = 0; v < vocab; v++) assertEquals(all[t * vocab + v], one[v], 1e-4f, "pos " + t);
        }
    }
}
