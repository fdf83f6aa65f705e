package dev.tern.tokenizer;

import dev.tern.TernException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** A tokenizer as GGUF metadata holds it (tokenizer.ggml.*), convertible from Tern's tokenizers and back into one. */
public record GgufVocab(String model, String pre, List<String> tokens, float[] scores, int[] tokenTypes,
        List<String> merges, int bosId, int eosId, int unkId, int padId, boolean addBos, boolean addEos,
        boolean addSpacePrefix) {

    /** tokenizer.ggml.token_type values (llama.cpp's llama_token_type). */
    public static final int NORMAL = 1;
    public static final int UNKNOWN = 2;
    public static final int CONTROL = 3;
    public static final int USER_DEFINED = 4;
    public static final int UNUSED = 5;
    public static final int BYTE = 6;

    /** tokenizer.ggml.model of SentencePiece vocabularies (scores, byte fallback). */
    public static final String LLAMA = "llama";
    /** tokenizer.ggml.model of byte-level BPE vocabularies (merges). */
    public static final String GPT2 = "gpt2";

    /**
     * From a Hugging Face tokenizer.json (+ optional tokenizer_config.json), padded with unused "[PAD&lt;i&gt;]" tokens
     * to vocabSize (the model's embedding rows; at least the tokenizer's size). SentencePiece-style BPE (▁, byte
     * fallback) becomes "llama" with scores from the merge ranks, so that llama.cpp's score-driven merging replays the
     * BPE merges; byte-level BPE becomes "gpt2" with its merges and a pre name recognised from the pre-tokenizer.
     */
    public static GgufVocab fromHfTokenizer(Path tokenizerJson, Path tokenizerConfigJson, int vocabSize) {
        return HfToGguf.convert(tokenizerJson, tokenizerConfigJson, vocabSize);
    }

    /** From a llama2.c tokenizer.bin (it has scores) → "llama", padded to vocabSize like fromHfTokenizer. */
    public static GgufVocab fromLlama2c(Path tokenizerBin, int vocabSize) {
        Llama2cTokenizer l2c = Llama2cTokenizer.load(tokenizerBin);
        int n = l2c.vocabSize();
        checkVocabSize(tokenizerBin, n, vocabSize);
        List<String> tokens = new ArrayList<>(vocabSize);
        float[] scores = new float[vocabSize];
        int[] types = new int[vocabSize];
        float lowest = 0;
        for (int id = 0; id < n; id++) {
            String text = l2c.tokenText(id);
            // llama2.c's export turned ▁ into spaces and wrapped BOS/EOS in newlines; GGUF keeps SentencePiece's spelling.
            types[id] = id == 0 ? UNKNOWN : id <= 2 ? CONTROL : TokenDecoder.byteToken(text) >= 0 ? BYTE : NORMAL;
            tokens.add(id == 1 ? "<s>" : id == 2 ? "</s>" : types[id] == NORMAL ? text.replace(' ', '\u2581') : text);
            scores[id] = l2c.score(id);
            lowest = Math.min(lowest, scores[id]);
        }
        pad(tokens, scores, types, n, vocabSize, lowest - 1);
        return new GgufVocab(LLAMA, null, List.copyOf(tokens), scores, types, List.of(), 1, 2, 0, -1, true, false, true);
    }

    static void checkVocabSize(Path file, int tokenizerSize, int vocabSize) {
        if (vocabSize < tokenizerSize) {
            throw new TernException(file + ": the tokenizer has " + tokenizerSize + " tokens, more than the model's vocab size "
                    + vocabSize);
        }
    }

    /** Fills ids from..vocabSize-1 with unused "[PAD&lt;i&gt;]" tokens, which nothing encodes to and decode skips. */
    static void pad(List<String> tokens, float[] scores, int[] types, int from, int vocabSize, float score) {
        for (int id = from; id < vocabSize; id++) {
            tokens.add("[PAD" + id + "]");
            types[id] = UNUSED;
            if (scores != null) {
                scores[id] = score;
            }
        }
    }

    /**
     * A Tern Tokenizer with llama.cpp's semantics for this vocabulary: "llama" → {@link SpmTokenizer}, "gpt2" →
     * {@link GgufBpeTokenizer}. Special tokens (CONTROL, USER_DEFINED, UNKNOWN) in the text are always recognised.
     */
    public Tokenizer tokenizer() {
        validate();
        return model.equals(LLAMA) ? new SpmTokenizer(this) : new GgufBpeTokenizer(this);
    }

    /** Checks that the metadata is self-consistent; returns this. Each problem is a one-line TernException. */
    public GgufVocab validate() {
        if (!LLAMA.equals(model) && !GPT2.equals(model)) {
            throw new TernException("unsupported tokenizer.ggml.model \"" + model + "\" (supported: llama, gpt2)");
        }
        if (tokens == null || tokens.isEmpty()) {
            throw new TernException("tokenizer.ggml.tokens is missing or empty");
        }
        int n = tokens.size();
        for (int i = 0; i < n; i++) {
            if (tokens.get(i) == null) {
                throw new TernException("tokenizer.ggml.tokens[" + i + "] is null");
            }
        }
        if (tokenTypes == null || tokenTypes.length != n) {
            throw new TernException("tokenizer.ggml.token_type has " + (tokenTypes == null ? "no" : tokenTypes.length)
                    + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            if (tokenTypes[i] < NORMAL || tokenTypes[i] > BYTE) {
                throw new TernException("tokenizer.ggml.token_type[" + i + "] is " + tokenTypes[i] + ", not a token type (1..6)");
            }
        }
        if (model.equals(LLAMA)) {
            if (scores == null || scores.length != n) {
                throw new TernException("tokenizer.ggml.scores has " + (scores == null ? "no" : scores.length)
                        + " entries for " + n + " tokens (model llama needs one score per token)");
            }
            for (int i = 0; i < n; i++) {
                if (Float.isNaN(scores[i])) {
                    throw new TernException("tokenizer.ggml.scores[" + i + "] is NaN");
                }
                if (tokenTypes[i] == BYTE && TokenDecoder.byteToken(tokens.get(i)) < 0) {
                    throw new TernException("token " + i + " \"" + tokens.get(i) + "\" has type BYTE but is not of the form <0xXX>");
                }
            }
        } else if (merges == null) {
            throw new TernException("tokenizer.ggml.merges is missing (model gpt2 needs merges)");
        }
        checkId("bos_token_id", bosId, n);
        checkId("eos_token_id", eosId, n);
        checkId("unknown_token_id", unkId, n);
        checkId("padding_token_id", padId, n);
        if (addBos && bosId < 0) {
            throw new TernException("tokenizer.ggml.add_bos_token is true but there is no bos_token_id");
        }
        if (addEos && eosId < 0) {
            throw new TernException("tokenizer.ggml.add_eos_token is true but there is no eos_token_id");
        }
        return this;
    }

    private static void checkId(String key, int id, int n) {
        if (id < -1 || id >= n) {
            throw new TernException("tokenizer.ggml." + key + " " + id + " is outside the vocabulary (size " + n + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufVocab v && Objects.equals(model, v.model) && Objects.equals(pre, v.pre)
                && Objects.equals(tokens, v.tokens) && Arrays.equals(scores, v.scores)
                && Arrays.equals(tokenTypes, v.tokenTypes) && Objects.equals(merges, v.merges) && bosId == v.bosId
                && eosId == v.eosId && unkId == v.unkId && padId == v.padId && addBos == v.addBos && addEos == v.addEos
                && addSpacePrefix == v.addSpacePrefix;
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, pre, tokens, Arrays.hashCode(scores), Arrays.hashCode(tokenTypes), merges, bosId, eosId,
                unkId, padId, addBos, addEos, addSpacePrefix);
    }

    @Override
    public String toString() {
        return "GgufVocab[model=" + model + ", pre=" + pre + ", tokens=" + (tokens == null ? 0 : tokens.size()) + ", merges="
                + (merges == null ? 0 : merges.size()) + ", bos=" + bosId + ", eos=" + eosId + ", unk=" + unkId + ", pad="
                + padId + ", addBos=" + addBos + ", addEos=" + addEos + ", addSpacePrefix=" + addSpacePrefix + "]";
    }
}
