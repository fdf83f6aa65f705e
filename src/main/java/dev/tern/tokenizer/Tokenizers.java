package dev.tern.tokenizer;

import dev.tern.TernException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds and loads the tokenizer that belongs to a model file or directory. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * A directory with tokenizer.json (and optionally tokenizer_config.json), a tokenizer.json itself, or a llama2.c
     * tokenizer .bin (all of whose tokens are loaded).
     */
    public static Tokenizer load(Path path) {
        if (Files.isDirectory(path)) {
            Path json = path.resolve("tokenizer.json");
            if (Files.isRegularFile(json)) {
                Path cfg = path.resolve("tokenizer_config.json");
                return HfTokenizer.load(json, Files.isRegularFile(cfg) ? cfg : null);
            }
            Path bin = path.resolve("tokenizer.bin");
            if (Files.isRegularFile(bin)) {
                return Llama2cTokenizer.load(bin);
            }
            throw new TernException(path + ": no tokenizer.json or tokenizer.bin in this directory");
        }
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        if (name.endsWith(".json")) {
            Path cfg = path.resolveSibling("tokenizer_config.json");
            return HfTokenizer.load(path, Files.isRegularFile(cfg) ? cfg : null);
        }
        if (name.endsWith(".bin")) {
            return Llama2cTokenizer.load(path);
        }
        throw new TernException(path + ": unsupported tokenizer file (expected tokenizer.json or a llama2.c .bin)");
    }
}
