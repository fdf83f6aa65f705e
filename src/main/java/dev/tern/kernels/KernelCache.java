package dev.tern.kernels;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.io.AtomicFiles;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The probe's choices, one JSON file in the user's cache folder, keyed by what decides which kernel is fast: the
 * CPU model, the JDK, Tern's version, the JVM's vector flags and the layer shapes.
 */
final class KernelCache {
    private static final ObjectMapper JSON = new ObjectMapper();

    private KernelCache() {}

    /** $XDG_CACHE_HOME/tern/kernels.json, else ~/.cache/tern/kernels.json. */
    static Path defaultFile() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("tern").resolve("kernels.json");
    }

    /** The key of this machine and JVM for a set of (in, groupSize) shapes. */
    static String key(String ternVersion, List<int[]> shapes) {
        StringBuilder s = new StringBuilder();
        s.append("cpu=").append(cpuModel()).append("; jdk=").append(Runtime.version()).append("; tern=").append(ternVersion);
        s.append("; code=").append(CodeHash.VALUE);
        s.append("; vector=").append(jdk.incubator.vector.ShortVector.SPECIES_PREFERRED.vectorBitSize());
        String flags = jvmVectorFlags();
        if (!flags.isEmpty()) s.append("; ").append(flags);
        s.append("; shapes=");
        for (int[] sh : shapes) s.append(sh[0]).append('/').append(sh[1]).append(' ');
        return s.toString().trim();
    }

    /** Classes whose code decides kernel speed or how the probe measures it: a build that changes any of them measures afresh. */
    private static final Class<?>[] KERNEL_CODE = {Lut3Kernel.class, TableKernel.class, TableGemm.class,
            UnpackKernel.class, UnpackGemm.class, FloatDecodeKernel.class, PanelLinear.class, TiledDecode.class, KernelKind.class,
            DenseF32Linear.class, Bf16Linear.class, dev.tern.util.Parallel.class, KernelSelector.class, KernelSelector.Layers.class, KernelRace.class};

    /**
     * CRC-32 of the kernel classes' bytecode, in hex: the version string alone stayed the same across builds whose
     * kernels ran 1.5x apart, and a cached choice from an older build would have stuck.
     */
    static String kernelCodeHash() {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        for (Class<?> c : KERNEL_CODE) {
            String name = c.getName().substring(c.getName().lastIndexOf('.') + 1) + ".class";
            try (var in = c.getResourceAsStream(name)) {
                if (in != null) crc.update(in.readAllBytes());
            } catch (java.io.IOException e) {
                // unreadable class bytes: the key falls back to the version string alone
            }
        }
        return Long.toHexString(crc.getValue());
    }

    /** The hash, read from the class files once per JVM (on first use: only a probe's cache lookup needs it). */
    private static final class CodeHash {
        static final String VALUE = kernelCodeHash();
    }

    /** JVM options that change vector code generation, space-separated. */
    static String jvmVectorFlags() {
        StringBuilder s = new StringBuilder();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-XX:UseAVX") || a.startsWith("-XX:MaxVectorSize") || a.startsWith("-XX:UseSSE")
                    || a.startsWith("-XX:UseSVE") || a.matches("-XX:[+-]Use(AVX|SSE|FMA|SVE).*")) {
                s.append(s.isEmpty() ? "" : " ").append(a);
            }
        }
        return s.toString();
    }

    private static final java.util.regex.Pattern VECTOR_FLAG =
            java.util.regex.Pattern.compile("sse4_2|avx|avx2|fma|f16c|avx512\\w*|amx\\w*|asimd\\w*|sve\\w*|sme\\w*");

    /** The vector-ISA flags among /proc/cpuinfo's "flags" (x86) or "Features" (ARM). */
    static String cpuVectorFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int c = line.indexOf(':');
                if (c < 0) continue;
                String k = line.substring(0, c).trim();
                if (!k.equals("flags") && !k.equals("Features")) continue;
                StringBuilder s = new StringBuilder();
                for (String f : line.substring(c + 1).trim().split("\\s+")) {
                    if (VECTOR_FLAG.matcher(f).matches()) s.append(s.isEmpty() ? "" : " ").append(f);
                }
                return s.toString();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "unknown";
    }

    /** "model name" of /proc/cpuinfo (x86), else its "CPU part" (ARM), else the architecture. */
    static String cpuModel() {
        try {
            String part = null;
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int c = line.indexOf(':');
                if (c < 0) continue;
                String k = line.substring(0, c).trim();
                if (k.equals("model name")) return line.substring(c + 1).trim();
                if (k.equals("CPU part") && part == null) part = "ARM part " + line.substring(c + 1).trim();
            }
            if (part != null) return part;
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable: fall through
        }
        return System.getProperty("os.arch") + " " + Runtime.getRuntime().availableProcessors() + " cores";
    }

    /** The cached kernel label for key, or null. A missing or unreadable cache is simply empty. */
    static String lookup(Path file, String key) {
        if (file == null || !Files.isRegularFile(file)) return null;
        try {
            JsonNode e = JSON.readTree(file.toFile()).path("entries").path(key);
            return e.hasNonNull("kernel") ? e.get("kernel").asText() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Adds (or replaces) an entry; failures to write are reported to log and otherwise ignored. */
    static void store(Path file, String key, String kernel, ObjectNode timings, java.util.function.Consumer<String> log) {
        if (file == null) return;
        try {
            ObjectNode root;
            try {
                root = Files.isRegularFile(file) && JSON.readTree(file.toFile()) instanceof ObjectNode o ? o : JSON.createObjectNode();
            } catch (IOException e) {
                root = JSON.createObjectNode(); // a corrupt cache is replaced
            }
            ObjectNode entries = root.has("entries") && root.get("entries") instanceof ObjectNode o ? o : root.putObject("entries");
            ObjectNode e = entries.putObject(key);
            e.put("kernel", kernel);
            e.set("round_ms", timings);
            e.put("probed", java.time.Instant.now().toString());
            Files.createDirectories(file.getParent());
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
            AtomicFiles.write(file, os -> os.write(bytes));
        } catch (IOException | RuntimeException e) {
            log.accept("could not write the kernel cache " + file + ": " + e.getMessage());
        }
    }
}
