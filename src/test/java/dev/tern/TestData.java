package dev.tern;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the shared models and data sets the tests read (kept beside the repository, never in it). */
public final class TestData {
    private TestData() {}

    public static Path shared() {
        String env = System.getenv("TERN_SHARED");
        Path p = env != null && !env.isBlank() ? Path.of(env) : Path.of("..", "shared");
        if (!Files.isDirectory(p)) throw new IllegalStateException("shared data folder not found at " + p.toAbsolutePath());
        return p;
    }

    public static Path tinyStories() {
        return shared().resolve("models/tinystories-656k");
    }

    public static Path stories260k() {
        return shared().resolve("models/stories260k");
    }

    public static Path data(String rel) {
        return shared().resolve("data").resolve(rel);
    }
}
