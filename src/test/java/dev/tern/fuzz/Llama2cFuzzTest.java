package dev.tern.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tern.io.Llama2cCheckpoint;
import dev.tern.tokenizer.Llama2cTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Fuzzes the llama2.c readers: the legacy checkpoint header/layout and tokenizer.bin. */
class Llama2cFuzzTest {
    private static final Path DIR = FuzzChecks.scratchDir("llama2c");

    @FuzzTest(maxDuration = "10s")
    void checkpoint(byte[] input) {
        Path f = DIR.resolve("model.bin");
        FuzzChecks.writeOrDelete(f, input);
        FuzzChecks.parsesOrTernException(() -> {
            try (Llama2cCheckpoint c = Llama2cCheckpoint.open(f)) {
                c.config();
                c.sharedClassifier();
                SafetensorsFuzzTest.touchAll(c);
            }
        });
    }

    /** Input: tokenizer.bin, then optionally a separator and a text to encode/decode. */
    @FuzzTest(maxDuration = "10s")
    void tokenizer(byte[] input) {
        List<byte[]> parts = FuzzInput.split(input, 2);
        Path f = DIR.resolve("tokenizer.bin");
        FuzzChecks.writeOrDelete(f, parts.get(0));
        String text = parts.size() > 1 ? new String(parts.get(1), StandardCharsets.UTF_8) : "Once upon a time";
        String shortText = text.substring(0, Math.min(text.length(), 256));
        FuzzChecks.parsesOrTernException(() -> {
            Llama2cTokenizer t = Llama2cTokenizer.load(f);
            HfTokenizerFuzzTest.exercise(t, shortText, true);
            for (int i = 0; i < Math.min(t.vocabSize(), 4); i++) t.score(i);
            // The fixed-size variant (vocab_size from a model header) must agree, and refuse a size past the end.
            if (Llama2cTokenizer.load(f, t.vocabSize()).vocabSize() != t.vocabSize()) throw new AssertionError("vocab");
            Llama2cTokenizer.load(f, t.vocabSize() + 1);
        });
    }
}
