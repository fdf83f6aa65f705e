package dev.tern.cli;

import dev.tern.TernException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `tern inspect` (not built yet). */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Not built yet.")
final class InspectCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new TernException("inspect is not built yet");
    }
}
