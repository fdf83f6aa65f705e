package dev.tern.cli;

import dev.tern.kernels.KernelConfig;
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

    /** The model, its ternary layers on the kernel that decodes fastest here (generate, bench). */
    public LoadedModel load() {
        return load(KernelConfig.Workload.DECODE);
    }

    /** The model, its ternary layers on the kernel that runs this workload fastest here. */
    public LoadedModel load(KernelConfig.Workload workload) {
        return load(model, workload);
    }

    /** Another model (e.g. {@code eval --vs}) with the same --weights and kernel options. */
    public LoadedModel load(String other, KernelConfig.Workload workload) {
        return ModelLoader.load(other, ModelLoader.FloatFormat.parse(weights), kernels.config().forWorkload(workload), kernels.log());
    }
}
