package dev.tern.util;

import dev.tern.TernException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the shared data folder (models and data sets kept beside the repository, never inside it):
 * $TERN_SHARED, else a folder named "shared" beside the repository that holds the running jar, else ../shared.
 */
public final class SharedPaths {
    private SharedPaths() {}

    public static Path root() {
        String env = System.getenv("TERN_SHARED");
        if (env != null && !env.isBlank()) return Path.of(env);
        try {
            Path jar = Path.of(SharedPaths.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // target/tern.jar or target/classes -> repository root -> ../shared
            for (Path p = jar.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
                Path cand = p.resolveSibling("shared");
                if (Files.isDirectory(cand.resolve("data")) || Files.isDirectory(cand.resolve("models"))) return cand;
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the working-directory guess
        }
        return Path.of("..", "shared");
    }

    public static Path data(String relative) {
        return root().resolve("data").resolve(relative);
    }

    /** The file of a named data set, or a TernException saying where it was looked for. */
    public static Path requireData(String relative, String what) {
        Path p = data(relative);
        if (!Files.isRegularFile(p)) throw new TernException(what + " not found: expected " + p.toAbsolutePath().normalize()
                + " (set TERN_SHARED to the folder that holds data/)");
        return p;
    }
}
