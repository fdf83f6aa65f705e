package dev.tern.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The blocked rows-times-S product (Vector API, so run at every width with the kernel tests) against the one-row loop. */
@Tag("kernels")
class SmallLinalgTest {
    @ParameterizedTest
    @CsvSource({"1,128", "2,128", "3,128", "4,128", "4,7", "4,131", "3,131", "4,256"})
    void rowsTimesIsBitForBitTheOneRowLoop(int rows, int k) {
        SplittableRandom r = new SplittableRandom(31L * k + rows);
        double[] s = new double[k * k];
        for (int i = 0; i < s.length; i++) s[i] = r.nextGaussian();
        int xOff = 5;
        double[] x = new double[xOff + rows * k];
        // trits in some rows (as AGA passes them), arbitrary reals in the others (the descent's errors)
        for (int i = xOff; i < x.length; i++) x[i] = (i / k) % 2 == 0 ? r.nextInt(3) - 1 : r.nextGaussian();
        double[] out = new double[rows * k];
        SmallLinalg.rowsTimes(x, xOff, rows, s, k, out);
        for (int row = 0; row < rows; row++) {
            double[] want = new double[k];
            for (int c = 0; c < k; c++) {
                double xc = x[xOff + row * k + c];
                for (int a = 0; a < k; a++) want[a] += s[c * k + a] * xc;
            }
            for (int a = 0; a < k; a++) {
                assertEquals(Double.doubleToLongBits(want[a]), Double.doubleToLongBits(out[row * k + a]),
                        "row " + row + " col " + a + ": " + want[a] + " vs " + out[row * k + a]);
            }
        }
    }
}
