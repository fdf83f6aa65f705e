package dev.tern.cli;

import dev.tern.TernException;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.io.ModelDir;
import dev.tern.io.TensorSource;
import dev.tern.model.ModelLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `tern inspect`: what a model folder or Tern checkpoint holds, and its bits per weight. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show a model's config, tensors and bits per weight.")
final class InspectCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|REPO")
    String model;

    @Option(names = "--layers", description = "List every quantized layer.")
    boolean layers;

    @Override
    public Integer call() throws Exception {
        Path dir = ModelLoader.resolve(model);
        if (!Files.isDirectory(dir)) throw new TernException("not a folder: " + dir);
        if (!TernCheckpoint.isCheckpoint(dir)) {
            ModelDir md = ModelDir.open(dir);
            var cfg = md.config();
            long params = 0;
            try (TensorSource src = md.openWeights()) {
                for (String n : src.names()) params += numel(src.shape(n));
            }
            System.out.printf("model       %s (%s)%n", dir, md.format().name().toLowerCase());
            System.out.printf("config      %s%n", cfg);
            System.out.printf("parameters  %d%n", params);
            return 0;
        }
        TernCheckpoint.Contents c = TernCheckpoint.read(dir);
        try (var f = c.file()) {
            long qBits = 0, qWeights = 0, other = 0;
            Map<String, long[]> byKind = new TreeMap<>();
            for (var e : c.layers().entrySet()) {
                QuantizedMatrix q = e.getValue();
                long w = (long) q.rows() * q.cols();
                qBits += q.storageBits();
                qWeights += w;
                byKind.computeIfAbsent(q.kind(), k -> new long[2])[0] += q.storageBits();
                byKind.get(q.kind())[1] += w;
                if (layers) System.out.printf("  %-45s %-9s %5d x %-5d %6.3f bits/w%s%n", e.getKey(), q.kind(), q.rows(), q.cols(),
                        (double) q.storageBits() / w, q.perm() != null ? "  permuted" : "");
            }
            for (String n : f.storedNames()) {
                if (n.endsWith(".weight") || n.endsWith(".bias")) other += numel(f.shape(n));
            }
            long fileBytes = Files.size(dir.resolve(TernCheckpoint.FILE));
            System.out.printf("checkpoint  %s%n", dir);
            c.metadata().entrySet().stream().filter(e -> e.getKey().startsWith("tern.") && !e.getKey().equals(TernCheckpoint.LAYERS_KEY))
                    .forEach(e -> System.out.printf("  %-20s %s%n", e.getKey(), e.getValue()));
            System.out.printf("quantized   %d layers, %d weights, %.3f bits/weight (codes + scales + offsets + permutation)%n",
                    c.layers().size(), qWeights, (double) qBits / qWeights);
            byKind.forEach((k, v) -> System.out.printf("  %-10s %.3f bits/weight over %d weights%n", k, (double) v[0] / v[1], v[1]));
            System.out.printf("float       %d parameters kept as stored (embeddings, norms, head, biases)%n", other);
            System.out.printf("file        %d bytes, %.3f bits per parameter overall%n", fileBytes, 8.0 * fileBytes / (qWeights + other));
        }
        return 0;
    }

    private static long numel(long[] s) {
        long n = 1;
        for (long d : s) n *= d;
        return n;
    }
}
