package dev.tern.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tern.eval.tasks.Example;
import dev.tern.eval.tasks.Task;
import dev.tern.eval.tasks.TaskLoader;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Fuzzes the zero-shot task readers (the six JSONL formats and HellaSwag's text format). Input: one byte choosing
 * the task, then the file's bytes. An accepted file must give examples a scorer can use: at least one context and
 * one choice, and a gold index inside the choices.
 */
class TaskDataFuzzTest {
    private static final Path DIR = FuzzChecks.scratchDir("tasks");
    private static final Task[] TASKS = Task.values();

    @FuzzTest(maxDuration = "10s")
    void load(byte[] input) {
        if (input.length == 0) return;
        Task task = TASKS[Byte.toUnsignedInt(input[0]) % TASKS.length];
        Path f = DIR.resolve(task.file());
        FuzzChecks.writeOrDelete(f, Arrays.copyOfRange(input, 1, input.length));
        FuzzChecks.parsesOrTernException(() -> {
            for (Example e : TaskLoader.load(task, f, 0)) checkUsable(task, e);
        });
    }

    static void checkUsable(Task task, Example e) {
        if (e.size() < 2) throw new AssertionError(task + ": fewer than two choices " + e);
        for (String c : e.continuations()) {
            if (!c.startsWith(Example.DELIMITER)) throw new AssertionError(task + ": continuation without delimiter " + e);
        }
    }
}
