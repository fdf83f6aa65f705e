package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The shipped method must beat the baselines and its own ablations on a layer with correlated, outlier-heavy inputs. */
class SanityTest {
    @Test
    void pt2BeatsBaselinesAndAblations() {
        Random rnd = new Random(23);
        int n = 64, m = 512, tokens = 2048;
        float[] w = TestData.weights(rnd, n, m);
        float[] x = TestData.activations(rnd, tokens, m);
        HessianAccumulator acc = new HessianAccumulator(m);
        acc.add(x, tokens);
        double[] h = acc.hessian();
        Gptq.Options noGptq = Gptq.Options.defaults().withOrder(Gptq.Order.NONE).withErrorFeedback(false);
        double pt2 = err(w, n, m, h, AtqQuantizer.full(), Gptq.Options.defaults());
        double rtnSym = err(w, n, m, h, new RtnTernaryQuantizer(false), noGptq);
        double rtnAsym = err(w, n, m, h, new RtnTernaryQuantizer(true), noGptq);
        double atqOnly = err(w, n, m, h, AtqQuantizer.full(), noGptq);
        double blockWise = err(w, n, m, h, AtqQuantizer.full(), Gptq.Options.defaults().withPropagation(Gptq.Propagation.BLOCK));
        double noRefit = err(w, n, m, h, AtqQuantizer.full(), Gptq.Options.defaults().withRefits(0));
        String msg = String.format("pt2=%.4g rtnSym=%.4g rtnAsym=%.4g atqOnly=%.4g blockWise=%.4g noRefit=%.4g",
                pt2, rtnSym, rtnAsym, atqOnly, blockWise, noRefit);
        assertTrue(pt2 < 0.8 * Math.min(rtnSym, rtnAsym), msg);
        assertTrue(pt2 < 0.8 * atqOnly, msg);
        // The shipped choices each pay for themselves: column-wise feedback and the refits on the final trits.
        assertTrue(pt2 < blockWise, msg);
        assertTrue(pt2 < noRefit, msg);
    }

    static double err(float[] w, int n, int m, double[] h, GroupQuantizer q, Gptq.Options o) {
        return TestData.outputError(w, Gptq.quantize(w, n, m, h, q, o).dequantized(), n, m, h);
    }
}
