package dev.tern.kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * Times candidates on the same work and names the fastest.
 *
 * <p>Warm-up first: each candidate's small work runs in turns, for a fixed time, so that the JIT compiles all of
 * them concurrently after many cheap calls (Vector API code is 100x slower before C2 compiles it, so the first calls
 * say nothing). Then timed rounds: the real work of each candidate in turns, each keeping its best round, until no
 * best has improved by 5 % for {@code patience} rounds, or the time is up. A candidate whose best has stopped
 * improving while more than {@code dropFactor} times the leader's is dropped: one that fell into the Vector API's
 * Java fallback costs a few rounds of real work, not a full race, while one whose code the JIT is still replacing
 * (it keeps getting faster) is kept.
 */
final class KernelRace {
    /** Time source; tests replace it with a fake one. */
    interface Clock {
        long nanoTime();
    }

    /** warm: small work through the same code paths; work: what is timed. */
    record Entry(String name, Runnable warm, Runnable work) {}

    /** bestNanos is the fastest timed round (Long.MAX_VALUE if none ran); dropped: too slow to keep timing. */
    record Result(String name, long bestNanos, int runs, boolean dropped) {}

    /**
     * warmNanos: warm-up time for all candidates together; timedNanos: most time for the timed rounds; at least
     * minRounds timed rounds, stopping once every remaining best has not improved by 5 % for `patience` rounds.
     */
    record Limits(long warmNanos, long timedNanos, int minRounds, int patience, double dropFactor) {}

    private KernelRace() {}

    /** Results in the order of entries; the winner is the one with the smallest bestNanos that was not dropped. */
    static List<Result> run(List<Entry> entries, Clock clock, Limits lim) {
        int n = entries.size();
        long[] best = new long[n];
        int[] runs = new int[n];
        boolean[] dropped = new boolean[n];
        java.util.Arrays.fill(best, Long.MAX_VALUE);
        long start = clock.nanoTime();
        do {
            for (int i = 0; i < n; i++) {
                entries.get(i).warm().run();
                runs[i]++;
            }
        } while (clock.nanoTime() - start < lim.warmNanos());
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
            boolean settled = round + 1 >= lim.minRounds();
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
        for (int i = 0; i < n; i++) out.add(new Result(entries.get(i).name(), best[i], runs[i], dropped[i]));
        return out;
    }

    static Result winner(List<Result> results) {
        Result w = null;
        for (Result r : results) if (!r.dropped() && (w == null || r.bestNanos() < w.bestNanos())) w = r;
        return w;
    }
}
