package dev.tern.cli;

import dev.tern.kernels.KernelConfig;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/** --kernel, --exact-activations and --verbose: how packed ternary layers run, and whether to say why. */
public final class KernelOptions {
    @Option(names = "--kernel", paramLabel = "NAME", defaultValue = "auto",
            description = "Ternary kernel: auto (default: the fastest on this machine, measured once and cached in "
                    + "~/.cache/tern), lut3-512 (AVX-512), table-128 (byte tables of column-pair sums, 128-bit shuffles, "
                    + "any CPU), unpack (2-bit codes, int16 activations, any vector width; unpack4: four tiles per loop, up to 256 "
                    + "bits) or float (codes decoded to "
                    + "f32, exact activations).")
    String kernel;

    @Option(names = "--exact-activations",
            description = "Keep activations in f32 in ternary layers (the float kernel) instead of rounding them to integers per group.")
    boolean exactActivations;

    @Option(names = {"-v", "--verbose"}, description = "Print the kernel probe's timings when it runs.")
    boolean verbose;

    KernelConfig config() {
        return KernelConfig.fromOptions(kernel, exactActivations);
    }

    Consumer<String> log() {
        return verbose ? s -> System.err.println("tern: " + s) : s -> { };
    }
}
