package dev.tern.kernels;

import static dev.tern.kernels.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("kernels")
class DenseKernelsTest {
    static final int[][] SHAPES = { // out, in
        {1, 1}, {1, 37}, {5, 1}, {33, 17}, {32, 64}, {64, 130}, {97, 255}, {31, 129}, {200, 300}, {70, 1000}
    };
    static final int[] TOKENS = {1, 2, 3, 7, 64};

    @Test
    void refIsTripleLoop() {
        float[] w = {1, 2, 3, 4, 5, 6}; // 2 x 3
        float[] x = {1, 0, -1, 2, 2, 2};
        float[] y = new float[4];
        MatMulRef.multiply(w, 2, 3, x, y, 2);
        assertArrayEquals(new float[] {-2, -2, 12, 30}, y);
    }

    @Test
    void f32MatchesReference() {
        Random r = new Random(11);
        for (int[] s : SHAPES) {
            int out = s[0], in = s[1];
            float[] w = gaussian(r, out * in, 0.1f);
            DenseF32Linear op = new DenseF32Linear(w, out, in);
            assertEquals(4L * out * in, op.weightBytes() - 4L * (op.weightBytes() / 4 - (long) out * in));
            for (int t : TOKENS) {
                float[] x = gaussian(r, t * in, 1f), ref = new float[t * out], y = new float[t * out];
                MatMulRef.multiply(w, out, in, x, ref, t);
                op.apply(x, y, t);
                assertClose("f32 " + out + "x" + in + " t=" + t, ref, y, scale(abs(w), out, in, x, t), 1e-5);
            }
        }
    }

    @Test
    void bf16MatchesReferenceOnRoundedWeights() {
        Random r = new Random(12);
        for (int[] s : SHAPES) {
            int out = s[0], in = s[1];
            short[] wb = Bf16Linear.toBf16(gaussian(r, out * in, 0.1f));
            float[] w = new float[wb.length];
            for (int i = 0; i < w.length; i++) w[i] = Bf16Linear.fromBf16(wb[i]);
            Bf16Linear op = new Bf16Linear(wb, out, in);
            for (int t : TOKENS) {
                float[] x = gaussian(r, t * in, 1f), ref = new float[t * out], y = new float[t * out];
                MatMulRef.multiply(w, out, in, x, ref, t);
                op.apply(x, y, t);
                assertClose("bf16 " + out + "x" + in + " t=" + t, ref, y, scale(abs(w), out, in, x, t), 1e-5);
            }
        }
    }

    /** One-token calls group panels by chunk, and chunks follow the thread count: grouping must not change any bit. */
    @Test
    void groupedPanelsGiveTheBitsOfSinglePanels() {
        Random r = new Random(15);
        int nr = PanelLinear.NR;
        for (int[] s : new int[][] {{200, 301}, {64 * 5 + 3, 130}, {97, 1}, {nr * 6, 17}}) {
            int out = s[0], in = s[1];
            float[] w = gaussian(r, out * in, 0.1f), x = gaussian(r, in, 1f);
            for (PanelLinear op : new PanelLinear[] {new DenseF32Linear(w, out, in), new Bf16Linear(Bf16Linear.toBf16(w), out, in)}) {
                int panels = op.panels;
                float[] single = new float[panels * nr], grouped = new float[panels * nr];
                java.util.Arrays.fill(grouped, Float.NaN);
                for (int p = 0; p < panels; p++) op.gemvPanel(x, 0, p, single, p * nr);
                boolean[] done = new boolean[panels];
                if (panels >= 4) {
                    // far-apart partners, as in a chunk's two halves, the second pair ending on the ragged last panel
                    op.gemvFour(x, 0, panels - 2, grouped);
                    done[0] = done[1] = done[panels - 2] = done[panels - 1] = true;
                    for (int p = 2; p + 3 < panels - 2; p += 4) {
                        op.gemvFour(x, p, p + 2, grouped);
                        done[p] = done[p + 1] = done[p + 2] = done[p + 3] = true;
                    }
                }
                for (int p = 0; p < panels; p++) if (!done[p]) op.gemvPanel(x, 0, p, grouped, p * nr);
                assertArrayEquals(java.util.Arrays.copyOf(single, out), java.util.Arrays.copyOf(grouped, out), op.format() + " " + out + "x" + in);
            }
        }
    }

    @Test
    void bf16Rounding() {
        assertEquals(1f, Bf16Linear.fromBf16(Bf16Linear.toBf16(1f)));
        assertEquals(Float.intBitsToFloat(0x3f810000), Bf16Linear.fromBf16(Bf16Linear.toBf16(Float.intBitsToFloat(0x3f80c000))));
        assertEquals(Float.intBitsToFloat(0x3f800000), Bf16Linear.fromBf16(Bf16Linear.toBf16(Float.intBitsToFloat(0x3f808000))));
        assertTrue(Float.isNaN(Bf16Linear.fromBf16(Bf16Linear.toBf16(Float.NaN))));
    }

    @Test
    void deterministic() {
        Random r = new Random(13);
        int out = 300, in = 700;
        float[] w = gaussian(r, out * in, 0.1f);
        LinearOp[] ops = {new DenseF32Linear(w, out, in), new Bf16Linear(Bf16Linear.toBf16(w), out, in)};
        for (LinearOp op : ops) {
            for (int t : new int[] {1, 64}) {
                float[] x = gaussian(r, t * in, 1f), a = new float[t * out], b = new float[t * out];
                op.apply(x, a, t);
                op.apply(x, b, t);
                assertArrayEquals(a, b, op.format());
            }
        }
    }

    @Test
    void openBlasAgreesWhenPresent() {
        if (!OpenBlas.isAvailable()) return; // optional dependency: benchmarks report "not available"
        Random r = new Random(14);
        int out = 70, in = 50, t = 9;
        float[] w = gaussian(r, out * in, 0.1f), x = gaussian(r, t * in, 1f), ref = new float[t * out];
        MatMulRef.multiply(w, out, in, x, ref, t);
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var f = java.lang.foreign.ValueLayout.JAVA_FLOAT;
            var ny = arena.allocate(f, (long) t * out);
            OpenBlas.linear(arena.allocateFrom(f, x), arena.allocateFrom(f, w), ny, t, in, out);
            assertClose("openblas", ref, ny.toArray(f), scale(abs(w), out, in, x, t), 1e-5);
        }
    }
}
