package dev.tern.cli;

import dev.tern.TernException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the `tern` command line: dispatches to the subcommands and turns user errors into one line. */
@Command(name = "tern", mixinStandardHelpOptions = true, version = "tern " + Versions.VERSION,
        description = "Post-training ternarization (PT²-LLM, PTQTP) and fast ternary inference for LLaMA-family models.",
        subcommands = {QuantizeCommand.class, EvalCommand.class, GenerateCommand.class, BenchCommand.class, ExportCommand.class,
                InspectCommand.class, ReportCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            Throwable t = ex;
            while (t != null && !(t instanceof TernException) && t.getCause() != null && t.getCause() != t) {
                if (t instanceof OutOfMemoryError) break;
                t = t.getCause();
            }
            if (t instanceof TernException te) {
                cmd.getErr().println("tern: " + te.getMessage());
                return 2;
            }
            if (t instanceof OutOfMemoryError) {
                cmd.getErr().println("tern: out of memory (" + t.getMessage() + "); raise TERN_HEAP or use a smaller setting");
                return 3;
            }
            throw ex; // a bug: keep the stack trace
        });
        return cl.execute(args);
    }
}
