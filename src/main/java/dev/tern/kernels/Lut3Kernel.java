package dev.tern.kernels;

import dev.tern.util.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lookup-table ternary matmul over the LUT3 layout ({@link TernaryPacking#packLut3}): 3 trits per 5-bit code, three
 * codes per 16-bit lane, 32 rows per 512-bit vector.
 *
 * <p>Per token, activations are quantized per group to ±255 in int16 (scale d_g = max|x|/255, exactly as
 * {@link UnpackKernel} does, so the two agree bit for bit) and every triple of columns gets a table of its 27 possible partial sums Σ t_k·x_k, built with masked adds
 * and subtracts, so the table build is multiplication-free too. One table fills one 32-lane short vector, so a
 * single permute ({@code selectFrom}, vpermw) looks up the partial sums of 32 rows at once: per 3 triples (9
 * columns × 32 rows) the GEMV does one code load, two shifts, three table loads, three permutes and three adds. A group's int16 sums are exact (|Σ| ≤ 128·255 < 32768) and are
 * flushed into f32 as α_g·d_g·acc + μ_g·Σx_g; α and μ are f16 in [tile][group][lane] order so the flush works on 32
 * rows at once.
 *
 * <p>16 bits per 9 columns plus group padding is about 1.80 bits per weight for groups of 128, about 2.06 with α, μ
 * and the permutation.
 *
 * <p>It needs 512-bit vectors and a 16-bit permute that the CPU executes natively (AVX-512BW's vpermw): it ran at
 * 38 tok/s on TinyLlama shapes on a Zen 4 and fell into the Vector API's Java fallback on a Skylake-SP with the same
 * ISA flags, which is why {@link KernelSelector} times it before using it.
 *
 * <p>For one token (decode) every thread quantizes the token and builds the tables itself, so each reads them from
 * its own cache. Several tokens (prefill) run super-group by super-group: the tables of a block of tokens for three groups stay
 * in L2 while every row tile of the thread's share is swept, so codes and tables are each read once per block.
 *
 * <p>Every output is produced by one thread in a fixed order, so results are bit-reproducible across runs and
 * thread counts. Scratch buffers are per calling thread; one kernel may serve several threads.
 */
final class Lut3Kernel implements TiledDecode.Kernel {
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    /** Table lanes whose digit k (of c = d0 + 3·d1 + 9·d2) is 2 (t = +1) and 0 (t = -1). */
    private static final VectorMask<Short>[] PLUS = digitMasks(2), MINUS = digitMasks(0);
    /**
     * Tokens whose tables are built and consumed together in the multi-token path. The sweep is group-major, so only
     * one super-group's tables of the block (64 × 8 KB for groups of 128) need to stay in L2, while fewer, longer
     * parallel calls amortise their start-up on small layers.
     */
    static final int TOKEN_BLOCK = 64;
    /**
     * 32-row tiles per decode tile. Four tiles read in one loop are four code streams in flight: with two, decode
     * from memory larger than L2 ran at 67-68 G multiply-adds/s on a Sapphire Rapids (2 threads), with four at 74-76
     * (model decode +6 %), though the L2-resident case is 15 % slower (more live registers).
     */
    static final int QUAD = 4;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    final int out, in, groupSize, groups, tiles, words, triples, paddedCols, tpg, superGroups;
    private final int[] groupEnd;
    private final short[] codes;
    private final short[] alpha, mu;

    /** Largest group size whose int16 sums cannot overflow with ±255 activations. */
    static boolean supports(int groupSize) {
        return groupSize >= 1 && groupSize <= 128;
    }

    /** alpha and mu are f16 in row-major [row][group] order (mu may be null). */
    Lut3Kernel(int out, int in, int groupSize, short[] packed, short[] alpha, short[] mu) {
        if (!supports(groupSize)) throw new IllegalArgumentException("group size " + groupSize + " > 128");
        this.out = out;
        this.in = in;
        this.groupSize = groupSize;
        this.groups = TernaryPacking.groups(in, groupSize);
        this.tiles = TernaryPacking.lut3Tiles(out);
        this.words = TernaryPacking.lut3Words(in, groupSize);
        this.groupEnd = TernaryPacking.lut3GroupEnds(in, groupSize);
        this.triples = groupEnd[groups - 1];
        this.tpg = TernaryPacking.lut3TriplesPerGroup(groupSize);
        this.superGroups = TernaryPacking.lut3SuperGroups(in, groupSize);
        this.paddedCols = 3 * triples;
        if (packed.length != tiles * words * 32) throw new IllegalArgumentException("packed codes have the wrong size");
        this.codes = packed;
        this.alpha = tileOrder(alpha);
        this.mu = mu == null ? null : tileOrder(mu);
    }

    /** src's kernel over fresh copies of its packed codes and scales. */
    private Lut3Kernel(Lut3Kernel src) {
        this.out = src.out;
        this.in = src.in;
        this.groupSize = src.groupSize;
        this.groups = src.groups;
        this.tiles = src.tiles;
        this.words = src.words;
        this.groupEnd = src.groupEnd;
        this.triples = src.triples;
        this.tpg = src.tpg;
        this.superGroups = src.superGroups;
        this.paddedCols = src.paddedCols;
        this.codes = src.codes.clone();
        this.alpha = src.alpha.clone();
        this.mu = src.mu == null ? null : src.mu.clone();
    }

    @Override
    public TernaryKernel copy() {
        return new Lut3Kernel(this);
    }

    @Override
    public String name() {
        return "lut3-512";
    }

    @Override
    public long residentBytes() {
        return 2L * codes.length + 2L * alpha.length + (mu == null ? 0 : 2L * mu.length);
    }

    /**
     * [row][group] → [tile][group][lane] where lanes 0..15 are rows 2i and 16..31 rows 2i + 1 of the tile: the
     * order in which the flush splits an int16 accumulator into two f32 vectors. Padding rows get 0.
     */
    private short[] tileOrder(short[] p) {
        short[] t = new short[tiles * groups * 32];
        for (int r = 0; r < out; r++) {
            int lane = (r % 32 >> 1) + ((r & 1) << 4);
            for (int g = 0; g < groups; g++) t[((r / 32) * groups + g) * 32 + lane] = p[r * groups + g];
        }
        return t;
    }

    /** y[t][out] for xp[t][in] in stored column order; gs[t][groups] are the group sums (the μ term). */
    @Override
    public void apply(float[] xp, float[] gs, float[] y, int tokens) {
        if (tokens == 1) {
            // every thread quantizes the token and builds the tables itself (TiledDecode): the build is short and
            // runs in parallel, and each thread then reads tables from its own cache instead of pulling the
            // caller's (44-120 KB) across cores, which had left the worker idle for much of each call
            TiledDecode.run(this, xp, gs, y, 1);
            return;
        }
        Scratch s = SCRATCH.get();
        for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
            int n = Math.min(TOKEN_BLOCK, tokens - t0), tb = t0;
            s.ensure(n, paddedCols, groups, triples);
            int parts = (long) n * triples >= 4096 ? Math.min(n, Parallel.threads()) : 1;
            Parallel.forParts(n, parts, (a, b) -> {
                for (int t = a; t < b; t++) {
                    quantize(xp, (tb + t) * in, s.xq, t * paddedCols, s.dq, t * groups);
                    buildTables(s.xq, t * paddedCols, s.tables, t * triples * 32);
                }
            });
            Parallel.forRange(tiles, minTiles(n), (a, b) -> gemmTiles(s.tables, s.dq, gs, tb, n, y, a, b));
        }
    }

    /**
     * Fewest row tiles per parallel chunk for n tokens: about 256 K weight-tokens, so that small layers (a 128 × 128
     * layer is 4 tiles) run on the calling thread, where waking a second thread and building its tables cost more
     * than the work (tinystories-656k decoded 3x slower on two threads than on one).
     */
    private int minTiles(int n) {
        return (int) Math.max(1, (256L << 10) / (32L * in * n));
    }

    /** Decode tiles of TiledDecode are QUAD 32-row tiles: gemvTiles shares every table load among them. */
    @Override public int tiles() { return (tiles + QUAD - 1) / QUAD; }
    @Override public int rowsPerTile() { return 32 * QUAD; }
    @Override public int in() { return in; }
    @Override public TiledDecode.Slot newSlot() { return new Scratch(); }
    @Override public Class<? extends TiledDecode.Slot> slotClass() { return Scratch.class; }

    @Override
    public int[] inputLayout() {
        return groupEnd;
    }

    @Override
    public void prepare(float[] xp, int tokens, TiledDecode.Slot slot) {
        // one token only: several go through gemmTiles, whose token blocks share each code load
        if (tokens != 1) throw new IllegalArgumentException("lut3-512 decodes one token per pass, not " + tokens);
        Scratch s = (Scratch) slot;
        s.ensure(1, paddedCols, groups, triples);
        quantize(xp, 0, s.xq, 0, s.dq, 0);
        buildTables(s.xq, 0, s.tables, 0);
    }

    @Override
    public void runTile(int quad, TiledDecode.Slot slot, int t, float[] gs, float[] y) {
        Scratch s = (Scratch) slot;
        gemvTiles(s.tables, s.dq, gs, 0, y, 0, QUAD * quad, Math.min(tiles, QUAD * quad + QUAD), s);
    }

    // ---------------------------------------------------------------- activations and tables

    /** Token at xp[xo..xo+in) → xq[qo..] (padded positions, int16, ±255) and per-group scales dq[d0 + g]. */
    private void quantize(float[] xp, int xo, short[] xq, int qo, float[] dq, int d0) {
        java.util.Arrays.fill(xq, qo, qo + paddedCols, (short) 0);
        for (int g = 0; g < groups; g++) {
            int lo = g * groupSize, hi = Math.min(in, lo + groupSize), p = qo + 3 * g * tpg - lo, j = lo;
            FloatVector m = FloatVector.zero(F512);
            for (; j + 16 <= hi; j += 16) m = m.max(FloatVector.fromArray(F512, xp, xo + j).abs());
            // MAX is exact and order-free, so the lane reduction is reproducible
            float amax = m.reduceLanes(VectorOperators.MAX);
            for (; j < hi; j++) amax = Math.max(amax, Math.abs(xp[xo + j]));
            // below 1e-30 the group counts as zero (255/amax would overflow for the tiniest magnitudes)
            float inv = amax > 1e-30f ? 255f / amax : 0f;
            j = lo;
            for (; j + 16 <= hi; j += 16) {
                FloatVector v = FloatVector.fromArray(F512, xp, xo + j).mul(inv);
                // |v| ≤ 255: adding and removing 1.5·2^23 rounds to the nearest integer (ties to even), = Math.rint
                v = v.add(ROUNDER).sub(ROUNDER);
                v.convertShape(VectorOperators.F2S, S256, 0).reinterpretAsShorts().intoArray(xq, p + j);
            }
            for (; j < hi; j++) xq[p + j] = (short) Math.rint(xp[xo + j] * inv);
            dq[d0 + g] = amax / 255f;
        }
    }

    private static final float ROUNDER = 12582912f;

    /** Table of triple j at tables[to + 32j + c] = Σ_k (digit_k(c) − 1)·xq[qo + 3j + k] for c < 27, 0 above. */
    private void buildTables(short[] xq, int qo, short[] tables, int to) {
        ShortVector z = ShortVector.zero(S512);
        for (int j = 0; j < triples; j++) {
            int q = qo + 3 * j;
            ShortVector a = ShortVector.broadcast(S512, xq[q]), b = ShortVector.broadcast(S512, xq[q + 1]);
            ShortVector c = ShortVector.broadcast(S512, xq[q + 2]);
            z.add(a, PLUS[0]).sub(a, MINUS[0]).add(b, PLUS[1]).sub(b, MINUS[1]).add(c, PLUS[2]).sub(c, MINUS[2])
                    .intoArray(tables, to + 32 * j);
        }
    }

    @SuppressWarnings("unchecked")
    private static VectorMask<Short>[] digitMasks(int digit) {
        VectorMask<Short>[] m = new VectorMask[3];
        for (int k = 0; k < 3; k++) {
            long bits = 0;
            for (int c = 0; c < 27; c++) {
                int d = k == 0 ? c % 3 : k == 1 ? c / 3 % 3 : c / 9;
                if (d == digit) bits |= 1L << c;
            }
            m[k] = VectorMask.fromLong(S512, bits);
        }
        return m;
    }

    // ---------------------------------------------------------------- kernels

    /**
     * acc[0..96) = int16 sums Σ t·xq of the 32 rows of a tile over groups 3·sg, 3·sg + 1, 3·sg + 2 (one per 32
     * lanes), tables at tb. Kept small so that C2 inlines every vector op (vectors never cross a call boundary).
     */
    private void superGroupDot(int tile, int sg, short[] tables, int tb, short[] acc) {
        short[] c = codes;
        int cb = (tile * words + sg * tpg) * 32, t0 = tb + 3 * sg * tpg * 32, t1 = t0 + tpg * 32, t2 = t1 + tpg * 32;
        ShortVector a0 = ShortVector.zero(S512), a1 = a0, a2 = a0;
        for (int k = 0; k < tpg; k++) {
            ShortVector s = ShortVector.fromArray(S512, c, cb + 32 * k);
            a0 = a0.add(s.selectFrom(ShortVector.fromArray(S512, tables, t0 + 32 * k)));
            a1 = a1.add(s.lanewise(VectorOperators.LSHR, 5).selectFrom(ShortVector.fromArray(S512, tables, t1 + 32 * k)));
            a2 = a2.add(s.lanewise(VectorOperators.LSHR, 10).selectFrom(ShortVector.fromArray(S512, tables, t2 + 32 * k)));
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 32);
        a2.intoArray(acc, 64);
    }

    /** acc[0..32) = the same sums over group g ≥ 3·superGroups, whose triples follow each other, three per word. */
    private void tailGroupDot(int tile, int g, short[] tables, int tb, short[] acc) {
        short[] c = codes;
        int cb = tile * words * 32, j = g == 0 ? 0 : groupEnd[g - 1], end = groupEnd[g];
        ShortVector a = ShortVector.zero(S512);
        for (; j < end && j % 3 != 0; j++) {
            ShortVector s = ShortVector.fromArray(S512, c, cb + 32 * (j / 3)).lanewise(VectorOperators.LSHR, 5 * (j % 3));
            a = a.add(s.selectFrom(ShortVector.fromArray(S512, tables, tb + 32 * j)));
        }
        for (; j + 3 <= end; j += 3) {
            ShortVector s = ShortVector.fromArray(S512, c, cb + 32 * (j / 3));
            ShortVector p = s.selectFrom(ShortVector.fromArray(S512, tables, tb + 32 * j));
            ShortVector q = s.lanewise(VectorOperators.LSHR, 5).selectFrom(ShortVector.fromArray(S512, tables, tb + 32 * j + 32));
            ShortVector r = s.lanewise(VectorOperators.LSHR, 10).selectFrom(ShortVector.fromArray(S512, tables, tb + 32 * j + 64));
            a = a.add(p.add(q)).add(r);
        }
        for (; j < end; j++) {
            ShortVector s = ShortVector.fromArray(S512, c, cb + 32 * (j / 3)).lanewise(VectorOperators.LSHR, 5 * (j % 3));
            a = a.add(s.selectFrom(ShortVector.fromArray(S512, tables, tb + 32 * j)));
        }
        a.intoArray(acc, 0);
    }

    /** One token: every group of each tile in [t0, t1). */
    private void gemvTiles(short[] tables, float[] dq, float[] gs, int go, float[] y, int yo, int t0, int t1, Scratch s) {
        short[] acc = s.acc;
        float[] f = s.f, pf = s.pf, pf2 = s.pf2;
        int tile = t0;
        // four tiles per pass share every table load and keep four code streams in flight (see QUAD)
        for (; tile + 4 <= t1; tile += 4) {
            java.util.Arrays.fill(f, 0f);
            int po = tile * groups * 32, gw = groups * 32;
            for (int sg = 0; sg < superGroups; sg++) {
                params(po + 96 * sg, 3, pf);
                params(po + gw + 96 * sg, 3, pf2);
                params(po + 2 * gw + 96 * sg, 3, s.pf3);
                params(po + 3 * gw + 96 * sg, 3, s.pf4);
                superGroupDot4(tile, sg, tables, acc);
                for (int i = 0; i < 3; i++) {
                    int g = 3 * sg + i;
                    float gsum = gs == null ? 0f : gs[go + g];
                    flush(acc, 32 * i, pf, 32 * i, dq[g], gsum, f, 0);
                    flush(acc, 96 + 32 * i, pf2, 32 * i, dq[g], gsum, f, 32);
                    flush(acc, 192 + 32 * i, s.pf3, 32 * i, dq[g], gsum, f, 64);
                    flush(acc, 288 + 32 * i, s.pf4, 32 * i, dq[g], gsum, f, 96);
                }
            }
            for (int u = 0; u < 4; u++) {
                gemvTailGroups(tile + u, tables, dq, gs, go, acc, pf, f, 32 * u);
                store(f, 32 * u, tile + u, y, yo);
            }
        }
        // the remainder (out not a multiple of 128 rows) one tile at a time
        for (; tile < t1; tile++) {
            java.util.Arrays.fill(f, 0f);
            int po = tile * groups * 32;
            for (int sg = 0; sg < superGroups; sg++) {
                params(po + 96 * sg, 3, pf);
                superGroupDot(tile, sg, tables, 0, acc);
                for (int i = 0; i < 3; i++) {
                    int g = 3 * sg + i;
                    flush(acc, 32 * i, pf, 32 * i, dq[g], gs == null ? 0f : gs[go + g], f, 0);
                }
            }
            gemvTailGroups(tile, tables, dq, gs, go, acc, pf, f, 0);
            store(f, 0, tile, y, yo);
        }
    }

    /** f[fo..fo+32) += the groups after the super-groups of one tile, for one token. */
    private void gemvTailGroups(int tile, short[] tables, float[] dq, float[] gs, int go, short[] acc, float[] pf,
            float[] f, int fo) {
        for (int g = 3 * superGroups; g < groups; g++) {
            params((tile * groups + g) * 32, 1, pf);
            tailGroupDot(tile, g, tables, 0, acc);
            flush(acc, 0, pf, 0, dq[g], gs == null ? 0f : gs[go + g], f, fo);
        }
    }

    /** {@link #superGroupDot} for tiles t .. t + 3 at once (token tables at 0), sharing every table load: acc[0..384). */
    private void superGroupDot4(int tile, int sg, short[] tables, short[] acc) {
        short[] c = codes;
        int cb = (tile * words + sg * tpg) * 32, cs = words * 32, t0 = 3 * sg * tpg * 32, w = tpg * 32;
        ShortVector x0 = ShortVector.zero(S512), x1 = x0, x2 = x0, y0 = x0, y1 = x0, y2 = x0;
        ShortVector u0 = x0, u1 = x0, u2 = x0, v0 = x0, v1 = x0, v2 = x0;
        for (int k = 0; k < tpg; k++) {
            int ck = cb + 32 * k;
            ShortVector s = ShortVector.fromArray(S512, c, ck), r = ShortVector.fromArray(S512, c, ck + cs);
            ShortVector p = ShortVector.fromArray(S512, c, ck + 2 * cs), q = ShortVector.fromArray(S512, c, ck + 3 * cs);
            int tk = t0 + 32 * k;
            ShortVector ta = ShortVector.fromArray(S512, tables, tk);
            x0 = x0.add(s.selectFrom(ta));
            y0 = y0.add(r.selectFrom(ta));
            u0 = u0.add(p.selectFrom(ta));
            v0 = v0.add(q.selectFrom(ta));
            ShortVector tb = ShortVector.fromArray(S512, tables, tk + w);
            x1 = x1.add(s.lanewise(VectorOperators.LSHR, 5).selectFrom(tb));
            y1 = y1.add(r.lanewise(VectorOperators.LSHR, 5).selectFrom(tb));
            u1 = u1.add(p.lanewise(VectorOperators.LSHR, 5).selectFrom(tb));
            v1 = v1.add(q.lanewise(VectorOperators.LSHR, 5).selectFrom(tb));
            ShortVector tc = ShortVector.fromArray(S512, tables, tk + 2 * w);
            x2 = x2.add(s.lanewise(VectorOperators.LSHR, 10).selectFrom(tc));
            y2 = y2.add(r.lanewise(VectorOperators.LSHR, 10).selectFrom(tc));
            u2 = u2.add(p.lanewise(VectorOperators.LSHR, 10).selectFrom(tc));
            v2 = v2.add(q.lanewise(VectorOperators.LSHR, 10).selectFrom(tc));
        }
        x0.intoArray(acc, 0);
        x1.intoArray(acc, 32);
        x2.intoArray(acc, 64);
        y0.intoArray(acc, 96);
        y1.intoArray(acc, 128);
        y2.intoArray(acc, 160);
        u0.intoArray(acc, 192);
        u1.intoArray(acc, 224);
        u2.intoArray(acc, 256);
        v0.intoArray(acc, 288);
        v1.intoArray(acc, 320);
        v2.intoArray(acc, 352);
    }

    /**
     * n tokens (tables at token·triples·32, scales at token·groups): group-major, so the block's tables for three
     * groups stay in cache while the thread's tiles are swept; f holds [tile][token][32] sums. α and μ are
     * converted once per tile and group, not per token.
     */
    private void gemmTiles(short[] tables, float[] dq, float[] gs, int tok0, int n, float[] y, int t0, int t1) {
        short[] acc = new short[192];
        float[] f = new float[(t1 - t0) * n * 32], pf = new float[192];
        for (int sg = 0; sg < superGroups; sg++) {
            for (int tile = t0; tile < t1; tile++) {
                params((tile * groups + 3 * sg) * 32, 3, pf);
                gemmSuperGroup(tile, sg, tables, dq, gs, tok0, n, acc, pf, f, (tile - t0) * n * 32);
            }
        }
        for (int g = 3 * superGroups; g < groups; g++) {
            for (int tile = t0; tile < t1; tile++) {
                params((tile * groups + g) * 32, 1, pf);
                int fo = (tile - t0) * n * 32;
                for (int t = 0; t < n; t++) {
                    tailGroupDot(tile, g, tables, t * triples * 32, acc);
                    flush(acc, 0, pf, 0, dq[t * groups + g], gs == null ? 0f : gs[(tok0 + t) * groups + g], f, fo + 32 * t);
                }
            }
        }
        for (int tile = t0; tile < t1; tile++) {
            for (int t = 0; t < n; t++) store(f, ((tile - t0) * n + t) * 32, tile, y, (tok0 + t) * out);
        }
    }

    /** The n tokens of one tile and super-group (a separate method keeps each compiled unit small). */
    private void gemmSuperGroup(int tile, int sg, short[] tables, float[] dq, float[] gs, int tok0, int n, short[] acc,
            float[] pf, float[] f, int fo) {
        int t = 0;
        for (; t + 2 <= n; t += 2) {
            superGroupDot2(tile, sg, tables, t * triples * 32, (t + 1) * triples * 32, acc);
            for (int u = 0; u < 2; u++) {
                for (int i = 0; i < 3; i++) {
                    int g = 3 * sg + i, tt = t + u;
                    flush(acc, 96 * u + 32 * i, pf, 32 * i, dq[tt * groups + g],
                            gs == null ? 0f : gs[(tok0 + tt) * groups + g], f, fo + 32 * tt);
                }
            }
        }
        for (; t < n; t++) {
            superGroupDot(tile, sg, tables, t * triples * 32, acc);
            for (int i = 0; i < 3; i++) {
                int g = 3 * sg + i;
                flush(acc, 32 * i, pf, 32 * i, dq[t * groups + g], gs == null ? 0f : gs[(tok0 + t) * groups + g], f, fo + 32 * t);
            }
        }
    }

    /** {@link #superGroupDot} for two tokens (tables at ta and tb) sharing each code load: acc[0..96), acc[96..192). */
    private void superGroupDot2(int tile, int sg, short[] tables, int ta, int tb, short[] acc) {
        short[] c = codes;
        int cb = (tile * words + sg * tpg) * 32, o = 3 * sg * tpg * 32, w = tpg * 32;
        int a0 = ta + o, b0 = tb + o;
        ShortVector x0 = ShortVector.zero(S512), x1 = x0, x2 = x0, y0 = x0, y1 = x0, y2 = x0;
        for (int k = 0; k < tpg; k++) {
            ShortVector s = ShortVector.fromArray(S512, c, cb + 32 * k);
            ShortVector s5 = s.lanewise(VectorOperators.LSHR, 5), s10 = s.lanewise(VectorOperators.LSHR, 10);
            int ka = a0 + 32 * k, kb = b0 + 32 * k;
            x0 = x0.add(s.selectFrom(ShortVector.fromArray(S512, tables, ka)));
            y0 = y0.add(s.selectFrom(ShortVector.fromArray(S512, tables, kb)));
            x1 = x1.add(s5.selectFrom(ShortVector.fromArray(S512, tables, ka + w)));
            y1 = y1.add(s5.selectFrom(ShortVector.fromArray(S512, tables, kb + w)));
            x2 = x2.add(s10.selectFrom(ShortVector.fromArray(S512, tables, ka + 2 * w)));
            y2 = y2.add(s10.selectFrom(ShortVector.fromArray(S512, tables, kb + 2 * w)));
        }
        x0.intoArray(acc, 0);
        x1.intoArray(acc, 32);
        x2.intoArray(acc, 64);
        y0.intoArray(acc, 96);
        y1.intoArray(acc, 128);
        y2.intoArray(acc, 160);
    }

    /**
     * pf[0..32·count) = α and pf[96..96 + 32·count) = μ (0 without μ) as floats for count groups of one tile from
     * the f16 [tile][group][lane] arrays at po. Conversion in four vector ops per 16 values: sign-extended to int
     * and shifted left by 13, the magnitude bits sit where an f32's do (exponent rebased by 2^-112) and bits 28..31
     * copy the sign; keeping only bit 31 of those and multiplying by 2^112 gives the value, subnormals included.
     */
    private void params(int po, int count, float[] pf) {
        for (int i = 0; i < 32 * count; i += 16) {
            f16ToFloats(alpha, po + i, pf, i);
            if (mu != null) f16ToFloats(mu, po + i, pf, 96 + i);
        }
    }

    /** dst[d..d+16) = the 16 f16 values at h[o..] as floats, by the conversion described at {@link #params}. */
    static void f16ToFloats(short[] h, int o, float[] dst, int d) {
        IntVector a = (IntVector) ShortVector.fromArray(S256, h, o).convertShape(VectorOperators.S2I, I512, 0);
        a.lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretAsFloats().mul(0x1p112f).intoArray(dst, d);
    }

    /**
     * f[fo..fo+32) += α·d·acc + μ·gsum for one tile and group, with the f32 α at pf[pa..pa+32) and μ at
     * pf[96 + pa..): the int16 sums are split into even and odd lanes (rows 2i and 2i + 1), the order α and μ
     * follow ({@link #tileOrder}).
     */
    private void flush(short[] acc, int ao, float[] pf, int pa, float d, float gsum, float[] f, int fo) {
        IntVector v = ShortVector.fromArray(S512, acc, ao).reinterpretAsInts();
        FloatVector ev = (FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .convert(VectorOperators.I2F, 0);
        FloatVector od = (FloatVector) v.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0);
        FloatVector fe = FloatVector.fromArray(F512, f, fo), fd = FloatVector.fromArray(F512, f, fo + 16);
        FloatVector sd = FloatVector.broadcast(F512, d);
        fe = ev.fma(FloatVector.fromArray(F512, pf, pa).mul(sd), fe);
        fd = od.fma(FloatVector.fromArray(F512, pf, pa + 16).mul(sd), fd);
        if (mu != null) {
            FloatVector sg = FloatVector.broadcast(F512, gsum);
            fe = FloatVector.fromArray(F512, pf, 96 + pa).fma(sg, fe);
            fd = FloatVector.fromArray(F512, pf, 96 + pa + 16).fma(sg, fd);
        }
        fe.intoArray(f, fo);
        fd.intoArray(f, fo + 16);
    }

    /** Rows of one tile from f[fo..fo+32) (even rows, then odd rows) into y[yo + row]. */
    private void store(float[] f, int fo, int tile, float[] y, int yo) {
        int r0 = 32 * tile, n = Math.min(32, out - r0);
        for (int i = 0; i < n; i++) y[yo + r0 + i] = f[fo + (i >> 1) + ((i & 1) << 4)];
    }

    /** Per-thread buffers of the calling thread (activations, scales, tables), grown on demand. */
    private static final class Scratch extends TiledDecode.Slot {
        short[] xq = new short[0], tables = new short[0];
        float[] dq = new float[0];
        /** gemvTiles' accumulators and widened scales (allocated per call before: four arrays per 64 rows). */
        final short[] acc = new short[384];
        final float[] f = new float[128], pf = new float[192], pf2 = new float[192], pf3 = new float[192], pf4 = new float[192];

        void ensure(int tokens, int paddedCols, int groups, int triples) {
            if (xq.length < tokens * paddedCols) xq = new short[tokens * paddedCols];
            if (dq.length < tokens * groups) dq = new float[tokens * groups];
            if (tables.length < tokens * triples * 32) tables = new short[tokens * triples * 32];
        }
    }
}
