package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The Schur-downdate driver against independent references. */
class GptqEquivalenceTest {
    static final int N = 16, M = 256, TOKENS = 512;

    static double[] hessian(Random rnd, int m) {
        float[] x = TestData.activations(rnd, TOKENS, m);
        double[] h = TestData.hessian(x, TOKENS, m);
        // One dead input, as GPTQ must handle them.
        for (int j = 0; j < m; j++) {
            h[7 * m + j] = 0;
            h[j * m + 7] = 0;
        }
        return h;
    }

    @ParameterizedTest
    @EnumSource(value = Gptq.Order.class, names = {"NONE", "ACT_ORDER", "RANDOM"})
    void columnPropagationEqualsClassicGptq(Gptq.Order order) {
        Random rnd = new Random(11);
        float[] w = TestData.weights(rnd, N, M);
        double[] h = hessian(rnd, M);
        Gptq.Options o = Gptq.Options.defaults().withOrder(order).withSeed(5)
                .withPropagation(Gptq.Propagation.COLUMN);
        QuantizedLayer got = Gptq.quantize(w, N, M, h, new UniformQuantizer(3), o);
        int[] perm = Gptq.initialOrder(order, M, h, 5);
        double[] ref = ClassicGptq.quantize(w, N, M, h, perm, 3, 128, 0.01);
        double rel = TestData.relDiff(got.dequantized(), ref);
        assertTrue(rel < 1e-4, order + ": relative difference " + rel);
    }

    /** Guards the baseline: our uniform GPTQ must equal the plain reference, for every bit width of the tables. */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void uniformBaselineEqualsPlainReference(int bits) {
        Random rnd = new Random(100 + bits);
        float[] w = TestData.weights(rnd, N, 384);
        double[] h = hessian(rnd, 384);
        QuantizedLayer got = Gptq.quantize(w, N, 384, h, new UniformQuantizer(bits), Gptq.Options.uniformBaseline());
        int[] identity = Gptq.initialOrder(Gptq.Order.NONE, 384, h, 0);
        double[] ref = ClassicGptq.quantize(w, N, 384, h, identity, bits, 128, 0.01);
        double rel = TestData.relDiff(got.dequantized(), ref);
        assertTrue(rel < 1e-4, bits + "-bit: relative difference " + rel);
        // And the stored matrix decodes to the same thing, bit for bit.
        assertArrayEquals(got.dequantized(), got.matrix().dequantize());
    }

    @ParameterizedTest
    // The static-group orders are column-pass orders (they refuse block propagation); TqExactTest covers them.
    @EnumSource(value = Gptq.Order.class, names = {"SSR", "NONE", "ACT_ORDER", "RANDOM"})
    void blockPropagationEqualsDenseReference(Gptq.Order order) {
        Random rnd = new Random(21);
        int m = 320; // 3 blocks, the last one ragged
        float[] w = TestData.weights(rnd, N, m);
        double[] h = hessian(rnd, m);
        GroupQuantizer q = new UniformQuantizer(2);
        Gptq.Options o = Gptq.Options.defaults().withOrder(order).withSeed(3).withPropagation(Gptq.Propagation.BLOCK);
        QuantizedLayer got = Gptq.quantize(w, N, m, h, q, o);
        int[] fixed = order == Gptq.Order.SSR ? null : Gptq.initialOrder(order, m, h, 3);
        double[] ref = DenseGptqReference.quantize(w, N, m, h, fixed, q, 128, 0.01);
        double rel = TestData.relDiff(got.dequantized(), ref);
        assertTrue(rel < 1e-4, order + ": relative difference " + rel);
    }

    @ParameterizedTest
    @EnumSource(value = Gptq.Order.class, names = {"SSR", "ACT_ORDER"})
    void blockPropagationWithAtqEqualsDenseReference(Gptq.Order order) {
        Random rnd = new Random(31);
        int m = 256;
        float[] w = TestData.weights(rnd, N, m);
        double[] h = hessian(rnd, m);
        GroupQuantizer q = AtqQuantizer.full();
        QuantizedLayer got = Gptq.quantize(w, N, m, h, q, Gptq.Options.defaults().withOrder(order).withPropagation(Gptq.Propagation.BLOCK));
        int[] fixed = order == Gptq.Order.SSR ? null : Gptq.initialOrder(order, m, h, 0);
        double[] ref = DenseGptqReference.quantize(w, N, m, h, fixed, q, 128, 0.01);
        double rel = TestData.relDiff(got.dequantized(), ref);
        assertTrue(rel < 1e-4, order + ": relative difference " + rel);
    }
}
