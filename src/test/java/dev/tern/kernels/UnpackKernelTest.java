package dev.tern.kernels;

import static dev.tern.kernels.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.tern.format.TernaryMatrix;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UnpackKernelTest {
    @Test
    void packingRoundTrips() {
        Random r = new Random(21);
        for (int[] s : new int[][] {{1, 1, 128}, {33, 130, 128}, {40, 259, 128}, {65, 300, 64}, {9, 103, 7}, {5, 23, 5},
            {3, 2048, 128}, {2, 700, 256}, {31, 9, 3}, {70, 1000, 200}}) {
            byte[] c = trits(r, s[0] * s[1]);
            for (int tile : new int[] {32, 64}) {
                short[] p = TernaryPacking.packUnpack(c, s[0], s[1], s[2], tile);
                assertArrayEquals(c, TernaryPacking.unpackUnpack(p, s[0], s[1], s[2], tile));
            }
        }
    }

    /** The kernel against a scalar model of its arithmetic: ±255 per chunk of ≤ 128 columns, exact integer sums. */
    @Test
    void matchesIntegerReference() {
        Random r = new Random(22);
        for (int[] s : new int[][] {{70, 1000, 128}, {33, 2048, 128}, {40, 259, 64}, {9, 103, 7}, {600, 400, 128},
            {300, 700, 256}, {50, 1000, 200}, {1, 1, 128}, {17, 130, 128}}) {
            TernaryMatrix m = ternary(r, s[0], s[1], s[2], false);
            UnpackKernel k = new UnpackKernel(UnpackLayout.pack(s[0], s[1], s[2], m.codes(), TernaryPacking.toF16(m.alpha()), TernaryPacking.toF16(m.mu())));
            TernaryPacking.Chunks ch = TernaryPacking.unpackChunks(s[1], s[2]);
            for (int t : new int[] {1, 2, 3}) {
                float[] x = gaussian(r, t * s[1], 1f), y = new float[t * s[0]];
                float[] gs = TernaryLinear.groupSums(x, t, s[1], s[2]);
                k.apply(x, gs, y, t);
                for (int tok = 0; tok < t; tok++) {
                    for (int row = 0; row < s[0]; row++) {
                        double sum = 0, mag = 0;
                        for (int c = 0; c < ch.start().length; c++) {
                            int lo = ch.start()[c], hi = lo + ch.len()[c], g = ch.group()[c];
                            float amax = 0f;
                            for (int j = lo; j < hi; j++) amax = Math.max(amax, Math.abs(x[tok * s[1] + j]));
                            float inv = amax > 1e-30f ? 255f / amax : 0f;
                            long dot = 0;
                            for (int j = lo; j < hi; j++) dot += m.codes()[row * s[1] + j] * (long) Math.rint(x[tok * s[1] + j] * inv);
                            double a = m.alpha()[row * m.groups() + g] * (double) (amax / 255f) * dot;
                            sum += a;
                            mag += Math.abs(a);
                        }
                        for (int g = 0; g < m.groups(); g++) {
                            double mu = m.mu()[row * m.groups() + g] * (double) gs[tok * m.groups() + g];
                            sum += mu;
                            mag += Math.abs(mu);
                        }
                        assertEquals(sum, y[tok * s[0] + row], 1e-5 * mag + 1e-30, s[0] + "x" + s[1] + "/" + s[2] + " t=" + tok + " row " + row);
                    }
                }
            }
        }
    }

    @Test
    void floatDecodeMatchesDequantizedReference() {
        Random r = new Random(23);
        for (int[] s : new int[][] {{70, 1000, 128}, {33, 2048, 128}, {40, 259, 64}, {9, 103, 7}, {300, 700, 256}, {1, 1, 128},
            {50, 1000, 200}}) {
            TernaryMatrix m = ternary(r, s[0], s[1], s[2], false);
            FloatDecodeKernel k = new FloatDecodeKernel(UnpackLayout.pack(s[0], s[1], s[2], m.codes(), TernaryPacking.toF16(m.alpha()), TernaryPacking.toF16(m.mu())));
            float[] w = m.dequantize(), wa = abs(w);
            for (int t : new int[] {1, 3, 7, 20}) {
                float[] x = gaussian(r, t * s[1], 1f), y = new float[t * s[0]], ref = new float[t * s[0]];
                MatMulRef.multiply(w, s[0], s[1], x, ref, t);
                k.apply(x, null, y, t);
                assertClose("float " + s[0] + "x" + s[1] + "/" + s[2] + " t=" + t, ref, y, scale(wa, s[0], s[1], x, t), 2e-6);
            }
        }
    }
}
