package dev.tern.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    /** The busiest thread's share of n unit-cost indices cut into chunks of `step`, claimed greedily. */
    private static int span(int n, int step, int threads) {
        int[] load = new int[threads];
        for (int from = 0; from < n; from += step) {
            int t = 0;
            for (int i = 1; i < threads; i++) if (load[i] < load[t]) t = i;
            load[t] += Math.min(step, n - from);
        }
        int max = 0;
        for (int l : load) max = Math.max(max, l);
        return max;
    }

    @Test
    void tenEqualUnitsSplitEvenlyOverTwoThreads() {
        // ceil(10 / 8) = 2 gave 5 chunks, 3 for one thread and 2 for the other
        int step = Parallel.balancedStep(10, 8, 2);
        assertEquals(5, span(10, step, 2));
    }

    @Test
    void chosenStepIsWithinFivePercentOfTheBestAndRespectsTheChunkLimit() {
        for (int threads : new int[] {2, 3, 4}) {
            for (int n = 1; n <= 300; n++) {
                int max = Math.min(4 * threads, n);
                int step = Parallel.balancedStep(n, max, threads);
                assertTrue((n + step - 1) / step <= max, n + " in " + max);
                int best = Integer.MAX_VALUE;
                for (int s = (n + max - 1) / max; s <= n; s++) best = Math.min(best, span(n, s, threads));
                assertTrue(span(n, step, threads) <= best * 1.05 + 1e-9, "n=" + n + " threads=" + threads + " step=" + step);
            }
        }
    }

    @Test
    void forRangeRunsEveryIndexOnce() {
        for (int n : new int[] {1, 7, 10, 44, 1000}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            Parallel.forRange(n, 1, (a, b) -> {
                for (int i = a; i < b; i++) seen.incrementAndGet(i);
            });
            int[] got = new int[n], want = new int[n];
            for (int i = 0; i < n; i++) {
                got[i] = seen.get(i);
                want[i] = 1;
            }
            assertArrayEquals(want, got, "n=" + n);
        }
    }
}
