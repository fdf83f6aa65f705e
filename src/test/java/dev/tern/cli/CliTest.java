package dev.tern.cli;

import dev.tern.cli.CliRunner.Run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End-to-end runs of the command line on the shared models: golden outputs and one-line errors for bad input. */
class CliTest {
    @Test
    void greedyGenerationMatchesLlama2c() throws Exception {
        Run r = CliRunner.run("generate", "--model", TestData.stories260k().toString(), "--max-tokens", "200");
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(TestData.stories260k().resolve("expected-greedy-200.txt")), r.out());
    }

    /** Golden value: tools/golden/llama_reference.py (PyTorch) on ids from @huggingface/tokenizers, see README. */
    @Test
    void perplexityMatchesPyTorchReference() throws Exception {
        Run r = CliRunner.run("eval", "--model", TestData.tinyStories().toString(), "--text",
                TestData.data("tinystories/valid-snippet.txt").toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.lastLine());
        assertEquals(39.92883659132518, j.get("perplexity").asDouble(), 39.93 * 1e-5);
        assertEquals(7665, j.get("tokens").asInt());
        assertEquals(15, j.get("windows").asInt());
    }

    /**
     * eval --vs scores both models on the same windows: the model against itself gives the golden perplexity twice
     * (the warm-up windows are not scored) and a speed ratio.
     */
    @Test
    void evalVsScoresBothModelsOnTheSameWindows() throws Exception {
        String m = TestData.tinyStories().toString();
        Run r = CliRunner.run("eval", "--model", m, "--vs", m, "--text", TestData.data("tinystories/valid-snippet.txt").toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.lastLine());
        assertEquals(39.92883659132518, j.get("perplexity").asDouble(), 39.93 * 1e-5);
        assertEquals(j.get("perplexity").asDouble(), j.get("vs_perplexity").asDouble());
        assertTrue(j.get("speed_ratio_model_vs").asDouble() > 0, r.lastLine());
        Run bad = CliRunner.run("eval", "--model", m, "--vs", m, "--tasks", "piqa");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--vs"), bad.err());
    }

    @Test
    void missingFolderIsOneLineError() {
        Run r = CliRunner.run("eval", "--model", "/no/such/model/folder", "--text", TestData.data("tinystories/valid-snippet.txt").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("tern: "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void unsupportedArchitectureIsRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt2\", \"hidden_size\": 8}");
        Files.write(dir.resolve("model.safetensors"), new byte[16]);
        Run r = CliRunner.run("generate", "--model", dir.toString(), "--max-tokens", "1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unsupported model_type 'gpt2'"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void malformedConfigIsRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{not json");
        Files.write(dir.resolve("model.safetensors"), new byte[16]);
        Run r = CliRunner.run("generate", "--model", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("config.json"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
