package dev.tern.util;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** Splits index ranges over a fixed number of worker threads (default: all cores, or TERN_THREADS). */
public final class Parallel {
    private static final int THREADS = threadsFromEnv();
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS);

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

    /** Body receives [from, to) chunks; the range is cut into about 4 chunks per thread, each at least minChunk long. */
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
        int step = (n + chunks - 1) / chunks;
        POOL.invoke(new Split(0, n, step, body));
    }

    /** Deterministic variant: exactly `parts` equal chunks (for reductions whose result must not depend on scheduling). */
    public static void forParts(int n, int parts, RangeBody body) {
        if (n <= 0) return;
        parts = Math.max(1, Math.min(parts, n));
        int step = (n + parts - 1) / parts;
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        POOL.invoke(new Split(0, n, step, body));
    }

    private static final class Split extends RecursiveAction {
        private final int from, to, step;
        private final RangeBody body;

        Split(int from, int to, int step, RangeBody body) {
            this.from = from;
            this.to = to;
            this.step = step;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from <= step) {
                body.run(from, to);
                return;
            }
            int mid = from + ((to - from) / step / 2) * step;
            if (mid <= from) mid = from + step;
            invokeAll(new Split(from, mid, step, body), new Split(mid, to, step, body));
        }
    }

}
