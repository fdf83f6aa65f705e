package dev.tern.kernels;

import dev.tern.TernException;
import java.nio.file.Path;

/**
 * How a model's packed ternary layers run, resolved once per model load ({@link KernelSelector#choose}) and passed
 * to every layer: a pinned kernel, or null to choose by measurement for the given workload (the probe's result is
 * cached in cacheFile; null: no cache).
 */
public record KernelConfig(KernelKind pinned, Path cacheFile, Workload workload) {
    /**
     * What the model will mostly run, which the probe times: DECODE (one token at a time, as generate and bench do)
     * or PREFILL (long windows of tokens, as evaluation does). Kernels rank differently for the two: lut3-512 decodes
     * fastest on AVX-512, while its prefill ran evaluation at 0.74x the f32 GEMM over decoded codes.
     */
    public enum Workload { DECODE, PREFILL }

    /** Measure on first use for decoding, cache the choice in the user's cache folder. */
    public static KernelConfig auto() {
        return new KernelConfig(null, KernelCache.defaultFile(), Workload.DECODE);
    }

    public static KernelConfig pinned(KernelKind kind) {
        return new KernelConfig(kind, null, Workload.DECODE);
    }

    /** The same configuration, with the probe timing this workload. */
    public KernelConfig forWorkload(Workload w) {
        return new KernelConfig(pinned, cacheFile, w);
    }

    /**
     * From the CLI: {@code --kernel auto|lut3-512|table-128|unpack|float} and {@code --exact-activations} (which needs the
     * float kernel, the only one that keeps activations in f32).
     */
    public static KernelConfig fromOptions(String kernel, boolean exactActivations) {
        String k = kernel == null ? "auto" : kernel.trim().toLowerCase(java.util.Locale.ROOT);
        KernelKind kind = k.equals("auto") ? null : KernelKind.parse(k);
        if (kind == null && !k.equals("auto")) {
            throw new TernException("unknown kernel '" + kernel + "' (use auto, " + KernelKind.choices() + ")");
        }
        if (exactActivations) {
            if (kind != null && !kind.exactActivations()) {
                throw new TernException("--exact-activations needs --kernel float (" + kind.label() + " rounds activations to integers)");
            }
            return pinned(KernelKind.FLOAT);
        }
        return kind == null ? auto() : pinned(kind);
    }
}
