package dev.tern.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.TestData;
import dev.tern.eval.Perplexity;
import dev.tern.eval.TextDatasets;
import dev.tern.model.LoadedModel;
import dev.tern.model.ModelLoader;
import dev.tern.model.Sampler;
import dev.tern.model.Transformer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Files Tern writes, run by llama.cpp's own programs (../shared/tools/llama.cpp/bin, an AVX2 build): the real
 * client. Skipped, with the reason, where the programs are absent or cannot run on this CPU.
 */
class LlamaCppTest {
    static Path bin;
    @TempDir Path tmp;

    @BeforeAll
    static void findPrograms() {
        Path b = TestData.shared().resolve("tools/llama.cpp/bin");
        Assumptions.assumeTrue(Files.isExecutable(b.resolve("llama-perplexity")) && Files.isExecutable(b.resolve("llama-simple")),
                "llama.cpp programs not found in " + b + "; skipping the real-client checks");
        String flags = "";
        try {
            flags = Files.readString(Path.of("/proc/cpuinfo"));
        } catch (IOException e) {
            // not Linux: let the programs decide
        }
        Assumptions.assumeTrue(flags.isEmpty() || (flags.contains(" avx2") && flags.contains(" fma") && flags.contains(" f16c")),
                "this CPU lacks AVX2/FMA/F16C, which the llama.cpp build needs");
        bin = b;
    }

    record Run(int exit, String out, String err) {}

    static Run run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "llama.cpp timed out: " + cmd);
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    static double llamaPerplexity(Path gguf, Path text, int ctx) throws Exception {
        Run r = run(List.of(bin.resolve("llama-perplexity").toString(), "-m", gguf.toString(), "-f", text.toString(),
                "-c", String.valueOf(ctx), "-b", String.valueOf(ctx), "-t", "2"));
        Matcher m = Pattern.compile("Final estimate: PPL = ([0-9.]+)").matcher(r.out() + r.err());
        assertTrue(r.exit() == 0 && m.find(), "llama-perplexity failed (" + r.exit() + "):\n" + tail(r.err()));
        return Double.parseDouble(m.group(1));
    }

    static double ternPerplexity(LoadedModel m, Path text, int ctx) {
        int[] ids = m.tokenizer().encode(TextDatasets.read(text), true);
        int bos = ids.length > 0 && ids[0] == m.tokenizer().bosId() ? ids[0] : -1;
        return Perplexity.run(new Transformer(m.model(), ctx), ids, ctx, 0, false, Perplexity.Protocol.LLAMA_CPP, bos).perplexity();
    }

    /**
     * The text with CR removed: valid-snippet.txt has CRLF line ends, and tinystories-656k's vocabulary has neither
     * "\r" nor byte tokens. Hugging Face (and Tern) encode "\r" as <unk>; llama.cpp's SentencePiece tokenizer has no
     * fallback and aborts (std::out_of_range).
     */
    Path lfCopy(Path text) throws IOException {
        Path p = tmp.resolve("lf-" + text.getFileName());
        Files.writeString(p, Files.readString(text).replace("\r", ""));
        return p;
    }

    static String tail(String s) {
        return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
    }

    @Test
    void floatExportPerplexityMatchesLlamaCpp() throws Exception {
        Path g = tmp.resolve("ts-f32.gguf");
        GgufExporter.export(new GgufExporter.Settings(TestData.tinyStories(), g, "f32", false, null), s -> { });
        Path text = lfCopy(TestData.data("tinystories/valid-snippet.txt"));
        double theirs = llamaPerplexity(g, text, 512);
        double ours = ternPerplexity(ModelLoader.load(TestData.tinyStories(), ModelLoader.FloatFormat.F32), text, 512);
        assertEquals(theirs, ours, 1e-3 * theirs, "llama-perplexity " + theirs + " vs tern " + ours);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tq2_0", "tq1_0"})
    void ternaryExportGeneratesAndScoresAsInTern(String type) throws Exception {
        Path cp = TinyTernaryCheckpoint.write(tmp.resolve("cp"), 1, false);
        Path g = tmp.resolve("m-" + type + ".gguf");
        GgufExporter.export(new GgufExporter.Settings(cp, g, type, true, null), s -> { });
        String prompt = "Once upon a time";
        Run r = run(List.of(bin.resolve("llama-simple").toString(), "-m", g.toString(), "-n", "32", prompt));
        assertEquals(0, r.exit(), "llama-simple failed:\n" + tail(r.err()));
        LoadedModel m = ModelLoader.load(cp, ModelLoader.FloatFormat.F32);
        // llama.cpp quantizes activations to 8 bits in its TQ dot products and keeps the KV cache in f16; Tern does
        // neither, so the two agree token for token only while the greedy choice is clear. Compare every token up
        // to the first whose top-2 logit gap in Tern is below 5 % of the logits' standard deviation (an 8-bit activation
        // error moves logits by well under 1 %), or BOS/EOS, where the two programs stop differently.
        var tok = m.tokenizer();
        int[] ids = tok.encode(prompt, true);
        Transformer tf = new Transformer(m.model(), ids.length + 32);
        var cache = tf.newCache(ids.length + 32);
        int hd = m.config().hiddenSize(), vocab = m.config().vocabSize();
        float[] h = tf.forward(ids, 0, ids.length, 0, cache);
        float[] logits = tf.logits(java.util.Arrays.copyOfRange(h, (ids.length - 1) * hd, ids.length * hd), 1);
        List<Integer> clear = new ArrayList<>();
        for (int pos = ids.length; clear.size() < 32; pos++) {
            int best = Sampler.argmax(logits, 0, vocab);
            float second = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) if (i != best) second = Math.max(second, logits[i]);
            double mean = 0, sq = 0;
            for (int i = 0; i < vocab; i++) mean += logits[i];
            mean /= vocab;
            for (int i = 0; i < vocab; i++) sq += (logits[i] - mean) * (logits[i] - mean);
            double std = Math.sqrt(sq / vocab);
            if (logits[best] - second < 0.05 * std || tok.isEos(best) || best == tok.bosId()) break;
            clear.add(best);
            logits = tf.logits(tf.forward(new int[] {best}, 0, 1, pos, cache), 1);
        }
        assertTrue(clear.size() >= 3, "the fixture should give at least 3 clear greedy choices, got " + clear.size());
        String ours = tok.decode(clear.stream().mapToInt(Integer::intValue).toArray()).replace(tok.tokenText(tok.bosId()), "");
        String theirs = r.out().replace(tok.tokenText(tok.bosId()), "");
        assertTrue(theirs.replaceAll("\\s+", "").startsWith((prompt + ours).replaceAll("\\s+", "")),
                "llama-simple continued differently within the " + clear.size() + " clear tokens:\n tern:  " + prompt + ours
                        + "\n llama: " + theirs);
        Path text = lfCopy(TestData.data("tinystories/valid-snippet.txt"));
        double pl = llamaPerplexity(g, text, 512), pt = ternPerplexity(m, text, 512);
        assertEquals(pl, pt, 0.01 * pl, "llama-perplexity " + pl + " vs tern " + pt);
    }
}
