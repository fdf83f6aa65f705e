package dev.tern.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rounds one chunk of activations to integers in ±255 with the chunk's own scale d = max|x|/255, the integer
 * kernels' common input ({@link UnpackKernel}, {@link TableKernel}); every kernel rounds alike, so their sums agree.
 */
final class ChunkQuantizer {
    private static final VectorSpecies<Float> SF = FloatVector.SPECIES_PREFERRED;
    private static final float ROUNDER = 12582912f;

    private ChunkQuantizer() {}

    /** q[p..p+n) = rint(x[lo..lo+n)·255/amax); returns amax (0 for a chunk below 1e-30, whose q are then 0). */
    static float quantize(float[] x, int lo, int n, int[] q, int p) {
        int j = 0;
        FloatVector m = FloatVector.zero(SF);
        for (; j + SF.length() <= n; j += SF.length()) m = m.max(FloatVector.fromArray(SF, x, lo + j).abs());
        float amax = m.reduceLanes(VectorOperators.MAX); // MAX is exact and order-free
        for (; j < n; j++) amax = Math.max(amax, Math.abs(x[lo + j]));
        // below 1e-30 the chunk counts as zero (255/amax would overflow for the tiniest magnitudes)
        float inv = amax > 1e-30f ? 255f / amax : 0f;
        for (j = 0; j + SF.length() <= n; j += SF.length()) {
            // |v| ≤ 255: adding and removing 1.5·2^23 rounds to the nearest integer, ties to even (= Math.rint)
            FloatVector v = FloatVector.fromArray(SF, x, lo + j).mul(inv).add(ROUNDER).sub(ROUNDER);
            ((IntVector) v.convert(VectorOperators.F2I, 0)).intoArray(q, p + j);
        }
        for (; j < n; j++) q[p + j] = (int) Math.rint(x[lo + j] * inv);
        return amax;
    }
}
