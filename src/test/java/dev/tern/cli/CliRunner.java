package dev.tern.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the `tern` command line in this JVM with stdout and stderr captured, for end-to-end tests. */
public final class CliRunner {
    private CliRunner() {}

    /** Exit code and the captured streams of one run. */
    public record Run(int code, String out, String err) {
        public String lastLine() {
            String[] l = out.strip().split("\n");
            return l[l.length - 1];
        }
    }

    /** Synchronized because System.out/err are process-wide. */
    public static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
