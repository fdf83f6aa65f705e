package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tern.format.TernaryMatrix;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeterminismTest {
    static QuantizedLayer run(long seed, Gptq.Order order) {
        Random rnd = new Random(seed);
        int n = 48, m = 384, tokens = 300;
        float[] w = TestData.weights(rnd, n, m);
        float[] x = TestData.activations(rnd, tokens, m);
        HessianAccumulator acc = new HessianAccumulator(m);
        acc.add(Arrays.copyOfRange(x, 0, 100 * m), 100);
        acc.add(Arrays.copyOfRange(x, 100 * m, tokens * m), tokens - 100);
        return Gptq.quantize(w, n, m, acc.hessian(), AtqQuantizer.full(),
                Gptq.Options.defaults().withOrder(order).withSeed(seed));
    }

    @Test
    void sameSeedGivesBitIdenticalOutputs() {
        for (Gptq.Order order : Gptq.Order.values()) {
            QuantizedLayer a = run(42, order), b = run(42, order);
            assertArrayEquals(a.dequantized(), b.dequantized(), order.name());
            TernaryMatrix ta = (TernaryMatrix) a.matrix(), tb = (TernaryMatrix) b.matrix();
            assertArrayEquals(ta.codes(), tb.codes());
            assertArrayEquals(ta.alpha(), tb.alpha());
            assertArrayEquals(ta.mu(), tb.mu());
            assertArrayEquals(ta.perm(), tb.perm());
        }
        assertFalse(Arrays.equals(run(42, Gptq.Order.RANDOM).dequantized(), run(43, Gptq.Order.RANDOM).dequantized()));
    }
}
