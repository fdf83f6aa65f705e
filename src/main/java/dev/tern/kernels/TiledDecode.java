package dev.tern.kernels;

import dev.tern.util.Parallel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decode calls (a few tokens) of kernels whose work splits into independent row tiles ({@link UnpackKernel},
 * {@link TableKernel}, {@link Lut3Kernel}): the tiles of several layers that read the same input (q, k, v; gate, up)
 * run in one parallel pass, one synchronisation instead of one per layer, and each thread prepares the tokens'
 * activations itself (cheaper than pulling the caller's copy across cores), once per layer and call.
 */
final class TiledDecode {
    /** A kernel whose decode call is a sequence of independent tiles. */
    interface Kernel extends TernaryKernel {
        int tiles();

        /** Rows per tile and input columns: threads take tiles in chunks of at least 256 Ki weights. */
        int rowsPerTile();

        int in();

        /** Empty per-thread state for one layer of a pass, and its class. */
        Slot newSlot();

        Class<? extends Slot> slotClass();

        /** Fills slot with the activations of tokens 0..tokens-1 of xp (stored column order), as the kernel needs them. */
        void prepare(float[] xp, int tokens, Slot slot);

        /** Output rows of one tile for prepared token t. */
        void runTile(int tile, Slot slot, int t, float[] gs, float[] y);

        /**
         * What a prepared slot depends on besides the input (the column chunking): layers of one kernel class with
         * equal keys that read the same input array share one slot, e.g. q, k and v one set of tables.
         */
        int[] inputLayout();
    }

    /** Per-thread state of one layer in a pass; built names the call whose activations it holds (0: none). */
    abstract static class Slot {
        long built;
    }

    private static final AtomicLong CALLS = new AtomicLong();
    private static final ThreadLocal<Slot[]> SLOTS = ThreadLocal.withInitial(() -> new Slot[0]);

    private TiledDecode() {}

    /**
     * y[i] = layer i (xp[i], gs[i]) for `tokens` tokens, each tile for all of them; layers with the same xp array and
     * compatible slots share one.
     */
    static void run(Kernel[] ks, float[][] xp, float[][] gs, float[][] y, int tokens) {
        int n = ks.length;
        int[] first = new int[n + 1], slotOf = new int[n];
        for (int i = 0; i < n; i++) {
            first[i + 1] = first[i] + ks[i].tiles();
            slotOf[i] = i > 0 && xp[i] == xp[i - 1] && ks[i].getClass() == ks[i - 1].getClass()
                    && java.util.Arrays.equals(ks[i].inputLayout(), ks[i - 1].inputLayout()) ? slotOf[i - 1] : i;
        }
        int minTiles = (int) Math.max(1, (256L << 10) / ((long) ks[0].rowsPerTile() * ks[0].in() * tokens));
        long id = CALLS.incrementAndGet();
        Parallel.forRange(first[n], minTiles, (a, b) -> {
            Slot[] slots = SLOTS.get();
            int i = 0;
            for (int g = a; g < b; g++) {
                while (g >= first[i + 1]) i++;
                Kernel k = ks[i];
                int si = slotOf[i];
                if (slots.length <= si) slots = grow(si + 1);
                Slot s = slots[si];
                if (s == null || s.getClass() != k.slotClass()) s = slots[si] = k.newSlot();
                if (s.built != id) {
                    k.prepare(xp[i], tokens, s);
                    s.built = id;
                }
                for (int t = 0; t < tokens; t++) k.runTile(g - first[i], s, t, gs[i], y[i]);
            }
        });
    }

    /** One layer: y = k(xp, gs) for `tokens` tokens. */
    static void run(Kernel k, float[] xp, float[] gs, float[] y, int tokens) {
        run(new Kernel[] {k}, new float[][] {xp}, new float[][] {gs}, new float[][] {y}, tokens);
    }

    private static Slot[] grow(int n) {
        Slot[] s = java.util.Arrays.copyOf(SLOTS.get(), n);
        SLOTS.set(s);
        return s;
    }
}
