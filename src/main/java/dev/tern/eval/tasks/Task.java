package dev.tern.eval.tasks;

import dev.tern.TernException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The seven zero-shot tasks of the PT²-LLM paper, with their data files and whether acc_norm is reported. */
public enum Task {
    PIQA("piqa", "piqa.jsonl", true),
    ARC_EASY("arc_easy", "arc_easy.jsonl", true),
    ARC_CHALLENGE("arc_challenge", "arc_challenge.jsonl", true),
    HELLASWAG("hellaswag", "hellaswag_val.txt", true),
    WINOGRANDE("winogrande", "winogrande.jsonl", false),
    OPENBOOKQA("openbookqa", "openbook_qa.jsonl", true),
    BOOLQ("boolq", "boolq.jsonl", false);

    private final String id, file;
    private final boolean reportsNorm;

    Task(String id, String file, boolean reportsNorm) {
        this.id = id;
        this.file = file;
        this.reportsNorm = reportsNorm;
    }

    /** The harness's task name (also the key in the JSON results). */
    public String id() {
        return id;
    }

    /** File name under data/tasks/. */
    public String file() {
        return file;
    }

    /** Whether the harness reports acc_norm for this task (it does for the tasks whose YAML lists it). */
    public boolean reportsNorm() {
        return reportsNorm;
    }

    /** A comma-separated list of task names; "paper" stands for all seven. Order kept, duplicates dropped. */
    public static List<Task> parse(String spec) {
        Set<Task> out = new LinkedHashSet<>();
        for (String raw : spec.split(",")) {
            String name = raw.strip().toLowerCase(Locale.ROOT);
            if (name.isEmpty()) continue;
            if (name.equals("paper") || name.equals("all")) {
                out.addAll(List.of(values()));
                continue;
            }
            Task t = byId(name);
            if (t == null) {
                List<String> names = new ArrayList<>();
                for (Task k : values()) names.add(k.id);
                throw new TernException("unknown task '" + raw.strip() + "' (use " + String.join(", ", names) + " or paper)");
            }
            out.add(t);
        }
        if (out.isEmpty()) throw new TernException("--tasks is empty (use e.g. --tasks paper)");
        return List.copyOf(out);
    }

    private static Task byId(String name) {
        for (Task t : values()) if (t.id.equals(name)) return t;
        // Common spellings people type: arc-e, arc_c, obqa, openbook_qa.
        return switch (name) {
            case "arc-easy", "arc_e", "arc-e", "arce" -> ARC_EASY;
            case "arc-challenge", "arc_c", "arc-c", "arcc" -> ARC_CHALLENGE;
            case "obqa", "openbook_qa", "openbook-qa" -> OPENBOOKQA;
            default -> null;
        };
    }
}
