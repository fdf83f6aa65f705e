package dev.tern.model;

import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernaryMatrix;
import java.util.Map;
import java.util.function.Function;

/**
 * Moves the input permutation of each block's down projection into the rows of its gate and up projections at load
 * time, so that the MLP's hidden vector comes out already in down_proj's stored column order and no layer gathers it.
 *
 * <p>down_proj reads h[perm[j]] as its stored column j, and h = silu(gate·x) ⊙ (up·x) is elementwise, so giving gate
 * and up the rows perm[0], perm[1], ... makes their j-th output exactly h[perm[j]]. Every kernel computes each output
 * row from that row's codes and scales alone, whatever its position, so the model's outputs keep their bits; the
 * gather goes away (it made the permuted 128 × 384 down projections of tinystories-656k 30 % slower to prefill than
 * their f32 twins, and costs every decoded token a pass over the hidden vector).
 */
public final class PermutationFolding {
    private PermutationFolding() {}

    /**
     * The layers by prefix (e.g. "model.layers.0.mlp.down_proj"), with every foldable down_proj permutation moved
     * into gate_proj and up_proj; null for a name that is not in the map. Layers that cannot take it (gate or up not
     * ternary, or of other shapes) come as they are. The reordered copies are made when asked for, one layer at a
     * time, so a load holds at most one of them besides the checkpoint's own matrices. Every layer keeps its (input
     * width, group size), so the kernel probe can be given the map's own shapes.
     */
    public static Function<String, QuantizedMatrix> foldedLookup(Map<String, ? extends QuantizedMatrix> layers) {
        return name -> {
            QuantizedMatrix q = layers.get(name);
            int dot = name.lastIndexOf('.');
            if (q == null || dot < 0) return q;
            String mlp = name.substring(0, dot + 1);
            TernaryMatrix down = mlp.endsWith(".mlp.") ? foldableDown(layers, mlp) : null;
            if (down == null) return q;
            return switch (name.substring(dot + 1)) {
                case "down_proj" -> new TernaryMatrix(down.rows(), down.cols(), down.groupSize(), down.codes(), down.alpha(), down.mu(), null);
                case "gate_proj", "up_proj" -> rowsInOrder((TernaryMatrix) q, down.perm());
                default -> q;
            };
        };
    }

    /** The down_proj of this MLP prefix (ending in "mlp.") if its permutation can move into gate and up, else null. */
    private static TernaryMatrix foldableDown(Map<String, ? extends QuantizedMatrix> layers, String mlp) {
        if (!(layers.get(mlp + "down_proj") instanceof TernaryMatrix down) || down.perm() == null) return null;
        if (!(layers.get(mlp + "gate_proj") instanceof TernaryMatrix gate) || !(layers.get(mlp + "up_proj") instanceof TernaryMatrix up)
                || gate.rows() != down.cols() || up.rows() != down.cols()) return null;
        return down;
    }

    /** m with its rows reordered: row r of the result is row order[r] of m (codes and per-group parameters). */
    static TernaryMatrix rowsInOrder(TernaryMatrix m, int[] order) {
        int cols = m.cols(), groups = m.groups();
        byte[] codes = new byte[m.codes().length];
        float[] alpha = new float[m.alpha().length], mu = new float[m.mu().length];
        for (int r = 0; r < m.rows(); r++) {
            int s = order[r];
            System.arraycopy(m.codes(), s * cols, codes, r * cols, cols);
            System.arraycopy(m.alpha(), s * groups, alpha, r * groups, groups);
            System.arraycopy(m.mu(), s * groups, mu, r * groups, groups);
        }
        return new TernaryMatrix(m.rows(), cols, m.groupSize(), codes, alpha, mu, m.perm());
    }
}
