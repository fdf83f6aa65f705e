package dev.tern.cli;

import dev.tern.quant.QuantReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** `tern report`: the per-layer quantization report of a checkpoint folder, as a table. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Print the quantization report (report.json) of a checkpoint folder; report.html beside it has the charts.")
final class ReportCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Checkpoint folder written by quantize (or a report.json).")
    Path dir;

    @Override
    public Integer call() {
        System.out.print(QuantReport.table(QuantReport.read(dir)));
        return 0;
    }
}
