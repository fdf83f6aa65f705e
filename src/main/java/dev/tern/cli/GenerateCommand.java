package dev.tern.cli;

import dev.tern.TernException;
import dev.tern.model.Generator;
import dev.tern.model.LoadedModel;
import dev.tern.model.Sampler;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `tern generate`: streams a continuation of a prompt (greedy by default, or temperature/top-p sampling). */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate text, printing tokens as they come.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = {"-p", "--prompt"}, defaultValue = "", description = "Prompt text (default: empty, start from BOS).")
    String prompt;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256", description = "Tokens to generate at most (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = {"-t", "--temperature"}, defaultValue = "0", description = "0 = greedy (default); > 0 samples.")
    float temperature;

    @Option(names = "--top-p", defaultValue = "0.9", description = "Nucleus sampling mass when temperature > 0 (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        if (maxTokens < 0) throw new TernException("--max-tokens must be >= 0");
        if (temperature < 0) throw new TernException("--temperature must be >= 0");
        if (!(topP > 0 && topP <= 1)) throw new TernException("--top-p must be in (0, 1]");
        LoadedModel m = modelOptions.load();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Generator.Stats s = new Generator(m).generate(prompt, maxTokens, new Sampler(temperature, topP, seed), piece -> {
            out.print(piece);
            out.flush();
        });
        out.println();
        System.err.printf("tern: %d prompt tokens (%.1f tok/s), %d generated (%.1f tok/s)%n", s.promptTokens(),
                s.prefillTokensPerSecond(), s.generatedTokens(), s.decodeTokensPerSecond());
        return 0;
    }
}
