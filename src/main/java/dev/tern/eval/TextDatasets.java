package dev.tern.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TernException;
import dev.tern.util.SharedPaths;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** The evaluation and calibration texts Tern knows by name, read from the shared data folder. */
public final class TextDatasets {
    private TextDatasets() {}

    public static final List<String> EVAL_NAMES = List.of("wikitext2", "c4", "ptb");

    /** Evaluation text of a named data set, joined the way the GPTQ evaluation joins it. */
    public static String evalText(String name) {
        return switch (name) {
            // Rows joined with "\n\n" — the file in shared/ is already in that form.
            case "wikitext2" -> read(SharedPaths.requireData("wikitext2/test.txt", "WikiText-2 test set"));
            case "c4" -> c4Text();
            case "ptb" -> read(SharedPaths.requireData("ptb/test.txt", "PTB test set"));
            default -> throw new TernException("unknown dataset '" + name + "' (known: " + String.join(", ", EVAL_NAMES) + ")");
        };
    }

    /** Calibration text by name (wikitext2 train, tinystories) or a file path. */
    public static String calibrationText(String nameOrFile) {
        return switch (nameOrFile) {
            case "wikitext2" -> read(SharedPaths.requireData("wikitext2/train.tokens", "WikiText-2 train set"));
            case "tinystories" -> read(SharedPaths.requireData("tinystories/train-head.txt", "TinyStories train text"));
            default -> {
                Path p = Path.of(nameOrFile);
                if (!Files.isRegularFile(p)) {
                    throw new TernException("calibration set '" + nameOrFile + "' is neither wikitext2, tinystories nor a readable file");
                }
                yield read(p);
            }
        };
    }

    public static String read(Path p) {
        if (!Files.isRegularFile(p)) throw new TernException("text file not found: " + p);
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new TernException(p + " is not valid UTF-8 text");
        } catch (IOException e) {
            throw new TernException("cannot read " + p + ": " + e.getMessage());
        }
    }

    /** The C4 validation sample: every document's text, joined with single spaces as GPTQ's C4 evaluation does. */
    private static String c4Text() {
        Path dir = SharedPaths.data("c4");
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".json.gz")).sorted().toList();
        } catch (IOException e) {
            throw new TernException("C4 sample not found: expected " + dir.toAbsolutePath().normalize() + "/*.json.gz");
        }
        if (files.isEmpty()) throw new TernException("C4 sample not found: no *.json.gz in " + dir);
        ObjectMapper json = new ObjectMapper();
        List<String> docs = new ArrayList<>();
        for (Path f : files) {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(f)), StandardCharsets.UTF_8))) {
                String line;
                int no = 0;
                while ((line = r.readLine()) != null) {
                    no++;
                    if (line.isBlank()) continue;
                    JsonNode n;
                    try {
                        n = json.readTree(line);
                    } catch (IOException e) {
                        throw new TernException(f + " line " + no + ": malformed JSON");
                    }
                    if (!n.path("text").isTextual()) throw new TernException(f + " line " + no + ": no \"text\" field");
                    docs.add(n.get("text").asText());
                }
            } catch (IOException e) {
                throw new TernException("cannot read " + f + ": " + e.getMessage());
            }
        }
        return String.join(" ", docs);
    }
}
