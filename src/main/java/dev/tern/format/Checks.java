package dev.tern.format;

/** Shape checks shared by the quantized-matrix records. */
final class Checks {
    private Checks() {}

    static void shape(int rows, int cols, int groupSize, int[] perm) {
        if (rows <= 0 || cols <= 0 || groupSize <= 0) {
            throw new IllegalArgumentException("bad shape " + rows + "x" + cols + " group " + groupSize);
        }
        if (perm != null) {
            if (perm.length != cols) throw new IllegalArgumentException("perm length " + perm.length + " != cols " + cols);
            boolean[] seen = new boolean[cols];
            for (int p : perm) {
                if (p < 0 || p >= cols || seen[p]) throw new IllegalArgumentException("perm is not a permutation");
                seen[p] = true;
            }
        }
    }

    static void length(String what, int actual, long expected) {
        if (actual != expected) throw new IllegalArgumentException(what + " has length " + actual + ", expected " + expected);
    }
}
