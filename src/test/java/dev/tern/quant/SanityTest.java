package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The full method must beat its own ablations on a layer with correlated, outlier-heavy inputs. */
class SanityTest {
    @Test
    void pt2BeatsRtnAndAtqWithoutGptq() {
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
        double atqGptqNoReorder = err(w, n, m, h, AtqQuantizer.full(), Gptq.Options.defaults().withOrder(Gptq.Order.NONE));
        double pt2Column = err(w, n, m, h, AtqQuantizer.full(),
                Gptq.Options.defaults().withPropagation(Gptq.Propagation.COLUMN));
        double atqGptqAct = err(w, n, m, h, AtqQuantizer.full(), Gptq.Options.defaults().withOrder(Gptq.Order.ACT_ORDER));
        double uni2 = err(w, n, m, h, new UniformQuantizer(2), Gptq.Options.uniformBaseline());
        String msg = String.format(
                "pt2=%.4g pt2Column=%.4g rtnSym=%.4g rtnAsym=%.4g atqOnly=%.4g atqGptqNone=%.4g atqGptqAct=%.4g uni2=%.4g",
                pt2, pt2Column, rtnSym, rtnAsym, atqOnly, atqGptqNoReorder, atqGptqAct, uni2);
        System.out.println(msg);
        assertTrue(pt2 < rtnSym && pt2 < rtnAsym, msg);
        assertTrue(pt2 < atqOnly, msg);
    }

    static double err(float[] w, int n, int m, double[] h, GroupQuantizer q, Gptq.Options o) {
        return TestData.outputError(w, Gptq.quantize(w, n, m, h, q, o).dequantized(), n, m, h);
    }
}
