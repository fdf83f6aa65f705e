package dev.tern.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tern.tokenizer.HfTokenizer;
import dev.tern.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Fuzzes tokenizer.json + tokenizer_config.json loading, then encodes and decodes a short text with the result.
 * Input: tokenizer.json, tokenizer_config.json, text, joined by {@link FuzzInput#SEPARATOR}; without a config part
 * the tokenizer is loaded without one.
 */
class HfTokenizerFuzzTest {
    /** Texts longer than this would make a slow-but-correct encode look like a hang. */
    private static final int MAX_TEXT = 256;
    private static final Path DIR = FuzzChecks.scratchDir("hftok");

    @FuzzTest(maxDuration = "10s")
    void load(byte[] input) {
        List<byte[]> parts = FuzzInput.split(input, 3);
        Path json = DIR.resolve("tokenizer.json");
        Path config = DIR.resolve("tokenizer_config.json");
        FuzzChecks.writeOrDelete(json, parts.get(0));
        FuzzChecks.writeOrDelete(config, parts.size() > 1 ? parts.get(1) : null);
        String text = parts.size() > 2 ? new String(parts.get(2), StandardCharsets.UTF_8) : "Once upon a time";
        String shortText = text.substring(0, Math.min(text.length(), MAX_TEXT));
        FuzzChecks.parsesOrTernException(
                () -> exercise(HfTokenizer.load(json, parts.size() > 1 ? config : null), shortText, false));
    }

    /**
     * Encode, decode, stream-decode and probe ids at and beyond the vocabulary's edges. {@code exactStream} also
     * demands streamed text equal to decode(): guaranteed for byte-level llama2.c pieces, but only "usually" for
     * HF decoder chains (a hostile Strip/Replace chain may see different windows), which is not a robustness bug.
     */
    static void exercise(Tokenizer t, String text, boolean exactStream) {
        int n = t.vocabSize();
        for (boolean bos : new boolean[] {false, true}) {
            int[] ids = t.encode(text, bos);
            for (int id : ids) {
                if (id < 0 || id >= n) throw new AssertionError("encode produced id " + id + " outside vocab " + n);
            }
            String whole = t.decode(ids);
            Tokenizer.StreamDecoder sd = t.streamDecoder();
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) streamed.append(sd.next(id));
            streamed.append(sd.flush());
            if (exactStream && !streamed.toString().equals(whole)) {
                throw new AssertionError("stream decode \"" + streamed + "\" != decode \"" + whole + "\"");
            }
        }
        for (int id : new int[] {0, n - 1, t.bosId()}) {
            if (id >= 0 && id < n) {
                t.tokenText(id);
                t.isSpecial(id);
                t.decode(new int[] {id, id});
            }
        }
        t.eosIds().forEach(t::isEos);
        // Out-of-range ids are a caller error the tokenizer must reject with a clear message, not an index crash.
        for (int bad : new int[] {-1, n, Integer.MAX_VALUE}) {
            try {
                t.decode(new int[] {bad});
                throw new AssertionError("decode accepted id " + bad + " (vocab " + n + ")");
            } catch (dev.tern.TernException expected) {
                // the documented refusal
            }
        }
    }
}
