package dev.tern.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.tern.TernException;
import dev.tern.model.ModelConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cCheckpointTest {
    static final Path STORIES = Path.of("..", "shared", "models", "stories260k", "stories260K.bin");

    @TempDir
    Path tmp;

    @Test
    void realStories260k() {
        try (Llama2cCheckpoint c = Llama2cCheckpoint.open(STORIES)) {
            ModelConfig cfg = c.config();
            assertEquals(64, cfg.hiddenSize());
            assertEquals(172, cfg.intermediateSize());
            assertEquals(5, cfg.numLayers());
            assertEquals(8, cfg.numHeads());
            assertEquals(4, cfg.numKvHeads());
            assertEquals(8, cfg.headDim());
            assertEquals(512, cfg.vocabSize());
            assertEquals(512, cfg.maxPositions());
            assertEquals("llama", cfg.modelType());
            assertEquals(10000.0, cfg.ropeTheta());
            assertEquals(1e-5, cfg.rmsNormEps());
            assertTrue(cfg.tiedEmbeddings());
            assertEquals(1, cfg.bosTokenId());
            assertEquals(java.util.List.of(2), cfg.eosTokenIds());
            assertEquals(1 + 9 * 5 + 1 + 1, c.names().size());
            assertArrayEquals(new long[] {64, 64}, c.shape("model.layers.4.self_attn.q_proj.weight"));
            assertArrayEquals(new long[] {32, 64}, c.shape("model.layers.0.self_attn.k_proj.weight"));
            assertArrayEquals(new long[] {172, 64}, c.shape("model.layers.0.mlp.gate_proj.weight"));
            assertArrayEquals(new long[] {64, 172}, c.shape("model.layers.0.mlp.down_proj.weight"));
            assertArrayEquals(new long[] {64}, c.shape("model.norm.weight"));
            assertArrayEquals(c.floats("model.embed_tokens.weight"), c.floats("lm_head.weight"));
            assertEquals("F32", c.dtype("lm_head.weight"));
            // RMSNorm gains of a trained model are positive and O(1): a cheap sanity check of the offsets.
            for (float g : c.floats("model.norm.weight")) assertTrue(g > 0 && g < 20, "norm gain " + g);
        }
    }

    /** A checkpoint whose i-th float (counting from the first array) has value i, so offsets are visible. */
    private Path synthetic(int dim, int hidden, int layers, int heads, int kv, int vocab, int seq, long extraFloats)
            throws IOException {
        int head = dim / heads, kvDim = kv * head, v = Math.abs(vocab);
        long n = (long) v * dim + layers * (2L * dim + 2L * dim * dim + 2L * kvDim * dim + 3L * hidden * dim) + dim
                + (long) seq * head + (vocab < 0 ? (long) v * dim : 0) + extraFloats;
        ByteBuffer b = ByteBuffer.allocate((int) (28 + 4 * n)).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : new int[] {dim, hidden, layers, heads, kv, vocab, seq}) b.putInt(x);
        for (int i = 0; i < n; i++) b.putFloat(i);
        Path p = Files.createTempFile(tmp, "ck", ".bin");
        Files.write(p, b.array());
        return p;
    }

    @Test
    void layoutOrderAndSeparateClassifier() throws IOException {
        int dim = 8, hidden = 6, L = 2, heads = 2, kv = 1, vocab = 5, seq = 3;
        int kvDim = 4; // head_dim 4, so the q/k permutation is not the identity
        try (Llama2cCheckpoint c = Llama2cCheckpoint.open(synthetic(dim, hidden, L, heads, kv, -vocab, seq, 0))) {
            assertFalse(c.sharedClassifier());
            long o = 0;
            assertEquals(o, (long) c.floats("model.embed_tokens.weight")[0]);
            o += vocab * dim;
            assertEquals(o, (long) c.floats("model.layers.0.input_layernorm.weight")[0]);
            assertEquals(o + dim, (long) c.floats("model.layers.1.input_layernorm.weight")[0]);
            o += L * dim;
            // q rows are permuted: HF row 1 (head 0, half 0, i 1) is llama2.c row 2, HF row 2 (half 1, i 0) is row 1.
            float[] q0 = c.floats("model.layers.0.self_attn.q_proj.weight");
            assertEquals(o, (long) q0[0]);
            assertEquals(o + 2 * dim, (long) q0[dim]);
            assertEquals(o + dim, (long) q0[2 * dim]);
            o += L * dim * dim;
            float[] k1 = c.floats("model.layers.1.self_attn.k_proj.weight");
            assertEquals(o + kvDim * dim, (long) k1[0]);
            assertEquals(o + kvDim * dim + 2 * dim, (long) k1[dim], "k is permuted too");
            o += L * kvDim * dim;
            float[] v0 = c.floats("model.layers.0.self_attn.v_proj.weight");
            assertEquals(o + dim, (long) v0[dim], "v is not permuted");
            assertEquals(o + 2 * dim, (long) v0[2 * dim]);
            o += L * kvDim * dim;
            assertEquals(o, (long) c.floats("model.layers.0.self_attn.o_proj.weight")[0]);
            o += L * dim * dim;
            assertEquals(o, (long) c.floats("model.layers.0.post_attention_layernorm.weight")[0]);
            o += L * dim;
            assertEquals(o, (long) c.floats("model.layers.0.mlp.gate_proj.weight")[0]);
            o += L * hidden * dim;
            assertEquals(o, (long) c.floats("model.layers.0.mlp.down_proj.weight")[0]);
            o += L * hidden * dim;
            assertEquals(o, (long) c.floats("model.layers.0.mlp.up_proj.weight")[0]);
            o += L * hidden * dim;
            assertEquals(o, (long) c.floats("model.norm.weight")[0]);
            o += dim + seq * (dim / heads);
            float[] cls = c.floats("lm_head.weight");
            assertEquals(o, (long) cls[0]);
            assertEquals(vocab * dim, cls.length);
        }
    }

    private static void assertBad(Path p, String fragment) {
        TernException e = assertThrows(TernException.class, () -> Llama2cCheckpoint.open(p).close());
        assertTrue(e.getMessage().contains(fragment), () -> e.getMessage() + " lacks " + fragment);
        assertTrue(e.getMessage().contains(p.toString()));
    }

    @Test
    void malformed() throws IOException {
        assertBad(synthetic(4, 6, 2, 2, 1, 5, 3, 1), "size mismatch");
        assertBad(synthetic(4, 6, 2, 2, 1, 5, 3, -1), "size mismatch");
        Path shortFile = tmp.resolve("short.bin");
        Files.write(shortFile, new byte[10]);
        assertBad(shortFile, "too short");
        assertBad(header(0, 6, 2, 2, 1, 5, 3), "non-positive");
        assertBad(header(4, 6, -2, 2, 1, 5, 3), "non-positive");
        assertBad(header(1 << 20, 6, 2, 2, 1, 5, 3), "implausible");
        assertBad(header(65536, 262144, 1024, 256, 256, 1 << 22, 1 << 20), "size mismatch");
        assertBad(header(6, 6, 2, 4, 1, 5, 3), "inconsistent");
        assertBad(header(4, 6, 2, 2, 3, 5, 3), "inconsistent");
        assertBad(header(0x616b3432, 2, 0, 0, 0, 0, 0), "version 2");
        assertBad(tmp.resolve("missing.bin"), "missing");
    }

    private Path header(int... h) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : h) b.putInt(x);
        Path p = Files.createTempFile(tmp, "h", ".bin");
        Files.write(p, b.array());
        return p;
    }

    // --- The permutation proof: interleaved RoPE on W x equals (un-permuted) rotate-half RoPE on W_perm x. ---

    private static float[] matvec(float[] w, int rows, int cols, float[] x) {
        float[] y = new float[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) s += (double) w[r * cols + c] * x[c];
            y[r] = (float) s;
        }
        return y;
    }

    private static double freq(int i, int headDim) {
        return Math.pow(10000.0, -2.0 * i / headDim);
    }

    /** llama2.c: rotate (v[2i], v[2i+1]) of each head by pos * theta^(-2i/hd). */
    private static double[] ropeInterleaved(float[] v, int headDim, int pos) {
        double[] out = new double[v.length];
        for (int base = 0; base < v.length; base += headDim) {
            for (int i = 0; i < headDim / 2; i++) {
                double a = pos * freq(i, headDim), c = Math.cos(a), s = Math.sin(a);
                double v0 = v[base + 2 * i], v1 = v[base + 2 * i + 1];
                out[base + 2 * i] = v0 * c - v1 * s;
                out[base + 2 * i + 1] = v0 * s + v1 * c;
            }
        }
        return out;
    }

    /** Hugging Face: q*cos + rotate_half(q)*sin, rotate_half(q) = cat(-q[half:], q[:half]) per head. */
    private static double[] ropeRotateHalf(float[] v, int headDim, int pos) {
        double[] out = new double[v.length];
        int h = headDim / 2;
        for (int base = 0; base < v.length; base += headDim) {
            for (int j = 0; j < headDim; j++) {
                double a = pos * freq(j % h, headDim);
                double rot = j < h ? -v[base + j + h] : v[base + j - h];
                out[base + j] = v[base + j] * Math.cos(a) + rot * Math.sin(a);
            }
        }
        return out;
    }

    @Test
    void permutationMakesRotateHalfEqualInterleaved() {
        Random r = new Random(42);
        int headDim = 8, heads = 3, rows = heads * headDim, cols = 5;
        float[] w = new float[rows * cols];
        float[] x = new float[cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (int i = 0; i < cols; i++) x[i] = (float) r.nextGaussian();
        float[] wPerm = Llama2cCheckpoint.interleavedToRotateHalf(w, rows, cols, headDim);
        for (int pos : new int[] {0, 1, 7, 100}) {
            double[] ref = ropeInterleaved(matvec(w, rows, cols, x), headDim, pos);
            double[] hf = ropeRotateHalf(matvec(wPerm, rows, cols, x), headDim, pos);
            for (int h = 0; h < heads; h++) {
                for (int half = 0; half < 2; half++) {
                    for (int i = 0; i < headDim / 2; i++) {
                        double a = ref[h * headDim + 2 * i + half];
                        double b = hf[h * headDim + half * headDim / 2 + i];
                        assertEquals(a, b, 1e-4, "pos " + pos + " head " + h + " half " + half + " i " + i);
                    }
                }
            }
            // And what attention actually consumes: q·k is identical in both conventions.
            float[] x2 = new float[cols];
            for (int i = 0; i < cols; i++) x2[i] = (float) r.nextGaussian();
            double[] refK = ropeInterleaved(matvec(w, rows, cols, x2), headDim, pos + 3);
            double[] hfK = ropeRotateHalf(matvec(wPerm, rows, cols, x2), headDim, pos + 3);
            assertEquals(dot(ref, refK), dot(hf, hfK), 1e-3);
        }
        assertFalse(Arrays.equals(w, wPerm), "the permutation is not the identity");
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
