package dev.tern.util;

import java.util.random.RandomGenerator;

/** Seeded random column permutations, for synthetic layers, the kernel probe and benchmarks. */
public final class Permutations {
    private Permutations() {}

    /**
     * A uniformly random permutation of 0..n-1 (Fisher-Yates from the top, one {@code nextInt(i + 1)} per i), so the
     * same generator state gives the same permutation wherever it is drawn.
     */
    public static int[] shuffled(int n, RandomGenerator r) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }
}
