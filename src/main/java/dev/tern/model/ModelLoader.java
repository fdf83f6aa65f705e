package dev.tern.model;

import dev.tern.TernException;

/** Loads any model Tern accepts — a Hugging Face folder or repo id, a llama2.c checkpoint, a Tern checkpoint. */
public final class ModelLoader {
    /** How dense float weights are held in memory. */
    public enum FloatFormat {
        F32, BF16;

        public static FloatFormat parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "f32", "fp32", "float32" -> F32;
                case "bf16", "bfloat16" -> BF16;
                default -> throw new TernException("unknown weight format '" + s + "' (use f32 or bf16)");
            };
        }
    }

    private ModelLoader() {}

    public static LoadedModel load(String model, FloatFormat format) {
        throw new TernException("loading is not wired yet");
    }
}
