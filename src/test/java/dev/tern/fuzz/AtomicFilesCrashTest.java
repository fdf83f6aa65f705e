package dev.tern.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.io.AtomicFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a child JVM in the middle of an {@link AtomicFiles} write and checks what a later reader sees: the final
 * name is either absent or holds its previous content, never a torn file. A killed writer leaves its temp file
 * behind; AtomicFiles names those {@code .<final name>.<random digits>.tmp} in the target's directory (hidden, and
 * never equal to or a prefix-match of the final name), which this test pins down.
 */
class AtomicFilesCrashTest {
    private static final String NAME = "model.safetensors";
    /** AtomicFiles' temp name: "." + name + "." + a random base-36 number + ".tmp". */
    private static final Pattern TEMP = Pattern.compile("\\." + Pattern.quote(NAME) + "\\.[0-9a-z]+\\.tmp");

    @TempDir
    Path dir;

    /** A model written for llama.cpp or ollama running as another user must be readable as any file the user makes. */
    @Test
    void writtenFileGetsTheSamePermissionsAsAPlainlyCreatedOne() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path plain = Files.createFile(dir.resolve("plain"));
        Path target = dir.resolve(NAME);
        AtomicFiles.writeString(target, "x");
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(target));
    }

    @Test
    @Timeout(120)
    void killMidWriteKeepsThePreviousFile() throws Exception {
        Path target = dir.resolve(NAME);
        byte[] old = "the previous, complete file".getBytes(StandardCharsets.UTF_8);
        Files.write(target, old);
        killMidWrite(target);
        assertArrayEquals(old, Files.readAllBytes(target), "final name must keep its old content");
        assertOnlyTempLeftovers();
        // A later write must not be confused by the leftover and must replace the file completely.
        AtomicFiles.writeString(target, "new");
        assertEquals("new", Files.readString(target));
    }

    @Test
    @Timeout(120)
    void killMidWriteLeavesNoFileUnderTheFinalName() throws Exception {
        Path target = dir.resolve(NAME);
        killMidWrite(target);
        assertFalse(Files.exists(target), "no file may appear under the final name");
        assertOnlyTempLeftovers();
    }

    /** Control: the same child, left to finish, produces the whole file and no leftovers. */
    @Test
    @Timeout(120)
    void completedWriteIsWholeAndClean() throws Exception {
        Path target = dir.resolve(NAME);
        Process p = child(target, 8, 0);
        drain(p, "done");
        assertEquals(0, p.waitFor());
        assertEquals(8L * AtomicWriteChild.CHUNK, Files.size(target));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(target), s.toList(), "a completed write leaves only the final file");
        }
    }

    /** Starts a slow write (4 MiB in 64 chunks, 100 ms apart), waits until a few chunks are flushed, then SIGKILLs. */
    private void killMidWrite(Path target) throws Exception {
        Process p = child(target, 64, 100);
        try {
            drain(p, "chunk 3");
            List<Path> temps = tempFiles();
            assertEquals(1, temps.size(), "the writer should be filling exactly one temp file: " + temps);
            assertTrue(Files.size(temps.getFirst()) >= 4L * AtomicWriteChild.CHUNK, "temp file holds the flushed chunks");
        } finally {
            p.destroyForcibly(); // SIGKILL on Unix: no shutdown hooks, no finally blocks in the child
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child did not die");
        }
        assertTrue(p.exitValue() != 0, "child must have been killed, not finished");
    }

    private void assertOnlyTempLeftovers() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.equals(NAME)) continue;
                assertTrue(TEMP.matcher(n).matches(), "unexpected leftover " + n);
                assertTrue(n.startsWith(".") && !n.equals(NAME), "leftover must be hidden and distinct from " + NAME);
            }
        }
    }

    private List<Path> tempFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> TEMP.matcher(p.getFileName().toString()).matches()).forEach(out::add);
        }
        return out;
    }

    private static Process child(Path target, int chunks, long sleepMs) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                AtomicWriteChild.class.getName(), target.toString(), Integer.toString(chunks), Long.toString(sleepMs))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    /** Reads the child's stdout until the given line appears; fails if the child exits first. */
    private static void drain(Process p, String line) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String l; (l = r.readLine()) != null; ) {
            if (l.equals(line)) return;
        }
        throw new AssertionError("child exited before printing '" + line + "'");
    }
}
