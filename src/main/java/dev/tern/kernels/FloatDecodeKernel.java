package dev.tern.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Ternary layer run through the f32 panel GEMM and GEMV of {@link PanelLinear}: slices of the packed 2-bit codes
 * ({@link TernaryPacking#packUnpack}, the same layout as {@link UnpackKernel}) are decoded to the exact f32 weights
 * α·t + μ, and the activations stay f32. It is the exact-activation path ({@code --exact-activations}) and the
 * safety net where no integer kernel compiles well: its inner loops are those of the float layers, so it is never
 * far from them, and it reads 2.25 bits per weight instead of 16 or 32.
 *
 * <p>A panel of NR = 2·(float lanes) rows is exactly one 16-bit code vector of a tile, so one code load feeds a
 * whole panel row; decoding costs a shift, a mask, two conversions and two FMAs per 16-bit vector and column.
 */
final class FloatDecodeKernel extends PanelLinear implements TernaryKernel {
    private static final VectorSpecies<Short> SS = ShortVector.SPECIES_PREFERRED;
    private static final int TILE = UnpackLayout.TILE, SUB = TILE / NR;

    private final int groups, words;
    private final int[] chunkStart, chunkLen, chunkWord, chunkGroup;
    /** Chunk of every stored column (for slices that cross chunk boundaries). */
    private final int[] colChunk;
    private final short[] codes;
    private final float[] alpha, mu;
    private final UnpackLayout layout;
    private final int[] perm;

    /** perm: the layer's column permutation (input column k of the stored codes is x[perm[k]]), or null. */
    FloatDecodeKernel(UnpackLayout p, int[] perm) {
        super(p.out(), p.in(), perm);
        if (SS.length() != NR) throw new IllegalStateException("short and float species differ in width");
        this.groups = p.groups();
        this.chunkStart = p.chunks().start();
        this.chunkLen = p.chunks().len();
        this.chunkWord = p.chunks().word();
        this.chunkGroup = p.chunks().group();
        this.words = p.words();
        this.colChunk = new int[in];
        for (int k = 0; k < chunkStart.length; k++) {
            java.util.Arrays.fill(colChunk, chunkStart[k], chunkStart[k] + p.chunks().len()[k], k);
        }
        this.codes = p.codes();
        this.alpha = p.alpha();
        this.mu = p.mu();
        this.layout = p;
        this.perm = perm;
    }

    @Override
    public TernaryKernel copy() {
        return new FloatDecodeKernel(layout.copy(), perm);
    }

    @Override
    public String name() {
        return "float-" + S.vectorBitSize();
    }

    @Override
    public String format() {
        return "ternary-" + name();
    }

    @Override
    public long residentBytes() {
        return 2L * codes.length + 4L * alpha.length + (mu == null ? 0 : 4L * mu.length);
    }

    @Override
    public long weightBytes() {
        return residentBytes();
    }

    @Override
    public boolean usesGroupSums(int tokens) {
        return false;
    }

    @Override
    public boolean takesOriginalOrder(int tokens) {
        return true;
    }

    @Override
    public void apply(float[] xp, float[] gs, float[] y, int tokens) {
        apply(xp, y, tokens); // μ is folded into the decoded weights, so the group sums are not needed
    }

    /**
     * One token: per chunk, Σ q·x of the panel's rows by FMAs straight from the codes (q = t + 1 as floats), then
     * α·(Σ q·x − Σ x) and μ·Σ x per group. Activations stay f32; this is not bit-identical to multiplying by the
     * decoded weights (the GEMM's prefill path), only as exact.
     */
    @Override
    void gemvPanel(float[] x, int xo, int p, float[] y, int yo) {
        int tile = p / SUB, lane0 = (p % SUB) * NR;
        FloatVector y0 = FloatVector.zero(S), y1 = y0;
        float gsum = 0f;
        for (int c = 0; c < chunkStart.length; c++) {
            int g = chunkGroup[c], len = chunkLen[c], cb = (tile * words + chunkWord[c]) * TILE + lane0;
            // two chains per half: one FMA chain per accumulator left the loop waiting on FMA latency
            FloatVector s0 = FloatVector.zero(S), s1 = s0, r0 = s0, r1 = s0;
            float sx = 0f;
            for (int j = 0; j < len; j += 8) {
                IntVector w = ShortVector.fromArray(SS, codes, cb + (j >> 3) * TILE).reinterpretAsInts();
                int n = Math.min(8, len - j), f = 0;
                for (; f + 2 <= n; f += 2) {
                    float xa = xk(x, xo, chunkStart[c] + j + f), xb = xk(x, xo, chunkStart[c] + j + f + 1);
                    sx += xa + xb;
                    IntVector v = w.lanewise(VectorOperators.LSHR, 2 * f).and(0x00030003);
                    IntVector u = w.lanewise(VectorOperators.LSHR, 2 * f + 2).and(0x00030003);
                    FloatVector a = FloatVector.broadcast(S, xa), b = FloatVector.broadcast(S, xb);
                    s0 = ((FloatVector) v.and(0xffff).convert(VectorOperators.I2F, 0)).fma(a, s0);
                    s1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).convert(VectorOperators.I2F, 0)).fma(a, s1);
                    r0 = ((FloatVector) u.and(0xffff).convert(VectorOperators.I2F, 0)).fma(b, r0);
                    r1 = ((FloatVector) u.lanewise(VectorOperators.LSHR, 16).convert(VectorOperators.I2F, 0)).fma(b, r1);
                }
                if (f < n) {
                    float xa = xk(x, xo, chunkStart[c] + j + f);
                    sx += xa;
                    IntVector v = w.lanewise(VectorOperators.LSHR, 2 * f).and(0x00030003);
                    FloatVector a = FloatVector.broadcast(S, xa);
                    s0 = ((FloatVector) v.and(0xffff).convert(VectorOperators.I2F, 0)).fma(a, s0);
                    s1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).convert(VectorOperators.I2F, 0)).fma(a, s1);
                }
            }
            s0 = s0.add(r0);
            s1 = s1.add(r1);
            int po = (tile * groups + g) * TILE + lane0;
            FloatVector sxv = FloatVector.broadcast(S, sx);
            y0 = FloatVector.fromArray(S, alpha, po).fma(s0.sub(sxv), y0);
            y1 = FloatVector.fromArray(S, alpha, po + V).fma(s1.sub(sxv), y1);
            gsum += sx;
            if (c + 1 == chunkStart.length || chunkGroup[c + 1] != g) {
                if (mu != null) {
                    FloatVector gv = FloatVector.broadcast(S, gsum);
                    y0 = FloatVector.fromArray(S, mu, po).fma(gv, y0);
                    y1 = FloatVector.fromArray(S, mu, po + V).fma(gv, y1);
                }
                gsum = 0f;
            }
        }
        store(y0, y1, y, yo);
    }

    /** The input of stored column k: x[xo + perm[k]], or x[xo + k] without a permutation. */
    private float xk(float[] x, int xo, int k) {
        return x[xo + (gather == null ? k : gather[k])];
    }

    @Override
    boolean decodes() {
        return true;
    }

    /**
     * dst[k·NR + i] = α·t + μ of panel p's row i and stored column k0 + k, for k < kLen. The panel is sub-vector
     * p % SUB of tile p / SUB; seen as int lanes, its low halves are rows 0..V−1 and its high halves rows V..NR−1
     * ({@link TernaryPacking#unpackLane}). t = q − 1 is converted to float and fma(t, α, μ) rounds once, exactly as
     * the record's own dequantization does.
     */
    @Override
    void decode(int p, int k0, int kLen, float[] dst) {
        int tile = p / SUB, lane0 = (p % SUB) * NR, end = k0 + kLen;
        int k = k0;
        while (k < end) {
            int c = colChunk[k], g = chunkGroup[c];
            int cEnd = Math.min(end, c + 1 < chunkStart.length ? chunkStart[c + 1] : in);
            int po = (tile * groups + g) * TILE + lane0;
            FloatVector a0 = FloatVector.fromArray(S, alpha, po), a1 = FloatVector.fromArray(S, alpha, po + V), m0 = FloatVector.zero(S), m1 = m0;
            if (mu != null) {
                m0 = FloatVector.fromArray(S, mu, po);
                m1 = FloatVector.fromArray(S, mu, po + V);
            }
            while (k < cEnd) {
                int j = k - chunkStart[c], d = (k - k0) * NR;
                IntVector w = ShortVector.fromArray(SS, codes, (tile * words + chunkWord[c] + (j >> 3)) * TILE + lane0).reinterpretAsInts();
                if ((j & 7) == 0 && k + 8 <= cEnd) {
                    // a whole word: one code load for its 8 columns, shifted by a constant 2 per column (a shift by
                    // 2f took its count from a register)
                    for (int f = 0; f < 8; f++, d += NR) {
                        decodeField(w.and(0x00030003), a0, a1, m0, m1, dst, d);
                        w = w.lanewise(VectorOperators.LSHR, 2);
                    }
                    k += 8;
                } else {
                    decodeField(w.lanewise(VectorOperators.LSHR, 2 * (j & 7)).and(0x00030003), a0, a1, m0, m1, dst, d);
                    k++;
                }
            }
        }
    }

    /** dst[d..d+NR) = α·t + μ of one column, v holding q of its low-half and high-half rows. */
    private static void decodeField(IntVector v, FloatVector a0, FloatVector a1, FloatVector m0, FloatVector m1, float[] dst, int d) {
        // q of the low and of the high 16-bit halves, each minus 1 (t), as exact ints
        FloatVector t0 = (FloatVector) v.and(0xffff).sub(1).convert(VectorOperators.I2F, 0);
        FloatVector t1 = (FloatVector) v.lanewise(VectorOperators.LSHR, 16).sub(1).convert(VectorOperators.I2F, 0);
        t0.fma(a0, m0).intoArray(dst, d);
        t1.fma(a1, m1).intoArray(dst, d + V);
    }
}
