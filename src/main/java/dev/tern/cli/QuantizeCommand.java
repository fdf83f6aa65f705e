package dev.tern.cli;

import dev.tern.TernException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `tern quantize` (not built yet). */
@Command(name = "quantize", mixinStandardHelpOptions = true, description = "Not built yet.")
final class QuantizeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new TernException("quantize is not built yet");
    }
}
