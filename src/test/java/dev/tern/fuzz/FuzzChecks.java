package dev.tern.fuzz;

import dev.tern.TernException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/** The property every parser fuzz target checks: an input either parses or fails with a clear TernException. */
final class FuzzChecks {
    private FuzzChecks() {}

    /** A parser run that may throw anything; the checker decides whether what it threw is acceptable. */
    interface Body {
        void run() throws Exception;
    }

    /**
     * Runs body; a TernException with a non-empty message is the only acceptable failure. Anything else (a runtime
     * exception leaking out of a parser, OutOfMemoryError from an allocation sized by the file, StackOverflowError
     * from deep nesting) becomes an AssertionError, which Jazzer reports as a finding.
     */
    static void parsesOrTernException(Body body) {
        try {
            body.run();
        } catch (TernException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("TernException without a message", e);
            }
        } catch (Throwable t) {
            throw new AssertionError("parser threw " + t.getClass().getName() + " instead of TernException: " + t, t);
        }
    }

    /**
     * A temp directory for one fuzz target, reused by every input (creating one per execution would dominate the
     * run time) and removed when the JVM exits.
     */
    static Path scratchDir(String name) {
        try {
            Path dir = Files.createTempDirectory("tern-fuzz-" + name);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the file, or deletes it when bytes is null (a part the input does not have). */
    static void writeOrDelete(Path file, byte[] bytes) {
        try {
            if (bytes == null) Files.deleteIfExists(file);
            else Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
