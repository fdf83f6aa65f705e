package dev.tern.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernaryMatrix;
import dev.tern.kernels.KernelKind;
import dev.tern.kernels.LinearOp;
import dev.tern.kernels.TernaryLinear;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("kernels")
class PermutationFoldingTest {
    private static final String P = "model.layers.0.mlp.";

    static TernaryMatrix ternary(Random r, int rows, int cols, int gs, boolean permuted) {
        int groups = (cols + gs - 1) / gs;
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) codes[i] = (byte) (r.nextInt(3) - 1);
        float[] alpha = new float[rows * groups], mu = new float[alpha.length];
        for (int i = 0; i < alpha.length; i++) {
            alpha[i] = 0.02f + 0.01f * r.nextFloat();
            mu[i] = 0.004f * (r.nextFloat() - 0.5f);
        }
        int[] perm = permuted ? dev.tern.util.Permutations.shuffled(cols, r) : null;
        return new TernaryMatrix(rows, cols, gs, codes, alpha, mu, perm);
    }

    /** The MLP's layers as the folding lookup gives them to a model load. */
    static Map<String, QuantizedMatrix> folded(Map<String, QuantizedMatrix> layers) {
        java.util.function.Function<String, QuantizedMatrix> f = PermutationFolding.foldedLookup(layers);
        Map<String, QuantizedMatrix> out = new LinkedHashMap<>();
        for (String name : layers.keySet()) out.put(name, f.apply(name));
        return out;
    }

    /** down(silu(gate·x) ⊙ up·x) for `tokens` rows of x, through the given kernel. */
    static float[] mlp(Map<String, QuantizedMatrix> layers, KernelKind kind, float[] x, int tokens) {
        LinearOp gate = new TernaryLinear((TernaryMatrix) layers.get(P + "gate_proj"), kind);
        LinearOp up = new TernaryLinear((TernaryMatrix) layers.get(P + "up_proj"), kind);
        LinearOp down = new TernaryLinear((TernaryMatrix) layers.get(P + "down_proj"), kind);
        float[] g = new float[tokens * gate.outFeatures()], u = new float[g.length], y = new float[tokens * down.outFeatures()];
        gate.apply(x, g, tokens);
        up.apply(x, u, tokens);
        for (int i = 0; i < g.length; i++) g[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
        down.apply(g, y, tokens);
        return y;
    }

    /** The folded MLP gives the bits of the original one, for every kernel, decode and prefill, ragged shapes included. */
    @Test
    void foldedMlpKeepsItsBits() {
        Random r = new Random(5);
        for (int[] s : new int[][] {{128, 384, 128}, {72, 200, 64}, {40, 97, 32}}) {
            int h = s[0], m = s[1], gs = s[2];
            Map<String, QuantizedMatrix> layers = new LinkedHashMap<>();
            layers.put(P + "gate_proj", ternary(r, m, h, gs, true));
            layers.put(P + "up_proj", ternary(r, m, h, gs, true));
            layers.put(P + "down_proj", ternary(r, h, m, gs, true));
            Map<String, QuantizedMatrix> folded = folded(layers);
            assertNull(folded.get(P + "down_proj").perm(), "down_proj no longer gathers its input");
            for (KernelKind k : KernelKind.values()) {
                if (!k.fitsThisJvm() || !k.supports(gs)) continue;
                for (int t : new int[] {1, 3, 9}) {
                    float[] x = new float[t * h];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    assertArrayEquals(mlp(layers, k, x, t), mlp(folded, k, x, t), k + " " + h + "x" + m + " t=" + t);
                }
            }
        }
    }

    /** Where gate or up is not ternary (kept in floats), nothing is folded. */
    @Test
    void leavesLayersItCannotFold() {
        Random r = new Random(6);
        Map<String, QuantizedMatrix> layers = new LinkedHashMap<>();
        layers.put(P + "up_proj", ternary(r, 64, 32, 32, false));
        layers.put(P + "down_proj", ternary(r, 32, 64, 32, true));
        Map<String, QuantizedMatrix> folded = folded(layers);
        assertSame(layers.get(P + "down_proj"), folded.get(P + "down_proj"));
        assertSame(layers.get(P + "up_proj"), folded.get(P + "up_proj"));
    }
}
