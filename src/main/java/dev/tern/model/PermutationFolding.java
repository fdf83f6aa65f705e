package dev.tern.model;

import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernaryMatrix;
import java.util.LinkedHashMap;
import java.util.Map;

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
     * The layers with every foldable down_proj permutation moved into gate_proj and up_proj (keyed by layer prefix,
     * e.g. "model.layers.0.mlp.down_proj"); layers that cannot take it (gate or up not ternary, or of other shapes)
     * are left as they are. The input map is not changed.
     */
    public static <Q extends QuantizedMatrix> Map<String, QuantizedMatrix> foldDownPermutations(Map<String, Q> layers) {
        Map<String, QuantizedMatrix> out = new LinkedHashMap<>(layers);
        for (Map.Entry<String, Q> e : layers.entrySet()) {
            String name = e.getKey();
            if (!name.endsWith(".mlp.down_proj") || !(e.getValue() instanceof TernaryMatrix down) || down.perm() == null) continue;
            String mlp = name.substring(0, name.length() - "down_proj".length());
            if (!(layers.get(mlp + "gate_proj") instanceof TernaryMatrix gate) || !(layers.get(mlp + "up_proj") instanceof TernaryMatrix up)
                    || gate.rows() != down.cols() || up.rows() != down.cols()) continue;
            out.put(mlp + "gate_proj", rowsInOrder(gate, down.perm()));
            out.put(mlp + "up_proj", rowsInOrder(up, down.perm()));
            out.put(name, new TernaryMatrix(down.rows(), down.cols(), down.groupSize(), down.codes(), down.alpha(), down.mu(), null));
        }
        return out;
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
