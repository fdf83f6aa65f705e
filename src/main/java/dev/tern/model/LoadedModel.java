package dev.tern.model;

import dev.tern.tokenizer.Tokenizer;
import java.nio.file.Path;

/** A model ready to run: weights, tokenizer, where it came from and what format its linear layers are in. */
public record LoadedModel(LlamaModel model, Tokenizer tokenizer, Path dir, String source) {
    public ModelConfig config() {
        return model.config();
    }
}
