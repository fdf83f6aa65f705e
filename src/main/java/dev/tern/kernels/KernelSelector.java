package dev.tern.kernels;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.format.TernaryMatrix;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Picks the ternary kernel for a model by measurement: every kernel that fits this JVM's vectors and the model's
 * group size is timed on the model's own input widths (2048 rows for decoding, the model's own rows up to 2048 for prefill; per round,
 * for decoding, one token 32 times, spread over as many copies of each layer as the model has weights, up to
 * 50 MB, and for prefill one 128-token call), and the fastest wins. For prefill, kernels that share a prefill path
 * ({@link KernelKind#prefillTwin}) are timed once. A kernel whose operations fall into the Vector API's Java
 * fallback on this CPU (100x slower, and nothing fails) loses by construction, whatever the CPU claims. The choice
 * is cached per CPU model, JDK, Tern version, vector flags and shapes, so the probe runs once per machine.
 */
public final class KernelSelector {
    /** How the kernel was decided: pinned by the user, found in the cache, or measured now. */
    public record Choice(KernelKind kind, String how, List<KernelRace.Result> results, long probeNanos) {
        public String describe() {
            if (how.equals(NO_TERNARY_LAYERS)) return "none (" + how + ")";
            return kind.label() + " (" + how + (how.startsWith("measured") ? String.format(" in %.2f s", probeNanos / 1e9) : "") + ")";
        }
    }

    /**
     * Warm-up until the JIT has been quiet for 0.15 s (0.2 s to 2.5 s), then timed rounds until 8 pass without a 5 %
     * gain and the JIT is quiet again (at most 1 s). From a cold JVM most of this is the JIT compiling each candidate's code (Vector API code
     * runs 100x slower until C2 has compiled it), which the run that follows reuses.
     */
    static final KernelRace.Limits LIMITS = new KernelRace.Limits(200_000_000L, 150_000_000L, 2_500_000_000L, 1_000_000_000L, 5, 8, 4.0);
    /**
     * Prefill probe layers where the shapes do not give the model's rows: 256 rows per thread (at least 512), enough
     * that every kernel's units keep all threads busy as a model's 2048-row layers do (with 256 rows, unpack-256 was
     * one unit on one thread). Where they do, each shape gets the most rows of the model's layers of that shape, at
     * most {@link #MAX_PREFILL_ROWS}: the 128- to 384-row layers of a small model ran unpack's integer GEMM at
     * 0.65-0.89x the f32 GEMM (per-chunk flush and rounding over few rows) while 512-row probe layers ranked it
     * first. 8 tokens, where prefill paths take over, for the warm-up.
     */
    private static final int PREFILL_ROWS = 256 * Math.min(8, Math.max(2, dev.tern.util.Parallel.threads())), PROBE_TOKENS = 8;
    private static final int MAX_PREFILL_ROWS = 2048;
    /**
     * Decode probe layers: 2048 rows, so that a round reads its codes from beyond L2 as a model's decode does (4 MB
     * of 2-bit codes at TinyLlama's widths). With 512 rows (1 MB, cache-resident) the probe ranked unpack-512 10 %
     * ahead of lut3-512 on a Sapphire Rapids, where lut3-512 (2.06 bits per weight against 2.5) decoded the model
     * 10 % faster; at 2048 rows they came within 2-6 % (a tie, {@link KernelRace#TIE}), and 4096 rows got no
     * closer (1.6 %) for a 0.6 s longer probe.
     */
    private static final int DECODE_ROWS = 2048;
    /**
     * Tokens of the prefill workload's call: evaluation runs windows of hundreds of tokens, where the f32 GEMM over
     * decoded codes amortises its decoding; at 128 tokens it already ranks as it does at 512.
     */
    private static final int PREFILL_PROBE_TOKENS = 128;
    /** One-token calls per layer and round. */
    private static final int DECODE_CALLS = 32;
    /**
     * The decode probe reads as many weights per round as the model reads per token, up to this many (50 MB of codes
     * and scales at 2.5 bits per weight), in copies of its 2048-row layers taken in turn: a model larger than the
     * last-level cache (32 MB on the Zen 3 and Zen 4 seen so far) decodes from memory, and the kernels rank
     * differently there. On a Zen 3, unpack-256 and unpack4-256 tied with the probe's 4.9 MB in L3 (within 1-7 %,
     * unpack4 chosen in about 2 of 5 probes), while over ten copies unpack was 9-10 % ahead at its best and 20-30 %
     * at the median, and decoded TinyLlama shapes 17 % faster on average (34.2 against 29.3 tok/s, alternated).
     */
    static final long STREAM_WEIGHTS = 160_000_000L;
    /**
     * Warm-up layer: 48 rows (a full and a partial tile) by 68 columns in groups of 16 (a LUT3 super-group, a tail
     * group and a short last group), so that every branch of the kernels is taken while each call is cheap: the
     * JIT compiles after thousands of calls, and code compiled from a profile that never saw a branch would be
     * thrown away (deoptimised) on the real shapes.
     */
    private static final int WARM_ROWS = 48;
    private static final List<int[]> WARM_SHAPE = List.of(new int[] {68, 16});

    /** How the choice reads for a model without ternary layers (no probe runs). */
    static final String NO_TERNARY_LAYERS = "no ternary layers";

    private KernelSelector() {}

    /**
     * The kernel for layers of these shapes, one per layer: {in, groupSize, rows} ({in, groupSize} where the model's
     * size is not known: the probe then reads one copy of its layers). log receives one line per measured
     * candidate when the probe runs.
     */
    public static Choice choose(KernelConfig cfg, List<int[]> shapes, Consumer<String> log) {
        if (cfg.pinned() != null) {
            for (int[] s : shapes) {
                if (!cfg.pinned().supports(s[1])) {
                    throw new dev.tern.TernException("kernel " + cfg.pinned().label() + " cannot take groups of " + s[1] + " columns");
                }
            }
            return new Choice(cfg.pinned(), "--kernel", List.of(), 0);
        }
        List<int[]> distinct = distinct(shapes);
        // a checkpoint without ternary layers (gptq, rtn): nothing runs through a ternary kernel, so nothing to time
        if (distinct.isEmpty()) return new Choice(KernelKind.UNPACK, NO_TERNARY_LAYERS, List.of(), 0);
        List<KernelKind> candidates = candidates(distinct);
        if (candidates.size() == 1) return new Choice(candidates.get(0), "only candidate", List.of(), 0);
        boolean prefill = cfg.workload() == KernelConfig.Workload.PREFILL;
        if (prefill) {
            // kernels that share a prefill path would time noise against each other (and compile it twice)
            Set<KernelKind> paths = new LinkedHashSet<>();
            for (KernelKind k : candidates) paths.add(k.prefillTwin());
            candidates = new ArrayList<>(paths);
        }
        // the ranking depends on the thread count (decode units per thread), so the choice is cached per count
        int copies = prefill ? 1 : decodeCopies(shapes);
        int[] rows = new int[distinct.size()];
        for (int i = 0; i < rows.length; i++) rows[i] = prefill ? prefillRows(shapes, distinct.get(i)) : DECODE_ROWS;
        String key = KernelCache.key(dev.tern.cli.Versions.VERSION, distinct) + "; threads=" + dev.tern.util.Parallel.threads()
                + (prefill ? "; workload=prefill; rows=" + java.util.Arrays.toString(rows) : copies > 1 ? "; probe copies=" + copies : "");
        String cached = KernelCache.lookup(cfg.cacheFile(), key);
        if (cached != null) {
            for (KernelKind k : candidates) if (k.label().equals(cached)) return new Choice(k, prefill ? "cached, for prefill" : "cached", List.of(), 0);
        }
        long t0 = System.nanoTime();
        List<KernelRace.Entry> entries = new ArrayList<>();
        // one set of seeded layers, packed by every candidate
        TernaryMatrix[] warm = matrices(WARM_SHAPE, WARM_ROWS), real = matrices(distinct, rows);
        if (prefill) {
            warm = permuted(warm);
            real = permuted(real);
        }
        for (KernelKind k : candidates) {
            // for prefill the timed layers may keep their decoded f32 weights, as a model's small layers do after
            // their first prefill; the warm-up layer never does (see TernaryKernel#keepDecodedWeights)
            Layers w = new Layers(k, warm, PROBE_TOKENS, 1, false), l = new Layers(k, real, prefill ? PREFILL_PROBE_TOKENS : PROBE_TOKENS, copies, prefill);
            entries.add(prefill
                    ? new KernelRace.Entry(k.label(), prefillWork(w, PROBE_TOKENS), prefillWork(l, PREFILL_PROBE_TOKENS), l.residentBytes(), k.exactActivations())
                    : new KernelRace.Entry(k.label(), probeWork(w), probeWork(l), l.residentBytes(), k.exactActivations()));
        }
        KernelRace.Outcome race = KernelRace.run(entries, KernelRace.Clock.SYSTEM, LIMITS);
        List<KernelRace.Result> results = race.results();
        long spent = System.nanoTime() - t0;
        KernelKind kind = candidates.get(results.indexOf(KernelRace.winner(results)));
        ObjectNode timings = new ObjectMapper().createObjectNode();
        for (KernelRace.Result r : results) {
            log.accept(String.format("kernel probe: %-10s %8.3f ms per round, %6.1f MB%s%s", r.name(), r.bestNanos() / 1e6, r.bytes() / 1e6,
                    copies > 1 ? " x " + copies : "",
                    r.dropped() ? " (dropped: too slow)" : r.name().equals(kind.label()) ? " (chosen)" : ""));
            timings.put(r.name(), r.bestNanos() == Long.MAX_VALUE ? -1 : r.bestNanos() / 1e6);
        }
        log.accept(String.format("kernel probe: %.2f s warm-up (JIT), %.2f s timed rounds, %.2f s in all", race.warmNanos() / 1e9,
                race.timedNanos() / 1e9, spent / 1e9));
        KernelCache.store(cfg.cacheFile(), key, kind.label(), timings, log);
        return new Choice(kind, prefill ? "measured for prefill" : "measured", results, spent);
    }

    /**
     * Copies of the decode probe's layers per round: enough that a round reads as many weights as the model's
     * layers hold (shapes with rows), at most {@link #STREAM_WEIGHTS} and at most one per call of a round; 1 when
     * rows are not given.
     */
    static int decodeCopies(List<int[]> shapes) {
        long model = 0, perCopy = 0;
        for (int[] s : shapes) if (s.length > 2) model += (long) s[0] * s[2];
        for (int[] s : distinct(shapes)) perCopy += (long) DECODE_ROWS * s[0];
        if (perCopy == 0) return 1;
        return (int) Math.max(1, Math.min(DECODE_CALLS, (Math.min(model, STREAM_WEIGHTS) + perCopy - 1) / perCopy));
    }

    /** The CPU's model name (lscpu's "Model name"), for speed reports. */
    public static String cpuModel() {
        return KernelCache.cpuModel();
    }

    /** The vector-ISA flags of /proc/cpuinfo that decide which kernels compile well (avx2, fma, avx512*, asimd, sve...). */
    public static String cpuVectorFlags() {
        return KernelCache.cpuVectorFlags();
    }

    /** The JVM options that change vector code generation (-XX:UseAVX, -XX:MaxVectorSize), or "" when none. */
    public static String jvmVectorFlags() {
        return KernelCache.jvmVectorFlags();
    }

    /** Kernels worth timing: those whose vectors fit this JVM and whose sums cannot overflow for every group size. */
    static List<KernelKind> candidates(List<int[]> shapes) {
        List<KernelKind> out = new ArrayList<>();
        for (KernelKind k : KernelKind.values()) {
            boolean ok = k.fitsThisJvm();
            for (int[] s : shapes) ok &= k.supports(s[1]);
            if (ok) out.add(k);
        }
        return out;
    }

    private static List<int[]> distinct(List<int[]> shapes) {
        Set<String> seen = new LinkedHashSet<>();
        List<int[]> out = new ArrayList<>();
        for (int[] s : shapes) if (seen.add(s[0] + "/" + s[1])) out.add(new int[] {s[0], s[1]});
        out.sort((a, b) -> a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]));
        return out;
    }

    /**
     * One round: 32 single-token calls per layer, the layers in turn and each call on the next copy, so that between
     * two calls on one copy every other copy of every layer is read (all 32 calls of the narrower layer in a row
     * would have found its copies, 14 of the 54 MB at TinyLlama's widths, in L3 again). No multi-token call: the
     * prefill paths are ranked by the prefill workload's probe, and compiling three GEMMs here was 0.4 s of the probe.
     */
    private static Runnable probeWork(Layers l) {
        return () -> {
            for (int t = 0; t < DECODE_CALLS; t++) {
                for (int i = 0; i < l.kernels.length; i++) {
                    TernaryKernel[] c = l.kernels[i];
                    c[t % c.length].apply(l.x[i], l.gs[i], l.y[i], 1);
                }
            }
        };
    }

    /** One round of the prefill workload: per layer, one call of `tokens` tokens. */
    private static Runnable prefillWork(Layers l, int tokens) {
        return () -> {
            for (int i = 0; i < l.ops.length; i++) l.ops[i].apply(l.x[i], l.y[i], tokens);
        };
    }

    /**
     * The same layers with a seeded column permutation, as PT²-LLM's reordering leaves a model's: the prefill probe
     * runs them through {@link TernaryLinear}, so that it times what a model's prefill pays around the kernel too
     * (the gather into stored order and the group sums, which the f32 GEMM does inside its packing and without).
     * Timing the kernels alone ranked unpack's integer GEMM 17 % ahead for the tinystories model, whose evaluation
     * then ran at 0.976x the float model's.
     */
    static TernaryMatrix[] permuted(TernaryMatrix[] layers) {
        TernaryMatrix[] out = new TernaryMatrix[layers.length];
        for (int i = 0; i < layers.length; i++) {
            TernaryMatrix m = layers[i];
            int[] perm = dev.tern.util.Permutations.shuffled(m.cols(), new java.util.SplittableRandom(99 + i));
            out[i] = new TernaryMatrix(m.rows(), m.cols(), m.groupSize(), m.codes(), m.alpha(), m.mu(), perm);
        }
        return out;
    }

    /**
     * Rows of the prefill probe's layer of one (in, groupSize) shape: the most rows of the model's layers of that
     * shape, at most MAX_PREFILL_ROWS, or PREFILL_ROWS where the shapes carry no rows.
     */
    static int prefillRows(List<int[]> shapes, int[] shape) {
        int most = 0;
        for (int[] s : shapes) if (s.length > 2 && s[0] == shape[0] && s[1] == shape[1]) most = Math.max(most, s[2]);
        return most == 0 ? PREFILL_ROWS : Math.min(most, MAX_PREFILL_ROWS);
    }

    /** Seeded layers of `rows` rows, one per (in, groupSize) shape, in stored column order. */
    static TernaryMatrix[] matrices(List<int[]> shapes, int rows) {
        int[] r = new int[shapes.size()];
        java.util.Arrays.fill(r, rows);
        return matrices(shapes, r);
    }

    /** Seeded layers, rows[i] rows for shape i. */
    static TernaryMatrix[] matrices(List<int[]> shapes, int[] layerRows) {
        TernaryMatrix[] m = new TernaryMatrix[shapes.size()];
        for (int i = 0; i < m.length; i++) {
            int in = shapes.get(i)[0], g = shapes.get(i)[1], groups = TernaryPacking.groups(in, g), rows = layerRows[i];
            java.util.SplittableRandom r = new java.util.SplittableRandom(42 + i);
            byte[] codes = new byte[rows * in];
            for (int j = 0; j < codes.length; j++) codes[j] = (byte) (r.nextInt(3) - 1);
            float[] alpha = new float[rows * groups], mu = new float[alpha.length];
            for (int j = 0; j < alpha.length; j++) {
                alpha[j] = (float) (0.01 + 0.01 * r.nextDouble());
                mu[j] = (float) (0.001 * (r.nextDouble() - 0.5));
            }
            m[i] = new TernaryMatrix(rows, in, g, codes, alpha, mu, null);
        }
        return m;
    }

    /** The probe layers packed for one kernel (copies of each: [layer][copy]), with inputs of `tokens` tokens. */
    static final class Layers {
        final TernaryKernel[][] kernels;
        /** The first copies as whole layers (permutation and group sums included), for the prefill workload. */
        final TernaryLinear[] ops;
        final float[][] x, gs, y;

        Layers(KernelKind k, TernaryMatrix[] layers, int tokens, int copies, boolean keepDecoded) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(7);
            int n = layers.length;
            kernels = new TernaryKernel[n][copies];
            ops = new TernaryLinear[n];
            x = new float[n][];
            gs = new float[n][];
            y = new float[n][];
            for (int i = 0; i < n; i++) {
                TernaryMatrix m = layers[i];
                for (int c = 0; c < copies; c++) {
                    // copying the packed arrays is about 10x cheaper than packing again
                    kernels[i][c] = c == 0 ? k.create(m, true) : kernels[i][0].copy();
                    kernels[i][c].keepDecodedWeights(keepDecoded);
                }
                ops[i] = new TernaryLinear(m, k, kernels[i][0]);
                x[i] = new float[tokens * m.cols()];
                for (int j = 0; j < x[i].length; j++) x[i][j] = (float) (r.nextDouble() * 2 - 1);
                gs[i] = TernaryLinear.groupSums(x[i], tokens, m.cols(), m.groupSize());
                y[i] = new float[tokens * m.rows()];
            }
        }

        /** Bytes of one copy of the layers (what the tie rule compares). */
        long residentBytes() {
            long b = 0;
            for (TernaryKernel[] k : kernels) b += k[0].residentBytes();
            return b;
        }
    }
}
