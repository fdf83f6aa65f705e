package dev.tern.io.gguf;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against llama.cpp itself (the shared llama-quantize binary; skipped where it is absent): llama.cpp reads a float
 * model Tern wrote and quantizes it to TQ1_0 and TQ2_0, and Tern decodes llama.cpp's files to exactly the trits and
 * f16 scales of llama.cpp's rule (d = max|x| per 256 weights, t = lroundf(x · (1/d))), computed here from the source
 * floats; Tern's encoders then reproduce llama.cpp's bytes.
 */
class GgufLlamaCppTest {
    static final Path QUANTIZE = Path.of("..", "shared", "tools", "llama.cpp", "bin", "llama-quantize");
    static final int N_EMBD = 256, N_FF = 512, VOCAB = 256;

    @TempDir
    Path dir;

    @Test
    void ternDecodesLlamaCppTernaryFiles() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(QUANTIZE), "skipped: no llama-quantize at " + QUANTIZE);
        Random r = new Random(7);
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama").putString("general.name", "tern-test")
                .putU32("llama.context_length", 64).putU32("llama.embedding_length", N_EMBD).putU32("llama.block_count", 1)
                .putU32("llama.feed_forward_length", N_FF).putU32("llama.attention.head_count", 4)
                .putU32("llama.attention.head_count_kv", 4).putF32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putU32("llama.rope.dimension_count", N_EMBD / 4);
        String[] names = {"token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight"};
        long[][] shapes = {{VOCAB, N_EMBD}, {N_EMBD, N_EMBD}, {N_FF, N_EMBD}, {N_EMBD, N_FF}};
        float[][] src = new float[names.length][];
        for (int i = 0; i < names.length; i++) {
            src[i] = new float[(int) (shapes[i][0] * shapes[i][1])];
            for (int j = 0; j < src[i].length; j++) src[i][j] = (float) (r.nextGaussian() * 0.02);
            for (int j = 256; j < 512; j++) src[i][j] = 0; // one all-zero block: d = 0
            w.addTensor(names[i], GgmlType.F32, shapes[i], GgufWriter.TensorBytes.of(GgmlCodec.encodeF32(src[i])));
        }
        w.addTensor("blk.0.attn_norm.weight", GgmlType.F32, new long[] {N_EMBD},
                GgufWriter.TensorBytes.of(GgmlCodec.encodeF32(new float[N_EMBD])));
        Path f32 = dir.resolve("f32.gguf");
        GgufWriterTest.write(w, f32);

        for (GgmlType t : new GgmlType[] {GgmlType.TQ1_0, GgmlType.TQ2_0}) {
            Path out = dir.resolve(t + ".gguf");
            quantize(f32, out, t);
            try (GgufFile g = GgufFile.open(out)) {
                for (int i = 0; i < names.length; i++) {
                    GgufTensorInfo info = g.tensor(names[i]);
                    assertEquals(t, info.type(), names[i]);
                    assertArrayEquals(shapes[i], info.shape(), names[i]);
                    int rows = (int) shapes[i][0], cols = (int) shapes[i][1];
                    byte[] trits = new byte[src[i].length];
                    float[] d = new float[src[i].length / 256];
                    llamaRule(src[i], trits, d);
                    GgmlCodec.Ternary got = g.ternary(names[i]);
                    assertArrayEquals(trits, got.trits(), names[i]);
                    assertArrayEquals(dev.tern.format.F16.round(d), got.d(), names[i]);
                    byte[] llama = g.data(names[i]).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    byte[] tern = t == GgmlType.TQ1_0 ? GgmlCodec.encodeTq1_0(trits, rows, cols, d)
                            : GgmlCodec.encodeTq2_0(trits, rows, cols, d);
                    assertArrayEquals(llama, tern, names[i] + ": Tern's encoder writes llama.cpp's bytes");
                }
                assertEquals(GgmlType.F32, g.tensor("blk.0.attn_norm.weight").type());
            }
        }
    }

    /** quantize_row_tq{1,2}_0_ref in ggml-quants.c, written out. */
    static void llamaRule(float[] x, byte[] trits, float[] d) {
        for (int b = 0; b < d.length; b++) {
            float amax = 0;
            for (int j = 0; j < 256; j++) amax = Math.max(amax, Math.abs(x[256 * b + j]));
            d[b] = amax;
            float id = amax != 0 ? 1f / amax : 0f;
            for (int j = 0; j < 256; j++) trits[256 * b + j] = (byte) Math.round(GgmlCodec.roundHalfAway(x[256 * b + j] * id));
        }
    }

    static void quantize(Path in, Path out, GgmlType t) throws Exception {
        Path log = dir_log(out);
        Process p = new ProcessBuilder("nice", "-n", "19", QUANTIZE.toString(), "--pure", in.toString(), out.toString(),
                t.name(), "1").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "llama-quantize timed out");
        assertEquals(0, p.exitValue(), () -> "llama-quantize failed: " + readQuietly(log));
    }

    private static Path dir_log(Path out) {
        return out.resolveSibling(out.getFileName() + ".log");
    }

    private static String readQuietly(Path p) {
        try {
            String s = Files.readString(p);
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (java.io.IOException e) {
            return "(no log)";
        }
    }
}
