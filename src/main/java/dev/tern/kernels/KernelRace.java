package dev.tern.kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * Times candidates on the same work and names the fastest.
 *
 * <p>Warm-up first: each candidate's small work runs in turns until the JIT compilers fall quiet, so that all of
 * them are compiled after many cheap calls (Vector API code is 100x slower before C2 compiles it, so the first calls
 * say nothing). Then timed rounds: the real work of each candidate in turns, each keeping its best round, until no
 * best has improved by 5 % for {@code patience} rounds while the JIT has been quiet, or the time is up. A candidate
 * whose best has stopped improving while more than {@code dropFactor} times the leader's is dropped: one that fell
 * into the Vector API's Java fallback costs a few rounds of real work, not a full race, while one whose code the JIT
 * is still replacing (it keeps getting faster) is kept. Near-ties (10 %) go to the candidate that reads fewer bytes, and among equally
 * lean ones to a candidate that keeps activations exact ({@link #TIE}).
 */
final class KernelRace {
    /** Time source and JIT activity; tests replace it with a fake one. */
    interface Clock {
        long nanoTime();

        /** Total time the JIT compilers have spent so far (ms): it stops growing once the hot code is compiled. */
        long compilerMillis();

        Clock SYSTEM = new Clock() {
            private final java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();

            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public long compilerMillis() {
                return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
            }
        };
    }

    /**
     * warm: small work through the same code paths; work: what is timed; bytes: memory the work reads (0: unknown);
     * exact: the candidate keeps f32 activations (no rounding), which near-ties between equally lean candidates favour.
     */
    record Entry(String name, Runnable warm, Runnable work, long bytes, boolean exact) {
        Entry(String name, Runnable warm, Runnable work, long bytes) {
            this(name, warm, work, bytes, false);
        }

        Entry(String name, Runnable warm, Runnable work) {
            this(name, warm, work, 0);
        }
    }

    /** bestNanos is the fastest timed round (Long.MAX_VALUE if none ran); dropped: too slow to keep timing. */
    record Result(String name, long bestNanos, int runs, boolean dropped, long bytes, boolean exact) {}

    /**
     * Candidates within this fraction of the fastest count as tied, and the one that reads the fewest bytes wins:
     * a probe's layers sit partly in the outer caches, where a model's decode streams from memory, so a tie in the
     * probe leans the memory-lean way in the model. On a Sapphire Rapids, lut3-512 (2.06 bits per weight) ran the
     * probe 2-6 % behind unpack-512 (2.5 bits) across runs and decoded TinyLlama 10 % faster (39.8 against 35.8
     * tok/s); the other kernels read the same bytes as each other, so only lut3-512 is ever moved by this.
     *
     * <p>Between candidates that read the same bytes, a near-tie goes to one with exact activations ({@code float}):
     * then the probe cannot tell them apart, and the exact one computes what the float model computes. For the
     * tinystories checkpoint (128- to 384-row layers) the prefill probe ranked unpack's integer GEMM and the f32
     * GEMM within a few percent, in either order from run to run; with unpack its evaluation ran at 0.985x the float
     * model's in one process, with float at 0.997-0.999x.
     */
    static final double TIE = 0.10;

    /**
     * Warm-up for at least warmMinNanos, until the JIT has compiled nothing for quietNanos (at most warmMaxNanos);
     * then each candidate's real work twice, untimed (a branch the small work never took may still recompile);
     * then at least minRounds timed rounds, stopping once every remaining best has not improved by 5 % for
     * `patience` rounds and the JIT has again compiled nothing for quietNanos, or after timedNanos.
     */
    record Limits(long warmMinNanos, long quietNanos, long warmMaxNanos, long timedNanos, int minRounds, int patience,
            double dropFactor) {}

    /** The results, in the order of the entries, and how long the warm-up and the timed rounds took. */
    record Outcome(List<Result> results, long warmNanos, long timedNanos) {}

    private KernelRace() {}

    /** The winner is the result with the smallest bestNanos that was not dropped. */
    static Outcome run(List<Entry> entries, Clock clock, Limits lim) {
        int n = entries.size();
        long[] best = new long[n];
        int[] runs = new int[n];
        boolean[] dropped = new boolean[n];
        java.util.Arrays.fill(best, Long.MAX_VALUE);
        long start = clock.nanoTime(), jit = clock.compilerMillis(), jitSince = start;
        while (true) {
            for (int i = 0; i < n; i++) {
                entries.get(i).warm().run();
                runs[i]++;
            }
            long now = clock.nanoTime(), j = clock.compilerMillis();
            if (j != jit) {
                jit = j;
                jitSince = now;
            }
            if (now - start >= lim.warmMaxNanos() || now - start >= lim.warmMinNanos() && now - jitSince >= lim.quietNanos()) break;
        }
        for (int rep = 0; rep < 2; rep++) {
            for (int i = 0; i < n; i++) {
                entries.get(i).work().run();
                runs[i]++;
            }
        }
        long timedStart = clock.nanoTime();
        int[] lastGain = new int[n];
        for (int round = 0; ; round++) {
            for (int i = 0; i < n; i++) {
                if (dropped[i]) continue;
                long t0 = clock.nanoTime();
                entries.get(i).work().run();
                long t = clock.nanoTime() - t0;
                runs[i]++;
                if (t < best[i] * 0.95) lastGain[i] = round;
                best[i] = Math.min(best[i], t);
            }
            long lead = Long.MAX_VALUE;
            for (int i = 0; i < n; i++) if (!dropped[i]) lead = Math.min(lead, best[i]);
            long now = clock.nanoTime(), j = clock.compilerMillis();
            if (j != jit) {
                jit = j;
                jitSince = now;
            }
            // stable bests mean nothing while the JIT is still compiling: the real work's first rounds take paths
            // the warm-up never did (a prefill layer's kept f32 weights), and a compile takes far longer than the
            // `patience` rounds of a small model's prefill (1 ms each)
            boolean settled = round + 1 >= lim.minRounds() && now - jitSince >= lim.quietNanos();
            for (int i = 0; i < n; i++) {
                if (dropped[i]) continue;
                boolean stable = round - lastGain[i] >= lim.patience();
                // still improving: the JIT may be swapping in better code; far behind and stable: never will be
                if (stable && best[i] > lim.dropFactor() * lead) dropped[i] = true;
                else settled &= stable;
            }
            if (settled || clock.nanoTime() - timedStart >= lim.timedNanos()) break;
        }
        List<Result> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(new Result(entries.get(i).name(), best[i], runs[i], dropped[i], entries.get(i).bytes(), entries.get(i).exact()));
        return new Outcome(out, timedStart - start, clock.nanoTime() - timedStart);
    }

    /**
     * The fastest result that was not dropped, or among those within {@link #TIE} of it the one reading the fewest
     * bytes, and of equally lean ones an exact one.
     */
    static Result winner(List<Result> results) {
        Result fastest = null;
        for (Result r : results) if (!r.dropped() && (fastest == null || r.bestNanos() < fastest.bestNanos())) fastest = r;
        if (fastest == null) return null;
        Result w = fastest;
        for (Result r : results) {
            if (r.dropped() || r.bestNanos() > fastest.bestNanos() * (1 + TIE)) continue;
            boolean leaner = r.bytes() > 0 && w.bytes() > 0 && r.bytes() < w.bytes();
            if (leaner || r.bytes() == w.bytes() && r.exact() && !w.exact()) w = r;
        }
        return w;
    }
}
