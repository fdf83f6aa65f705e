package dev.tern.io;

import dev.tern.TernException;
import dev.tern.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** A local model: a Hugging Face folder (config.json + safetensors), a llama2.c checkpoint + tokenizer, or a GGUF file. */
public final class ModelDir {
    public enum Format { SAFETENSORS, SHARDED_SAFETENSORS, LLAMA2C, GGUF }

    private final Path dir;
    private final Format format;
    private final List<Path> weightFiles;
    private final Path weightsEntry;
    private final Path llama2cTokenizer;

    private ModelDir(Path dir, Format format, Path weightsEntry, List<Path> weightFiles, Path llama2cTokenizer) {
        this.dir = dir;
        this.format = format;
        this.weightsEntry = weightsEntry;
        this.weightFiles = List.copyOf(weightFiles);
        this.llama2cTokenizer = llama2cTokenizer;
    }

    /** Inspects a folder; checks that everything needed to load the weights is there, without loading them. */
    public static ModelDir open(Path dir) {
        if (!Files.exists(dir)) throw new TernException("model folder not found: " + dir);
        if (dev.tern.convert.GgufFiles.looksLikeGguf(dir)) return new ModelDir(dir, Format.GGUF, dir, List.of(dir), null);
        if (!Files.isDirectory(dir)) throw new TernException("not a folder: " + dir + " (expected a model folder)");
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        boolean hasConfig = Files.isRegularFile(dir.resolve("config.json"));
        if (hasConfig) {
            if (Files.isRegularFile(single)) return new ModelDir(dir, Format.SAFETENSORS, single, List.of(single), null);
            if (Files.isRegularFile(index)) {
                return new ModelDir(dir, Format.SHARDED_SAFETENSORS, index, ShardedSafetensors.shardPaths(index), null);
            }
            String hint = Files.exists(dir.resolve("pytorch_model.bin"))
                    ? " (PyTorch .bin weights are not supported: convert them to safetensors)" : "";
            throw new TernException("no weights in " + dir + ": expected model.safetensors or"
                    + " model.safetensors.index.json" + hint);
        }
        List<Path> bins = new ArrayList<>(), toks = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".bin")).sorted().forEach(p -> {
                String n = p.getFileName().toString();
                (n.startsWith("tok") ? toks : bins).add(p);
            });
        } catch (IOException e) {
            throw new TernException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (bins.size() == 1 && toks.size() == 1) {
            return new ModelDir(dir, Format.LLAMA2C, bins.getFirst(), bins, toks.getFirst());
        }
        if (bins.size() == 1 && !bins.getFirst().getFileName().toString().startsWith("pytorch_model")) {
            throw new TernException("no tokenizer in " + dir + ": llama2.c checkpoint " + bins.getFirst().getFileName()
                    + " needs a tokenizer.bin or tok*.bin next to it" + (toks.size() > 1 ? " (found several)" : ""));
        }
        if (bins.size() > 1 && !Files.isRegularFile(single) && !Files.isRegularFile(index)) {
            throw new TernException("ambiguous model folder " + dir + ": several .bin checkpoints " + names(bins));
        }
        if (Files.isRegularFile(single) || Files.isRegularFile(index) || !bins.isEmpty()) {
            throw new TernException("no config.json in " + dir);
        }
        throw new TernException("no config.json and no weights in " + dir
                + " (expected config.json + model.safetensors, or a llama2.c *.bin + tokenizer.bin)");
    }

    private static String names(List<Path> ps) {
        return ps.stream().map(p -> p.getFileName().toString()).toList().toString();
    }

    public Path dir() {
        return dir;
    }

    public Format format() {
        return format;
    }

    /** model.safetensors, the shards of an index, or the llama2.c checkpoint. */
    public List<Path> weightFiles() {
        return weightFiles;
    }

    /** config.json; empty for a llama2.c folder or a GGUF file (their config is in the file's header). */
    public Optional<Path> configJson() {
        if (format == Format.GGUF) return Optional.empty();
        return existing("config.json");
    }

    public Optional<Path> tokenizerJson() {
        return existing("tokenizer.json");
    }

    public Optional<Path> tokenizerConfigJson() {
        return existing("tokenizer_config.json");
    }

    public Optional<Path> generationConfigJson() {
        return existing("generation_config.json");
    }

    /** The llama2.c tokenizer (tokenizer.bin / tok*.bin); empty for Hugging Face folders. */
    public Optional<Path> llama2cTokenizer() {
        return Optional.ofNullable(llama2cTokenizer);
    }

    private Optional<Path> existing(String name) {
        if (format == Format.GGUF) return Optional.empty();
        Path p = dir.resolve(name);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /** Parsed config.json, or the llama2.c header translated to the same form. */
    public ModelConfig config() {
        if (format == Format.GGUF) {
            try (var g = dev.tern.convert.GgufModelSource.open(weightsEntry)) {
                return g.config();
            }
        }
        if (format == Format.LLAMA2C) {
            try (Llama2cCheckpoint c = Llama2cCheckpoint.open(weightsEntry)) {
                return c.config();
            }
        }
        return ModelConfig.read(dir.resolve("config.json"));
    }

    /** Opens the weights; the caller closes the returned source. */
    public TensorSource openWeights() {
        return switch (format) {
            case SAFETENSORS -> SafetensorsFile.open(weightsEntry);
            case SHARDED_SAFETENSORS -> ShardedSafetensors.open(weightsEntry);
            case LLAMA2C -> Llama2cCheckpoint.open(weightsEntry);
            case GGUF -> dev.tern.convert.GgufModelSource.open(weightsEntry);
        };
    }
}
