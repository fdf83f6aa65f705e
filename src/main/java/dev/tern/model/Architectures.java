package dev.tern.model;

import dev.tern.TernException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Published shapes of real architectures, for benchmarks on seeded random weights (--synthetic). */
public final class Architectures {
    private static final Map<String, ModelConfig> KNOWN = new LinkedHashMap<>();

    static {
        KNOWN.put("smollm2-135m", cfg("llama", 576, 1536, 30, 9, 3, 49152, 8192, 100000, true));
        KNOWN.put("tinyllama-1.1b", cfg("llama", 2048, 5632, 22, 32, 4, 32000, 2048, 10000, false));
        KNOWN.put("llama-2-7b", cfg("llama", 4096, 11008, 32, 32, 32, 32000, 4096, 10000, false));
    }

    private Architectures() {}

    private static ModelConfig cfg(String type, int h, int m, int layers, int heads, int kv, int vocab, int ctx, double theta,
            boolean tied) {
        return new ModelConfig(type, h, m, layers, heads, kv, h / heads, vocab, ctx, theta, 1e-5, tied, false, false, null, 1,
                List.of(2));
    }

    public static ModelConfig get(String name) {
        ModelConfig c = KNOWN.get(name);
        if (c == null) throw new TernException("unknown synthetic architecture '" + name + "' (known: " + String.join(", ", KNOWN.keySet()) + ")");
        return c;
    }

    public static java.util.Set<String> names() {
        return KNOWN.keySet();
    }
}
