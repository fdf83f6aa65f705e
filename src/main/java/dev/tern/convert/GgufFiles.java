package dev.tern.convert;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Recognises GGUF files among the paths a user gives as --model. */
public final class GgufFiles {
    private GgufFiles() {}

    /** A regular file named *.gguf, or one that starts with the GGUF magic. */
    public static boolean looksLikeGguf(Path p) {
        if (!Files.isRegularFile(p)) return false;
        if (p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")) return true;
        try (InputStream in = Files.newInputStream(p)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 'G' && m[1] == 'G' && m[2] == 'U' && m[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }
}
