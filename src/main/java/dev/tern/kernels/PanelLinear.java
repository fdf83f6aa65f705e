package dev.tern.kernels;

import dev.tern.util.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shared driver for dense layers whose weights are re-packed into column panels of NR = 2 vectors of output rows.
 *
 * <p>W is stored k-major inside each panel (panel p, input k, lane i holds W[p*NR+i][k]) so that both GEMV and GEMM
 * read weights strictly sequentially and never need a horizontal reduction: a broadcast x value times a weight
 * vector accumulates directly into NR outputs. GEMM packs x into MR-token tiles (k-major) and runs an MR x NR
 * register-blocked microkernel over KC-long slices of the input so the weight micro-panel stays in L1 while it is
 * reused across all token tiles of a block. Partial sums over KC slices go through y in a fixed order, so results
 * are deterministic regardless of thread scheduling (each y element belongs to exactly one work item).
 */
abstract sealed class PanelLinear implements LinearOp permits DenseF32Linear, Bf16Linear, FloatDecodeKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    static final int NR = 2 * V;
    /**
     * Tokens per register tile: 6 × 2 vectors (12 accumulators) where vectors are 512-bit (32 registers); 4 × 2 where
     * there are 16 (AVX2, SSE): with 12 accumulators C2 spilled two of them, and each k then waited on a store and
     * reload (f32 prefill ran at about half the FMA rate on a Zen 3).
     */
    static final int MR = S.vectorBitSize() >= 512 ? 6 : 4;
    /** KC * NR * 4 bytes = one weight micro-panel; 128 keeps it at half of a 32 KiB L1 for 512-bit vectors. */
    static final int KC = Math.max(64, 4096 / NR);
    /**
     * Max token tiles per work block: 64 (256 tokens at MR = 4), so that a 128-token prefill reads every weight once
     * (with 16, twice: 4.4 GB more memory traffic per TinyLlama prefill in f32); the packed x block (TB·MR·KC
     * floats, 256 KiB) still fits in L2.
     */
    static final int TB_MAX = 64;
    /** Panels per work block. */
    static final int PB = 4;

    final int out, in, panels;
    /** Input column k of the weights is x[gather[k]] (null: x in order); the GEMM gathers while it packs x. */
    final int[] gather;
    private float[] xpScratch = new float[0];
    /**
     * Layers that decode their weights (the ternary prefill paths) and whose f32 weights take at most this many
     * bytes keep them decoded after the first GEMM: such a layer is too small for its 2-bit form to save memory
     * traffic, and decoding each slice for each block of tokens cost its prefill 4-10 % against the f32 GEMM
     * (tinystories-656k's 128 × 384 layers at 512 tokens). Same floats, same GEMM: the same bits.
     */
    static final long DECODED_RESIDENT_BYTES = 256 << 10;
    /** All panels decoded, k-major as {@link DenseF32Linear} stores them, or null. */
    private volatile float[] decoded;
    private volatile boolean keepDecoded = true;

    PanelLinear(int out, int in) {
        this(out, in, null);
    }

    PanelLinear(int out, int in, int[] gather) {
        if (out <= 0 || in <= 0) throw new IllegalArgumentException("bad shape " + out + "x" + in);
        this.out = out;
        this.in = in;
        this.panels = (out + NR - 1) / NR;
        this.gather = gather;
    }

    @Override public final int inFeatures() { return in; }
    @Override public final int outFeatures() { return out; }

    /**
     * Panels a, a + 1, b and b + 1 at once (four weight streams in flight), all NR rows of each (y has room for
     * them; the ragged last panel goes through {@link #gemvRagged}). By default one after the other. Implementations give each panel the bits
     * {@link #gemvPanel} gives it, so results do not depend on how panels were grouped (which follows the thread
     * count's chunking).
     */
    void gemvFour(float[] x, int a, int b, float[] y) {
        gemvPanel(x, 0, a, y, a * NR);
        gemvPanel(x, 0, a + 1, y, (a + 1) * NR);
        gemvPanel(x, 0, b, y, b * NR);
        gemvPanel(x, 0, b + 1, y, (b + 1) * NR);
    }

    /** y[yo .. yo+NR) = panel p times x[xo .. xo+in); the ragged last panel's caller passes room for NR rows. */
    abstract void gemvPanel(float[] x, int xo, int p, float[] y, int yo);

    /**
     * The f32 weights of panel p, inputs [k0, k0+kLen), k-major with NR per k: either a view into the stored panel
     * (returns the backing array, offset via {@link #sliceOffset}) or decoded into scratch (offset 0). Decoding a
     * slice once per block and reusing it across TB token tiles keeps the conversion off the FMA critical path.
     */
    float[] slice(int p, int k0, int kLen, float[] scratch) {
        float[] d = decoded;
        if (d != null) return d;
        decode(p, k0, kLen, scratch);
        return scratch;
    }

    /** Where {@link #slice} returned its own array instead of scratch: the offset of panel p, input k0, in it. */
    int sliceOffset(int p, int k0) {
        return (p * in + k0) * NR;
    }

    /** Whether this layer decodes its weights ({@link #decode}) rather than storing f32 or bf16 panels. */
    boolean decodes() {
        return false;
    }

    /** See {@link TernaryKernel#keepDecodedWeights}. */
    public void keepDecodedWeights(boolean keep) {
        keepDecoded = keep;
        if (!keep) decoded = null;
    }

    /** Whether this layer holds all its weights decoded (tests). */
    boolean holdsDecoded() {
        return decoded != null;
    }

    private void keepDecodedIfSmall() {
        if (decoded != null || !keepDecoded || !decodes() || 4L * panels * in * NR > DECODED_RESIDENT_BYTES) return;
        float[] d = new float[panels * in * NR], panel = new float[in * NR];
        for (int p = 0; p < panels; p++) {
            decode(p, 0, in, panel);
            System.arraycopy(panel, 0, d, p * in * NR, in * NR);
        }
        decoded = d;
    }

    /**
     * For layers that hold packed codes instead of f32 panels (the ternary prefill paths): the f32 weights of panel
     * p, inputs [k0, k0+kLen), into dst k-major with NR per k; {@link #slice} then serves them from scratch.
     */
    void decode(int p, int k0, int kLen, float[] dst) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " stores its panels");
    }

    @Override
    public final void apply(float[] x, float[] y, int tokens) {
        if (x.length < (long) tokens * in || y.length < (long) tokens * out) throw new IllegalArgumentException("x/y too short");
        if (tokens == 1) {
            boolean ragged = valid(panels - 1) < NR;
            Parallel.forRange(panels, 4, (p0, p1) -> {
                int q1 = ragged && p1 == panels ? p1 - 1 : p1;
                // two adjacent panels from each half of the chunk: four weight streams in flight, each sequential
                int half = (q1 - p0) / 2, i = 0;
                for (; i + 2 <= half; i += 2) {
                    int a = p0 + i, b = p0 + half + i;
                    gemvFour(x, a, b, y);
                }
                for (int p = p0 + i; p < p0 + half; p++) gemvPanel(x, 0, p, y, p * NR);
                for (int p = p0 + half + i; p < q1; p++) gemvPanel(x, 0, p, y, p * NR);
                if (q1 < p1) gemvRagged(x, q1, y);
            });
            return;
        }
        gemm(x, y, tokens);
    }

    /**
     * The ragged last panel, computed in full into a scratch row and copied: no GEMV method holds a masked store.
     * They did, behind a branch on the valid row count, and in about one cold run in three C2 compiled that branch
     * into the loop (when the shared store method's profile had not yet shown it cold); the masked stores'
     * intrinsics failed there (`-XX:+PrintIntrinsics`: eight "missing constant: vclass=DecodeN ... vlen=LoadI" in
     * `gemvFour`'s compile), and the accumulators feeding them stayed boxed for the whole loop: the float GEMV ran
     * 3-8× slower for the rest of the process.
     */
    private void gemvRagged(float[] x, int p, float[] y) {
        float[] t = new float[NR];
        gemvPanel(x, 0, p, t, 0);
        System.arraycopy(t, 0, y, p * NR, valid(p));
    }

    /** Rows of panel p that exist (NR but for the ragged last panel). */
    private int valid(int p) {
        return Math.min(NR, out - p * NR);
    }

    private void gemm(float[] x, float[] y, int tokens) {
        keepDecodedIfSmall();
        int tiles = (tokens + MR - 1) / MR;
        int need = tiles * in * MR;
        if (xpScratch.length < need) xpScratch = new float[need];
        float[] xp = xpScratch;
        int[] g = gather;
        Parallel.forRange(tiles, 4, (t0, t1) -> {
            for (int tile = t0; tile < t1; tile++) {
                int base = tile * in * MR;
                if (g != null && (tile + 1) * MR <= tokens) {
                    // k outer: one index load per MR values, written side by side (token by token, the gather
                    // made the permuted 128 x 384 layers' prefill 30 % slower than their f32 twins)
                    int x0 = tile * MR * in;
                    for (int k = 0; k < in; k++) {
                        int src = x0 + g[k], dst = base + k * MR;
                        for (int i = 0; i < MR; i++) xp[dst + i] = x[src + i * in];
                    }
                    continue;
                }
                for (int i = 0; i < MR; i++) {
                    int tok = tile * MR + i;
                    if (tok < tokens) {
                        int xo = tok * in;
                        if (g == null) {
                            for (int k = 0; k < in; k++) xp[base + k * MR + i] = x[xo + k];
                        } else {
                            for (int k = 0; k < in; k++) xp[base + k * MR + i] = x[xo + g[k]];
                        }
                    } else {
                        for (int k = 0; k < in; k++) xp[base + k * MR + i] = 0f;
                    }
                }
            }
        });
        // balanced token blocks: a ragged 6-tile block would reuse each weight micro-panel too few times
        int tBlocks = (tiles + TB_MAX - 1) / TB_MAX, TB = (tiles + tBlocks - 1) / tBlocks;
        int pBlocks = (panels + PB - 1) / PB;
        Parallel.forRange(pBlocks * tBlocks, 1, (a, b) -> {
            for (int item = a; item < b; item++) {
                int pb = item / tBlocks, tb = item % tBlocks;
                int p0 = pb * PB, p1 = Math.min(panels, p0 + PB);
                int q0 = tb * TB, q1 = Math.min(tiles, q0 + TB);
                float[] scratch = new float[KC * NR];
                float[] edge = null;
                for (int k0 = 0; k0 < in; k0 += KC) {
                    int kLen = Math.min(KC, in - k0);
                    for (int p = p0; p < p1; p++) {
                        int nValid = Math.min(NR, out - p * NR);
                        float[] wp = slice(p, k0, kLen, scratch);
                        int wo = wp == scratch ? 0 : sliceOffset(p, k0);
                        for (int tile = q0; tile < q1; tile++) {
                            int mValid = Math.min(MR, tokens - tile * MR), yo = tile * MR * out + p * NR;
                            if (nValid == NR) {
                                micro(wp, wo, xp, (tile * in + k0) * MR, kLen, y, yo, mValid, k0 == 0, out);
                            } else {
                                // The ragged last panel goes through a full-width tile: no masks in the micro-kernel.
                                if (edge == null) edge = new float[MR * NR];
                                micro(wp, wo, xp, (tile * in + k0) * MR, kLen, edge, 0, mValid, true, NR);
                                for (int i = 0; i < mValid; i++) {
                                    int yr = yo + i * out;
                                    for (int j = 0; j < nValid; j++) y[yr + j] = k0 == 0 ? edge[i * NR + j] : y[yr + j] + edge[i * NR + j];
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * MR x NR register tile over kLen inputs (y at yo, row stride out; added to unless first), all NR columns valid.
     * Keeping masks out of it matters: with the masked stores of a ragged panel inlined too, C2 hit its inlining
     * node limit, left the last rows' stores as calls and boxed their accumulators, and f32 prefill at 512 bits ran
     * 8x slower whenever a ragged layer (the kernel probe's) had been seen first.
     */
    static void micro(float[] wp, int wo, float[] xp, int xo, int kLen, float[] y, int yo, int mValid, boolean first, int out) {
        if (MR == 6) {
            micro6(wp, wo, xp, xo, kLen, y, yo, mValid, first, out);
        } else {
            micro4(wp, wo, xp, xo, kLen, y, yo, mValid, first, out);
        }
    }

    /** 4 x 2 vectors: 8 FMA accumulators, 2 weight loads + 4 broadcasts per k. */
    static void micro4(float[] wp, int wo, float[] xp, int xo, int kLen, float[] y, int yo, int mValid, boolean first, int out) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        for (int k = 0; k < kLen; k++) {
            FloatVector w0 = FloatVector.fromArray(S, wp, wo + k * NR);
            FloatVector w1 = FloatVector.fromArray(S, wp, wo + k * NR + V);
            int xi = xo + k * 4;
            FloatVector b = FloatVector.broadcast(S, xp[xi]);
            c00 = w0.fma(b, c00);
            c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(S, xp[xi + 1]);
            c10 = w0.fma(b, c10);
            c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(S, xp[xi + 2]);
            c20 = w0.fma(b, c20);
            c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(S, xp[xi + 3]);
            c30 = w0.fma(b, c30);
            c31 = w1.fma(b, c31);
        }
        put(c00, c01, y, yo, first);
        if (mValid > 1) put(c10, c11, y, yo + out, first);
        if (mValid > 2) put(c20, c21, y, yo + 2 * out, first);
        if (mValid > 3) put(c30, c31, y, yo + 3 * out, first);
    }

    /** 6 x 2 vectors: 12 FMA accumulators, 2 weight loads + 6 broadcasts per k. */
    static void micro6(float[] wp, int wo, float[] xp, int xo, int kLen, float[] y, int yo, int mValid, boolean first, int out) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z,
                c51 = z;
        for (int k = 0; k < kLen; k++) {
            FloatVector w0 = FloatVector.fromArray(S, wp, wo + k * NR);
            FloatVector w1 = FloatVector.fromArray(S, wp, wo + k * NR + V);
            int xi = xo + k * 6;
            FloatVector b = FloatVector.broadcast(S, xp[xi]);
            c00 = w0.fma(b, c00);
            c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(S, xp[xi + 1]);
            c10 = w0.fma(b, c10);
            c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(S, xp[xi + 2]);
            c20 = w0.fma(b, c20);
            c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(S, xp[xi + 3]);
            c30 = w0.fma(b, c30);
            c31 = w1.fma(b, c31);
            b = FloatVector.broadcast(S, xp[xi + 4]);
            c40 = w0.fma(b, c40);
            c41 = w1.fma(b, c41);
            b = FloatVector.broadcast(S, xp[xi + 5]);
            c50 = w0.fma(b, c50);
            c51 = w1.fma(b, c51);
        }
        put(c00, c01, y, yo, first);
        if (mValid > 1) put(c10, c11, y, yo + out, first);
        if (mValid > 2) put(c20, c21, y, yo + 2 * out, first);
        if (mValid > 3) put(c30, c31, y, yo + 3 * out, first);
        if (mValid > 4) put(c40, c41, y, yo + 4 * out, first);
        if (mValid > 5) put(c50, c51, y, yo + 5 * out, first);
    }

    /** Writes (or adds, unless first) one NR-wide row of accumulators. */
    static void put(FloatVector a0, FloatVector a1, float[] y, int off, boolean first) {
        if (!first) {
            a0 = a0.add(FloatVector.fromArray(S, y, off));
            a1 = a1.add(FloatVector.fromArray(S, y, off + V));
        }
        a0.intoArray(y, off);
        a1.intoArray(y, off + V);
    }

    /** Stores one NR-wide row of GEMV outputs (never masked: see {@link #gemvRagged}). */
    static void store(FloatVector a0, FloatVector a1, float[] y, int off) {
        a0.intoArray(y, off);
        a1.intoArray(y, off + V);
    }
}
