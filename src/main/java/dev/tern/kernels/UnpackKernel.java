package dev.tern.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Portable ternary kernel: 2-bit codes ({@link UnpackLayout}) unpacked in 16-bit lanes and multiplied with int16
 * activations, at whatever vector width the JVM prefers (128-bit SSE/NEON, 256-bit AVX2, 512-bit AVX-512), using
 * only shifts, 16-bit multiplies and adds, which every one of those compiles to single instructions.
 *
 * <p>Per token and chunk (at most 128 columns of one group), activations are rounded to integers in ±255 with scale
 * d = max|x|/255; the int16 sum Σ q·x wraps, but Σ t·x = Σ q·x − Σ x lies in ±32640, so the wrapped difference is
 * exact. It is flushed into f32 as α·d·Σ t·x, then μ·Σx once per group, in group order: the same arithmetic, in the
 * same order, as {@link Lut3Kernel}, so the two give bit-identical results.
 *
 * <p>The codes are shifted as 32-bit lanes (two rows' words at once), because int shifts by a constant compile to
 * one immediate-operand instruction (16-bit shifts take their count from a vector register), and no field is masked
 * out: the activations are recombined so that the bits above each field cancel ({@link #dot}).
 *
 * <p>From {@link #PREFILL_TOKENS} tokens on, the layer runs through {@link UnpackGemm} over the same packed codes,
 * which unpacks each chunk's codes once for many tokens instead of once per token, and gives each token the bits
 * this decode gives it.
 *
 * <p>Decode reads one tile per loop ({@code unpack}) or, up to 256 bits, four tiles at once ({@code unpack4},
 * {@link KernelKind#UNPACK4}): a decode step is compute-dense (about 70 instructions per 64-byte line of codes at 256
 * bits), so out-of-order execution covers only a few lines ahead. On a Sapphire Rapids at AVX2 one sequential stream
 * per core left the loop waiting on cache-line fills (35 against 51 G multiply-adds/s with the codes in L2), and four
 * streams kept more fills in flight (39-42); on a Zen 3 the one stream ran at 48-53 and the four at 37-41. Both give
 * each row the same sums in the same order, so they agree bit for bit, and the probe picks between them.
 *
 * <p>Every output is produced by one thread in a fixed order, so results are bit-reproducible across runs and
 * thread counts.
 */
final class UnpackKernel implements TiledDecode.Kernel {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> SF = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length(), HALF = L / 2;
    private static final int TILE = UnpackLayout.TILE, SUB = TILE / L;
    /** Token count from which the layer runs through {@link UnpackGemm}. */
    static final int PREFILL_TOKENS = 4;
    /**
     * Layers of fewer tiles decode one tile per unit: two four-tile units would leave a core idle (a 256-row layer
     * at AVX2 was one unit on one thread; layers of tiny models have 2-6 tiles).
     */
    static final int MIN_TILES_FOR_QUAD = 8;
    /** Activation coefficients per word of codes: eight columns and the telescoped sum's closing term (see dot). */
    private static final int XW = 9;

    private final int out, in, groups, tiles, words, chunks;
    /** Tiles per decode unit for this layer: 4 (unpack4, layers of at least MIN_TILES_FOR_QUAD tiles) or 1. */
    private final int unit;
    /** Built as unpack4 (its name), even where a small layer decodes one tile per unit. */
    private final boolean streams4Requested;
    /** Per chunk: first column, column count, group, first word. */
    private final int[] chunkStart, chunkLen, chunkGroup, chunkWord;
    private final short[] codes;
    private final float[] alpha, mu;
    private final UnpackGemm prefill;
    private final UnpackLayout layout;

    /** streams: tiles per decode loop, 1 or 4. */
    UnpackKernel(UnpackLayout p, int streams) {
        if (streams != 1 && streams != 4) throw new IllegalArgumentException("streams must be 1 or 4, got " + streams);
        this.out = p.out();
        this.in = p.in();
        this.groups = p.groups();
        this.tiles = p.tiles();
        this.unit = streams == 4 && tiles >= MIN_TILES_FOR_QUAD ? 4 : 1;
        this.streams4Requested = streams == 4;
        this.words = p.words();
        this.chunkStart = p.chunks().start();
        this.chunkLen = p.chunks().len();
        this.chunkGroup = p.chunks().group();
        this.chunkWord = p.chunks().word();
        this.chunks = chunkStart.length;
        this.codes = p.codes();
        this.alpha = p.alpha();
        this.mu = p.mu();
        this.prefill = new UnpackGemm(p);
        this.layout = p;
    }

    @Override
    public TernaryKernel copy() {
        return new UnpackKernel(layout.copy(), streams4Requested ? 4 : 1);
    }

    @Override
    public String name() {
        return (streams4Requested ? "unpack4-" : "unpack-") + S.vectorBitSize();
    }

    @Override
    public long residentBytes() {
        return layout.residentBytes();
    }

    @Override
    public void apply(float[] xp, float[] gs, float[] y, int tokens) {
        if (tokens >= PREFILL_TOKENS) {
            prefill.apply(xp, gs, y, tokens);
            return;
        }
        TiledDecode.run(this, xp, gs, y, tokens);
    }

    /** Decode units: `unit` tiles each, the last one possibly fewer. */
    @Override public int tiles() { return (tiles + unit - 1) / unit; }
    @Override public int rowsPerTile() { return unit * TILE; }
    @Override public int in() { return in; }
    @Override public TiledDecode.Slot newSlot() { return new Scratch(); }
    @Override public Class<? extends TiledDecode.Slot> slotClass() { return Scratch.class; }

    @Override
    public void prepare(float[] xp, int tokens, TiledDecode.Slot slot) {
        Scratch s = (Scratch) slot;
        s.ensure(tokens, words, chunks);
        for (int t = 0; t < tokens; t++) quantize(xp, t, s);
    }

    @Override
    public void runTile(int quad, TiledDecode.Slot slot, int t, float[] gs, float[] y) {
        int a = quad * unit;
        if (unit == 4 && a + 4 <= tiles) {
            quadRows(a, (Scratch) slot, t, gs, y);
        } else {
            for (int tile = a, end = Math.min(a + unit, tiles); tile < end; tile++) tileRows(tile, (Scratch) slot, t, gs, y);
        }
    }

    @Override
    public int[] inputLayout() {
        return chunkLen;
    }

    // ---------------------------------------------------------------- activations

    /**
     * Token t of xp → s.xq[t] (padded, integers in ±255, held as int so that the rounding and the sum vectorise
     * with plain float→int conversions), s.dq[t][chunk] scales and s.sq[t][chunk] Σ xq.
     */
    private void quantize(float[] xp, int t, Scratch s) {
        int xo = t * in, qo = t * 8 * words, co = t * chunks;
        int[] xq = s.xq;
        java.util.Arrays.fill(xq, qo, qo + 8 * words, 0);
        for (int c = 0; c < chunks; c++) {
            int n = chunkLen[c], p = qo + 8 * chunkWord[c], sum = 0;
            float amax = ChunkQuantizer.quantize(xp, xo + chunkStart[c], n, xq, p);
            for (int j = 0; j < n; j++) sum += xq[p + j];
            s.dq[co + c] = amax / 255f;
            s.sq[co + c] = sum;
        }
        // the telescoped coefficients of each word (see dot), padding columns included (their x is 0); the
        // multiplies broadcast from a short[]: C2 then loads and broadcasts in one instruction
        short[] xs = s.xs;
        for (int w = 0, to = t * XW * words; w < words; w++) {
            int q = qo + 8 * w, d = to + XW * w;
            xs[d] = (short) xq[q];
            for (int k = 1; k < 8; k++) xs[d + k] = (short) (xq[q + k] - 4 * xq[q + k - 1]);
            xs[d + 8] = (short) (-4 * xq[q + 7]);
        }
    }

    // ---------------------------------------------------------------- four tiles or one, one token

    /** y rows of tiles a..a+3 for token t: per chunk, vector v of all four tiles at a time, one stream each. */
    private void quadRows(int a, Scratch s, int t, float[] gs, float[] y) {
        float[] f = s.f;
        java.util.Arrays.fill(f, 0, 4 * TILE, 0f);
        short[] acc = s.acc;
        int xo = t * XW * words, co = t * chunks;
        for (int c = 0; c < chunks; c++) {
            int w0 = (a * words + chunkWord[c]) * TILE, nw = (chunkLen[c] + 7) >> 3;
            for (int v = 0; v < 4; v++) dot(w0 + v * L, words * TILE, nw, s.xs, xo + XW * chunkWord[c], acc, v * L, TILE);
            int g = chunkGroup[c];
            boolean lastOfGroup = c + 1 == chunks || chunkGroup[c + 1] != g;
            for (int i = 0; i < 4; i++) {
                int po = ((a + i) * groups + g) * TILE;
                flush(acc, i * TILE, po, s.dq[co + c], s.sq[co + c], f, i * TILE);
                if (mu != null && lastOfGroup) addMu(mu, po, gs[t * groups + g], f, i * TILE);
            }
        }
        int r0 = a * TILE;
        System.arraycopy(f, 0, y, t * out + r0, Math.min(4 * TILE, out - r0));
    }

    /** y rows of one tile for token t, whose activations are in this thread's s. */
    private void tileRows(int tile, Scratch s, int t, float[] gs, float[] y) {
        float[] f = s.f;
        java.util.Arrays.fill(f, 0, TILE, 0f);
        short[] acc = s.acc;
        int xo = t * XW * words, co = t * chunks;
        for (int c = 0; c < chunks; c++) {
            dot((tile * words + chunkWord[c]) * TILE, L, (chunkLen[c] + 7) >> 3, s.xs, xo + XW * chunkWord[c], acc, 0, L);
            int g = chunkGroup[c];
            flush(acc, 0, (tile * groups + g) * TILE, s.dq[co + c], s.sq[co + c], f, 0);
            if (mu != null && (c + 1 == chunks || chunkGroup[c + 1] != g)) {
                addMu(mu, (tile * groups + g) * TILE, gs[t * groups + g], f, 0);
            }
        }
        int r0 = tile * TILE;
        System.arraycopy(f, 0, y, t * out + r0, Math.min(TILE, out - r0));
    }

    /**
     * Σ q·xq (int16, wrapping) over nw words of four code vectors, the i-th starting at w0 + i·stride (one word every
     * TILE shorts), into acc[ao + i·aStride ..]. Each activation broadcast serves four multiplies (4 codes, 4
     * accumulators and a broadcast fit in the 16 vector registers of AVX2 and SSE). One tile's four vectors
     * (stride L) or vector v of four tiles (stride a tile) give each row the same sums in the same order.
     *
     * <p>No field is masked out. With S_k the 16-bit half of (word >>> 2k) (an int shift of the 32-bit lane, so the
     * low half takes bits of the high half in at its top), q_k ≡ S_k − 4·S_{k+1} (mod 2^16) for k = 0..7, because
     * the bits above field k cancel and what the high half pushes in is a multiple of 2^16 after the factor 4. So
     * Σ_k q_k·x_k ≡ Σ_{k=0..8} S_k·x'_k with x'_0 = x_0, x'_k = x_k − 4·x_{k−1} and x'_8 = −4·x_7, and the sums here
     * are taken mod 2^16 anyway (see the class comment for why the wrapped result is exact): eight shifts and nine
     * multiplies and adds per word and vector, where masking took eight ANDs more and one multiply less (26 against
     * 31 instructions). A Zen 3 issues two 16-bit multiplies, two shifts and four adds per cycle, so the loop is
     * bound by its total of vector instructions on four pipes, not by the multiplies; a layer in L2 ran at 37.9
     * against 37.4 G multiply-adds/s on one core at 256 bits and 19.8 against 19.0 at 128.
     */
    private void dot(int w0, int stride, int nw, short[] xq, int xo, short[] acc, int ao, int aStride) {
        short[] cd = codes;
        ShortVector a0 = ShortVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int w = 0; w < nw; w++) {
            int o = w0 + w * TILE, j = xo + XW * w;
            IntVector p = ShortVector.fromArray(S, cd, o).reinterpretAsInts();
            IntVector q = ShortVector.fromArray(S, cd, o + stride).reinterpretAsInts();
            IntVector r = ShortVector.fromArray(S, cd, o + 2 * stride).reinterpretAsInts();
            IntVector s = ShortVector.fromArray(S, cd, o + 3 * stride).reinterpretAsInts();
            ShortVector x = ShortVector.broadcast(S, xq[j]);
            a0 = a0.add(p.reinterpretAsShorts().mul(x));
            a1 = a1.add(q.reinterpretAsShorts().mul(x));
            a2 = a2.add(r.reinterpretAsShorts().mul(x));
            a3 = a3.add(s.reinterpretAsShorts().mul(x));
            // a constant trip count and a constant shift: C2 unrolls part of it and keeps everything in registers
            // (a shift by the loop's 2k from the loaded word took its count from a register and kept two
            // accumulators on the stack; written out in full, it sometimes left one shift as a call into the Java
            // fallback)
            for (int k = 1; k < XW; k++) {
                x = ShortVector.broadcast(S, xq[j + k]);
                p = p.lanewise(VectorOperators.LSHR, 2);
                q = q.lanewise(VectorOperators.LSHR, 2);
                r = r.lanewise(VectorOperators.LSHR, 2);
                s = s.lanewise(VectorOperators.LSHR, 2);
                a0 = a0.add(p.reinterpretAsShorts().mul(x));
                a1 = a1.add(q.reinterpretAsShorts().mul(x));
                a2 = a2.add(r.reinterpretAsShorts().mul(x));
                a3 = a3.add(s.reinterpretAsShorts().mul(x));
            }
        }
        a0.intoArray(acc, ao);
        a1.intoArray(acc, ao + aStride);
        a2.intoArray(acc, ao + 2 * aStride);
        a3.intoArray(acc, ao + 3 * aStride);
    }

    // ---------------------------------------------------------------- flush into f32

    /** f[fo..fo+TILE) += α·d·(acc − sq) for one tile and chunk, α at alpha[po..] (split halves, {@link UnpackLayout}). */
    private void flush(short[] acc, int ao, int po, float d, int sq, float[] f, int fo) {
        short sub = (short) sq;
        for (int sv = 0; sv < SUB; sv++) flushVector(acc, ao + sv * L, sub, alpha, po + sv * L, d, f, fo + sv * L);
    }

    /**
     * f[fo..fo+L) += α·d·(acc − sub) for one row vector's int16 sums at acc[ao..], α at alpha[po..]; the int16
     * difference is exact (see the class comment). Seen as int lanes, the low halves of a vector are its first L/2
     * rows and the high halves the rest ({@link TernaryPacking#unpackLane}), so widening is two shifts. Shared with
     * {@link UnpackGemm}, whose prefill is thereby bit for bit this decode.
     */
    static void flushVector(short[] acc, int ao, short sub, float[] alpha, int po, float d, float[] f, int fo) {
        IntVector a = ShortVector.fromArray(S, acc, ao).sub(sub).reinterpretAsInts();
        FloatVector lo = (FloatVector) a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
        FloatVector hi = (FloatVector) a.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
        lo.fma(FloatVector.fromArray(SF, alpha, po).mul(d), FloatVector.fromArray(SF, f, fo)).intoArray(f, fo);
        hi.fma(FloatVector.fromArray(SF, alpha, po + HALF).mul(d), FloatVector.fromArray(SF, f, fo + HALF)).intoArray(f, fo + HALF);
    }

    /** f[fo..fo+TILE) += μ·gsum for one tile and group, μ at mu[po..]. */
    static void addMu(float[] mu, int po, float gsum, float[] f, int fo) {
        FloatVector g = FloatVector.broadcast(SF, gsum);
        for (int sv = 0; sv < SUB; sv++) {
            int f0 = fo + sv * L, f1 = f0 + HALF;
            FloatVector.fromArray(SF, mu, po + sv * L).fma(g, FloatVector.fromArray(SF, f, f0)).intoArray(f, f0);
            FloatVector.fromArray(SF, mu, po + sv * L + HALF).fma(g, FloatVector.fromArray(SF, f, f1)).intoArray(f, f1);
        }
    }

    /** Per-thread buffers (quantized activations, scales, accumulators), grown on demand. */
    private static final class Scratch extends TiledDecode.Slot {
        int[] xq = new int[0];
        short[] xs = new short[0], acc = new short[4 * TILE];
        float[] dq = new float[0], f = new float[4 * TILE];
        int[] sq = new int[0];

        void ensure(int tokens, int words, int chunks) {
            if (xq.length < tokens * 8 * words) {
                xq = new int[tokens * 8 * words];
                xs = new short[tokens * XW * words];
            }
            if (dq.length < tokens * chunks) {
                dq = new float[tokens * chunks];
                sq = new int[tokens * chunks];
            }
        }
    }
}
