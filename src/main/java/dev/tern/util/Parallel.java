package dev.tern.util;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits index ranges over a fixed number of threads (default: all cores, or TERN_THREADS): the calling thread and
 * THREADS − 1 workers claim chunks from a shared counter.
 *
 * <p>Why not a ForkJoinPool: decoding one token makes about 160 short parallel calls (one per layer matrix, each
 * well under a millisecond), with serial work between them. Pool workers park in between, and waking a parked
 * thread on this VM costs tens of microseconds per call, so two threads decoded barely faster than one. Here
 * workers spin for a short while after each job before parking, and the caller works instead of waiting.
 */
public final class Parallel {
    private static final int THREADS = threadsFromEnv();
    /** How long an idle worker spins for the next job before parking. */
    private static final long SPIN_NANOS = 1_000_000;
    private static final AtomicBoolean BUSY = new AtomicBoolean();
    private static volatile Job job;
    private static final Thread[] WORKERS = startWorkers();

    private Parallel() {}

    private static int threadsFromEnv() {
        String s = System.getenv("TERN_THREADS");
        if (s != null && !s.isBlank()) {
            try {
                return Math.max(1, Integer.parseInt(s.trim()));
            } catch (NumberFormatException e) {
                // fall through to the default
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    public static int threads() {
        return THREADS;
    }

    /** Body receives [from, to) chunks of equal length, at least minChunk (the last one may be shorter). */
    public interface RangeBody {
        void run(int from, int to);
    }

    public static void forRange(int n, int minChunk, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(THREADS * 4, Math.max(1, n / Math.max(1, minChunk)));
        if (chunks <= 1 || THREADS == 1) {
            body.run(0, n);
            return;
        }
        run(n, balancedStep(n, chunks, THREADS), body);
    }

    /**
     * The chunk length for n indices in at most maxChunks chunks that gives the busiest of `threads` threads the
     * least work, counting each index as one unit; among lengths within 5 % of that, the shortest (more chunks
     * balance dynamically when a thread starts late). Plain ceil(n / 4·threads) cut 10 equal decode units into 5
     * chunks of 2, so one of two threads ran 3 of them while the other waited.
     */
    static int balancedStep(int n, int maxChunks, int threads) {
        int lo = Math.min(threads, maxChunks);
        // forRange runs on every decode call (about 160 per token): two passes over the chunk counts, no allocation
        long min = Long.MAX_VALUE;
        for (int k = maxChunks; k >= lo; k--) min = Math.min(min, span(n, k, threads));
        for (int k = maxChunks; k > lo; k--) if (span(n, k, threads) <= min * 1.05) return (n + k - 1) / k;
        return (n + lo - 1) / lo;
    }

    /** The busiest thread's share of n unit-cost indices cut into chunks of ceil(n / k). */
    private static long span(int n, int k, int threads) {
        int step = (n + k - 1) / k, chunks = (n + step - 1) / step, last = n - (chunks - 1) * step;
        int rounds = (chunks + threads - 1) / threads;
        // of the threads with `rounds` chunks, one holds the short last chunk; it is the busiest only if alone
        return (long) rounds * step - (chunks % threads == 1 ? step - last : 0);
    }

    /** Deterministic variant: exactly `parts` equal chunks (for reductions whose result must not depend on scheduling). */
    public static void forParts(int n, int parts, RangeBody body) {
        if (n <= 0) return;
        parts = Math.max(1, Math.min(parts, n));
        int step = (n + parts - 1) / parts;
        if (parts == 1 || THREADS == 1) {
            inline(n, step, body);
            return;
        }
        run(n, step, body);
    }

    /** The same chunks on the calling thread, in order. */
    private static void inline(int n, int step, RangeBody body) {
        for (int from = 0; from < n; from += step) body.run(from, Math.min(n, from + step));
    }

    private static void run(int n, int step, RangeBody body) {
        // A nested call (from inside a body) or a second caller thread runs inline, in the same chunks.
        if (!BUSY.compareAndSet(false, true)) {
            inline(n, step, body);
            return;
        }
        Job j = new Job(n, step, body);
        try {
            job = j;
            for (Thread w : WORKERS) LockSupport.unpark(w);
            j.work();
            while (j.done.get() < j.chunks) Thread.onSpinWait();
        } finally {
            job = null;
            BUSY.set(false);
        }
        if (j.failure != null) {
            if (j.failure instanceof RuntimeException e) throw e;
            if (j.failure instanceof Error e) throw e;
            throw new RuntimeException(j.failure);
        }
    }

    private static Thread[] startWorkers() {
        Thread[] ws = new Thread[THREADS - 1];
        for (int i = 0; i < ws.length; i++) {
            ws[i] = new Thread(Parallel::workerLoop, "tern-worker-" + (i + 1));
            ws[i].setDaemon(true);
            ws[i].start();
        }
        return ws;
    }

    private static void workerLoop() {
        Job last = null;
        while (true) {
            long idleSince = System.nanoTime();
            Job j;
            while ((j = job) == null || j == last) {
                if (System.nanoTime() - idleSince > SPIN_NANOS) {
                    LockSupport.park();
                } else {
                    Thread.onSpinWait();
                }
            }
            last = j;
            j.work();
        }
    }

    /** One parallel call: chunks of `step` indices, claimed in any order, each run exactly once. */
    private static final class Job {
        final int n, step, chunks;
        final RangeBody body;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        volatile Throwable failure;

        Job(int n, int step, RangeBody body) {
            this.n = n;
            this.step = step;
            this.chunks = (n + step - 1) / step;
            this.body = body;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    int from = c * step;
                    body.run(from, Math.min(n, from + step));
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }
}
