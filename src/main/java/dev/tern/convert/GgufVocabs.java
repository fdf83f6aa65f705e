package dev.tern.convert;

import dev.tern.TernException;
import dev.tern.io.gguf.GgufMetadata;
import dev.tern.io.gguf.GgufWriter;
import dev.tern.model.ModelConfig;
import dev.tern.tokenizer.GgufVocab;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The tokenizer.ggml.* keys of a GGUF file, read into and written from a {@link GgufVocab}. */
public final class GgufVocabs {
    private GgufVocabs() {}

    /** The vocabulary of a GGUF file's metadata; refuses tokenizer models other than llama (SentencePiece) and gpt2. */
    public static GgufVocab read(GgufMetadata md, String where) {
        String model = md.string("tokenizer.ggml.model")
                .orElseThrow(() -> new TernException(where + ": no tokenizer in the GGUF metadata (tokenizer.ggml.model)"));
        if (!model.equals("llama") && !model.equals("gpt2")) {
            throw new TernException(where + ": unsupported GGUF tokenizer model '" + model + "' (Tern reads llama and gpt2)");
        }
        List<String> tokens = md.stringArray("tokenizer.ggml.tokens");
        if (tokens.isEmpty()) throw new TernException(where + ": tokenizer.ggml.tokens is missing or empty");
        float[] scores = md.has("tokenizer.ggml.scores") ? md.floatArray("tokenizer.ggml.scores") : null;
        int[] types = md.has("tokenizer.ggml.token_type") ? md.intArray("tokenizer.ggml.token_type") : defaultTypes(tokens.size());
        List<String> merges = md.has("tokenizer.ggml.merges") ? md.stringArray("tokenizer.ggml.merges") : List.of();
        boolean llama = model.equals("llama");
        return new GgufVocab(model, md.string("tokenizer.ggml.pre").orElse(llama ? null : "default"), tokens, scores, types, merges,
                id(md, "tokenizer.ggml.bos_token_id"), id(md, "tokenizer.ggml.eos_token_id"),
                id(md, "tokenizer.ggml.unknown_token_id"), id(md, "tokenizer.ggml.padding_token_id"),
                md.bool("tokenizer.ggml.add_bos_token").orElse(llama),
                md.bool("tokenizer.ggml.add_eos_token").orElse(false),
                md.bool("tokenizer.ggml.add_space_prefix").orElse(llama));
    }

    private static int[] defaultTypes(int n) {
        int[] t = new int[n];
        java.util.Arrays.fill(t, 1);
        return t;
    }

    private static int id(GgufMetadata md, String key) {
        if (!md.has(key)) return -1;
        long v = md.requireInteger(key);
        return v < 0 || v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    /** Writes the keys llama.cpp's converter writes for this vocabulary. */
    public static void write(GgufWriter w, GgufVocab v) {
        w.putString("tokenizer.ggml.model", v.model());
        if (v.pre() != null) w.putString("tokenizer.ggml.pre", v.pre());
        w.putStringArray("tokenizer.ggml.tokens", v.tokens());
        if (v.scores() != null) w.putF32Array("tokenizer.ggml.scores", v.scores());
        w.putI32Array("tokenizer.ggml.token_type", v.tokenTypes());
        if (!v.merges().isEmpty()) w.putStringArray("tokenizer.ggml.merges", v.merges());
        if (v.bosId() >= 0) w.putU32("tokenizer.ggml.bos_token_id", v.bosId());
        if (v.eosId() >= 0) w.putU32("tokenizer.ggml.eos_token_id", v.eosId());
        if (v.unkId() >= 0) w.putU32("tokenizer.ggml.unknown_token_id", v.unkId());
        if (v.padId() >= 0) w.putU32("tokenizer.ggml.padding_token_id", v.padId());
        w.putBool("tokenizer.ggml.add_bos_token", v.addBos());
        w.putBool("tokenizer.ggml.add_eos_token", v.addEos());
        if (v.model().equals("llama")) w.putBool("tokenizer.ggml.add_space_prefix", v.addSpacePrefix());
    }

    /**
     * The vocabulary of a model folder, padded to the model's embedding rows (llama.cpp wants one token per row):
     * a tokenizer.json, a llama2.c tokenizer, or the tokenizer.gguf a GGUF-sourced Tern checkpoint carries.
     */
    public static GgufVocab ofFolder(Path dir, ModelConfig c) {
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            Path cfg = dir.resolve("tokenizer_config.json");
            return GgufVocab.fromHfTokenizer(json, Files.isRegularFile(cfg) ? cfg : null, c.vocabSize());
        }
        Path tg = dir.resolve(TOKENIZER_FILE);
        if (Files.isRegularFile(tg)) {
            try (var f = dev.tern.io.gguf.GgufFile.open(tg)) {
                return read(f.metadata(), tg.toString());
            }
        }
        Path bin = dev.tern.model.ModelLoader.llama2cTokenizerIn(dir);
        if (bin != null) return GgufVocab.fromLlama2c(bin, c.vocabSize());
        throw new TernException("no tokenizer in " + dir + " to export (expected tokenizer.json, tokenizer.gguf or a llama2.c tokenizer.bin)");
    }

    /** Name of the tokenizer-only GGUF file a Tern checkpoint quantized from a GGUF model carries. */
    public static final String TOKENIZER_FILE = "tokenizer.gguf";

    /** Writes a GGUF file holding only a vocabulary (no tensors), atomically. */
    public static void writeTokenizerFile(Path out, GgufVocab v) {
        GgufWriter w = new GgufWriter();
        write(w, v);
        w.write(out);
    }
}
