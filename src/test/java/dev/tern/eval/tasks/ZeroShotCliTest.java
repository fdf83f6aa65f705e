package dev.tern.eval.tasks;

import dev.tern.TestData;
import dev.tern.cli.CliRunner;
import dev.tern.cli.CliRunner.Run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `tern eval --tasks` end to end on tinystories-656k: the JSON file's shape, skipped and malformed task files. */
class ZeroShotCliTest {
    static final String MODEL = TestData.tinyStories().toString();

    @Test
    void jsonFileHasOneObjectPerTaskAndTheAverage(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("sub/results.json");
        Run r = CliRunner.run("eval", "--model", MODEL, "--tasks", "openbookqa,winogrande", "--limit", "3", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        Set<String> keys = new TreeSet<>();
        j.fieldNames().forEachRemaining(keys::add);
        assertEquals(Set.of("openbookqa", "winogrande", "average", "average_acc_norm"), keys);

        Set<String> arcKeys = new TreeSet<>();
        j.get("openbookqa").fieldNames().forEachRemaining(arcKeys::add);
        assertEquals(Set.of("acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "n"), arcKeys);
        Set<String> winoKeys = new TreeSet<>();
        j.get("winogrande").fieldNames().forEachRemaining(winoKeys::add);
        assertEquals(Set.of("acc", "acc_stderr", "n"), winoKeys);

        double sum = 0;
        for (String t : List.of("openbookqa", "winogrande")) {
            JsonNode k = j.get(t);
            assertEquals(3, k.get("n").asInt());
            double acc = k.get("acc").asDouble();
            assertEquals(Math.round(acc * 3), acc * 3, 1e-12); // a count out of 3
            assertEquals(TaskResult.stderr(acc, 3), k.get("acc_stderr").asDouble(), 1e-12);
            sum += acc;
        }
        assertEquals(sum / 2, j.get("average").asDouble(), 1e-12);
        assertEquals(j.get("openbookqa").get("acc_norm").asDouble(), j.get("average_acc_norm").asDouble(), 1e-12);
        assertTrue(r.out().contains("openbookqa") && r.out().contains("average"), r.out());
        try (var files = Files.list(json.getParent())) {
            assertEquals(1, files.count(), "no temp file left behind");
        }
    }

    @Test
    void missingTaskFilesAreSkippedWithANote(@TempDir Path tmp) throws Exception {
        List<String> lines = Files.readAllLines(TaskLoaderTest.data("winogrande.jsonl")).subList(0, 3);
        Files.write(tmp.resolve("winogrande.jsonl"), lines);
        Run r = CliRunner.run("eval", "--model", MODEL, "--tasks", "boolq,winogrande", "--task-data", tmp.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("skipping boolq") && r.err().contains("boolq.jsonl"), r.err());
        String[] out = r.out().strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(out[out.length - 1]);
        assertEquals(3, j.get("winogrande").get("n").asInt());
        assertFalse(j.has("boolq"));
    }

    @Test
    void malformedTaskFileIsAOneLineError(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("openbook_qa.jsonl"),
                "{\"query\": \"Predators eat\", \"choices\": [\"lions\", \"grass\"], \"gold\": 0}\n{\"query\": \"x\", \"gold\": 0}\n");
        Run r = CliRunner.run("eval", "--model", MODEL, "--tasks", "openbookqa", "--task-data", tmp.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("openbook_qa.jsonl:2: malformed task data: missing array field \"choices\""), r.err());
        r = CliRunner.run("eval", "--model", MODEL, "--tasks", "piqa,squad");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown task 'squad'"), r.err());
    }
}
