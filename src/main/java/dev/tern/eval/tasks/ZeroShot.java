package dev.tern.eval.tasks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.TernException;
import dev.tern.io.AtomicFiles;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Runs a list of zero-shot tasks on one LogLikelihood and reports them as a table or lm-eval-style JSON. */
public final class ZeroShot {
    private ZeroShot() {}

    /** The tasks run (in order) and the wall time of the whole run. */
    public record Report(List<TaskResult> results, double seconds) {
        /** Mean acc over the tasks run. */
        public double average() {
            return results.stream().mapToDouble(TaskResult::acc).average().orElse(Double.NaN);
        }

        /** Mean acc_norm over the tasks run that report it (NaN when none does). */
        public double averageNorm() {
            return results.stream().filter(TaskResult::hasNorm).mapToDouble(TaskResult::accNorm).average().orElse(Double.NaN);
        }
    }

    /**
     * Loads and scores each task whose file is in dataDir; a missing file is skipped with a note on {@code notes}.
     * limit ≤ 0 means every item.
     */
    public static Report run(List<Task> tasks, Path dataDir, int limit, LogLikelihood ll, boolean progress,
            PrintStream notes) {
        long t0 = System.nanoTime();
        List<TaskResult> results = new ArrayList<>();
        for (Task t : tasks) {
            Path file = dataDir.resolve(t.file());
            if (!Files.isRegularFile(file)) {
                notes.println("tern: skipping " + t.id() + ": data file not found: " + file.toAbsolutePath().normalize());
                continue;
            }
            List<Example> items = TaskLoader.load(t, file, limit);
            if (items.isEmpty()) {
                notes.println("tern: skipping " + t.id() + ": no items in " + file);
                continue;
            }
            results.add(TaskScorer.run(t, items, ll, progress));
        }
        if (results.isEmpty()) {
            throw new TernException("no task could be run: none of the data files was found in "
                    + dataDir.toAbsolutePath().normalize() + " (set TERN_SHARED or --task-data)");
        }
        return new Report(results, (System.nanoTime() - t0) / 1e9);
    }

    /** The results table: task, n, acc ± stderr, acc_norm ± stderr, the averages and the time taken. */
    public static String table(Report r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-14s %6s  %-17s  %-17s %8s%n", "task", "n", "acc", "acc_norm", "time"));
        for (TaskResult t : r.results()) {
            sb.append(String.format(Locale.ROOT, "%-14s %6d  %-17s  %-17s %7.1fs%n", t.task().id(), t.n(),
                    pm(t.acc(), t.accStderr()), t.hasNorm() ? pm(t.accNorm(), t.accNormStderr()) : "-", t.seconds()));
        }
        String norm = Double.isNaN(r.averageNorm()) ? "-" : String.format(Locale.ROOT, "%.4f", r.averageNorm());
        sb.append(String.format(Locale.ROOT, "%-14s %6s  %-17s  %-17s %7.1fs%n", "average", "",
                String.format(Locale.ROOT, "%.4f", r.average()), norm, r.seconds()));
        return sb.toString();
    }

    private static String pm(double v, double se) {
        return Double.isNaN(se) ? String.format(Locale.ROOT, "%.4f ± n/a", v) : String.format(Locale.ROOT, "%.4f ± %.4f", v, se);
    }

    /**
     * {"piqa": {"acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "n"}, ..., "average": mean acc,
     * "average_acc_norm": mean acc_norm over the tasks that report it}; acc_norm keys only where the task reports
     * it, and an undefined stderr (n = 1) is null.
     */
    public static ObjectNode json(Report r) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        for (TaskResult t : r.results()) {
            ObjectNode k = o.putObject(t.task().id());
            put(k, "acc", t.acc());
            put(k, "acc_stderr", t.accStderr());
            if (t.hasNorm()) {
                put(k, "acc_norm", t.accNorm());
                put(k, "acc_norm_stderr", t.accNormStderr());
            }
            k.put("n", t.n());
        }
        put(o, "average", r.average());
        if (!Double.isNaN(r.averageNorm())) put(o, "average_acc_norm", r.averageNorm());
        return o;
    }

    private static void put(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) o.putNull(key);
        else o.put(key, v);
    }

    /** Writes the JSON results atomically (readers never see a partial file). */
    public static void writeJson(Report r, Path file) {
        try {
            AtomicFiles.writeString(file, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json(r)) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
