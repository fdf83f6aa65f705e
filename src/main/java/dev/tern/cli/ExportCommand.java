package dev.tern.cli;

import dev.tern.TernException;
import dev.tern.convert.GgufExporter;
import dev.tern.model.ModelLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `tern export`: a model as a GGUF file for llama.cpp and the tools built on it. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a model as a GGUF v3 file that llama.cpp loads: ternary layers as TQ2_0/TQ1_0, the rest F16/F32.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|FILE|REPO",
            description = "A Tern checkpoint, a float model folder (Hugging Face or llama2.c), a GGUF file, or a repo id.")
    String model;

    @Option(names = "--gguf", required = true, paramLabel = "OUT.gguf", description = "The GGUF file to write (atomically).")
    Path gguf;

    @Option(names = "--type", paramLabel = "T",
            description = "tq2_0 (default for ternary models; 2.06 bits/weight), tq1_0 (1.69), f16 (default for float models) or f32.")
    String type;

    @Option(names = "--strict", description = "Refuse layers that the ternary type cannot hold exactly, instead of writing them as F16.")
    boolean strict;

    @Option(names = "--name", paramLabel = "NAME", description = "general.name in the file (default: the model's folder name).")
    String name;

    @Override
    public Integer call() {
        Path dir = ModelLoader.resolve(model);
        String t = type != null ? type : (hasTernaryLayers(dir) ? "tq2_0" : "f16");
        if (strict && !t.startsWith("tq")) throw new TernException("--strict applies to --type tq2_0 and tq1_0");
        GgufExporter.Summary s = GgufExporter.export(new GgufExporter.Settings(dir, gguf, t, strict, name),
                line -> System.err.println("tern: " + line));
        System.out.printf("wrote       %s (%.1f MiB in %.1f s)%n", s.out(), s.bytes() / 1048576.0, s.seconds());
        System.out.printf("tensors     %s%n", s.tensorsByType());
        if (!s.fallbacks().isEmpty()) {
            System.out.printf("as F16      %d layer(s) that %s cannot hold exactly (listed above)%n", s.fallbacks().size(), t.toUpperCase());
        }
        return 0;
    }

    private static boolean hasTernaryLayers(Path dir) {
        if (dev.tern.format.TernCheckpoint.isCheckpoint(dir)) return true;
        if (dev.tern.convert.GgufFiles.looksLikeGguf(dir)) {
            try (var g = dev.tern.convert.GgufModelSource.open(dir)) {
                return g.hasTernaryLayers();
            }
        }
        return false;
    }
}
