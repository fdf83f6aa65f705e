package dev.tern.cli;

import dev.tern.TernException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `tern bench` (not built yet). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Not built yet.")
final class BenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new TernException("bench is not built yet");
    }
}
