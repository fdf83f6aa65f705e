package dev.tern.cli;

import dev.tern.model.LoadedModel;
import dev.tern.model.ModelLoader;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The --model / --weights options and the kernel options shared by every command that loads a model. */
public final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|REPO",
            description = "Model folder (Hugging Face, llama2.c or Tern checkpoint) or a Hugging Face repo id.")
    String model;

    @Option(names = "--weights", paramLabel = "FORMAT", defaultValue = "f32",
            description = "How float weights are held in memory: f32 (default) or bf16.")
    String weights;

    @Mixin KernelOptions kernels;

    public LoadedModel load() {
        return ModelLoader.load(model, ModelLoader.FloatFormat.parse(weights), kernels.config(), kernels.log());
    }
}
