package dev.tern.quant;

import dev.tern.cli.CliRunner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.TestData;
import dev.tern.cli.Main;
import dev.tern.format.TernCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A quantization killed with SIGKILL after its first block and resumed gives the same bytes as an uninterrupted run. */
class KillAndResumeTest {
    static final String[] ARGS = {"--calib", "tinystories", "--nsamples", "96", "--seqlen", "512", "--seed", "3"};

    static List<String> args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("quantize", "--model", TestData.stories260k().toString(), "--out", out.toString()));
        a.addAll(List.of(ARGS));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void killedRunResumesToIdenticalBytes(@TempDir Path tmp) throws Exception {
        Path killed = tmp.resolve("killed"), clean = tmp.resolve("clean");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args(killed));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path state = killed.resolve(ResumeState.DIR).resolve("state.json");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!Files.exists(state) && child.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
        child.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
        child.waitFor();
        assertTrue(Files.exists(state), "child never finished a block: " + Files.readString(tmp.resolve("child.log")));
        assertFalse(Files.exists(killed.resolve(TernCheckpoint.FILE)), "child finished before it was killed");

        assertEquals(0, CliRunner.run(args(killed, "--resume").toArray(String[]::new)).code());
        assertEquals(0, CliRunner.run(args(clean).toArray(String[]::new)).code());
        assertArrayEquals(Files.readAllBytes(clean.resolve(TernCheckpoint.FILE)), Files.readAllBytes(killed.resolve(TernCheckpoint.FILE)));
        assertFalse(Files.exists(killed.resolve(ResumeState.DIR)), "resume state is removed once the checkpoint is complete");
    }
}
