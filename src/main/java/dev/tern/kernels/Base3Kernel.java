package dev.tern.kernels;

import dev.tern.util.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Multiplication-free base-3 ternary matmul by activation lookup tables (the bitnet.cpp "TL" idea, on 5-trit bytes).
 *
 * <p>A packed byte holds 5 trits, i.e. one of 243 sign patterns over 5 consecutive (permuted) inputs. Per token we
 * tabulate, for every 5-input chunk, the 243 signed sums of those inputs (built with adds only, 364 adds per
 * chunk, shared by every output row), so t·x for 5 weights is one byte load, one table load and one add. The
 * per-group affine part y += α·(t·x_g) + μ·Σx_g is applied once per 128 weights, outside the inner loop.
 *
 * <p>GEMV (1 token): scalar float tables (243 floats per chunk; one group's 26 tables = 25 KiB fit L1), rows tiled so
 * a group's tables are reused by a tile of rows before moving on. GEMM: tokens go in vector lanes (16 with AVX-512),
 * each table entry is a vector of 16 token sums, so one vector load+add does 5 weights x 16 tokens = 80 MACs; a
 * group's tables (26 x 243 x 64 B = 404 KiB) live in L2, rebuilt per group per token tile (3% of the lookups).
 *
 * <p>Several code planes (TritPlaneMatrix) share the same tables: each plane is one more lookup sum per group.
 * Table entries and sums are formed in a fixed order and each output is produced by one thread, so results are
 * bit-reproducible across runs and thread counts of the pool.
 */
final class Base3Kernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final int E = 243;
    /** Row tile for GEMV: a group's 25 KiB of tables is reused by this many rows before the next group's. */
    private static final int RT = Integer.getInteger("tern.rt", 256);
    private static final ThreadLocal<float[]> VT = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> YT = ThreadLocal.withInitial(() -> new float[0]);

    final int out, in, groupSize, groups, cpg, rowBytes;
    final byte[][] codes;
    final short[][] alpha;
    final short[] mu;
    private float[] tables = new float[0];

    Base3Kernel(int out, int in, int groupSize, byte[][] codes, short[][] alpha, short[] mu) {
        this.out = out;
        this.in = in;
        this.groupSize = groupSize;
        this.groups = TernaryPacking.groups(in, groupSize);
        this.cpg = TernaryPacking.base3ChunksPerGroup(groupSize);
        this.rowBytes = TernaryPacking.base3RowBytes(in, groupSize);
        this.codes = codes;
        this.alpha = alpha;
        this.mu = mu;
    }

    long residentBytes() {
        return SlicedKernel.residentBytes(codes, alpha, mu);
    }

    private int chunks(int g) {
        return Math.min(cpg, rowBytes - g * cpg);
    }

    /** xp is [tokens][in] in stored (permuted) column order, gs is [tokens][groups]. */
    void apply(float[] xp, float[] gs, float[] y, int tokens) {
        if (tokens == 1) {
            gemv(xp, gs, y);
        } else {
            gemm(xp, gs, y, tokens);
        }
    }

    // ---------------------------------------------------------------- GEMV

    private void gemv(float[] xp, float[] gs, float[] y) {
        if (tables.length < rowBytes * E) tables = new float[rowBytes * E];
        float[] t = tables;
        Parallel.forParts(rowBytes, Parallel.threads(), (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) buildScalar(xp, ch, t);
        });
        Parallel.forRange(out, 64, (r0, r1) -> gemvRows(t, gs, y, r0, r1));

    }

    private void buildScalar(float[] xp, int ch, float[] t) {
        int g = ch / cpg, c = ch % cpg;
        int col = g * groupSize + c * 5, end = Math.min(in, (g + 1) * groupSize);
        int base = ch * E;
        float x0 = col < end ? xp[col] : 0f;
        t[base] = -x0;
        t[base + 1] = 0f;
        t[base + 2] = x0;
        for (int k = 1, n = 3; k < 5; k++, n *= 3) {
            float xk = col + k < end ? xp[col + k] : 0f;
            for (int i = 0; i < n; i++) {
                float v = t[base + i];
                t[base + i] = v - xk;
                t[base + i + n] = v;
                t[base + i + 2 * n] = v + xk;
            }
        }
    }

    private void gemvRows(float[] t, float[] gs, float[] y, int r0, int r1) {
        float[] acc = new float[RT];
        int planes = codes.length;
        for (int rt = r0; rt < r1; rt += RT) {
            int re = Math.min(r1, rt + RT);
            java.util.Arrays.fill(acc, 0f);
            for (int g = 0; g < groups; g++) {
                int nc = chunks(g), tb = g * cpg * E;
                float gsum = gs == null ? 0f : gs[g];
                for (int r = rt; r < re; r++) {
                    int cb = r * rowBytes + g * cpg, pi = r * groups + g;
                    float a = acc[r - rt];
                    for (int p = 0; p < planes; p++) {
                        float s = lookupSum(codes[p], cb, nc, t, tb);
                        a += Float.float16ToFloat(alpha[p][pi]) * s;
                    }
                    if (mu != null) a += Float.float16ToFloat(mu[pi]) * gsum;
                    acc[r - rt] = a;
                }
            }
            System.arraycopy(acc, 0, y, rt, re - rt);
        }
    }

    /** Sum over nc chunks of t[tb + c*243 + code]: four chains so the add latency overlaps the loads. */
    private static float lookupSum(byte[] code, int cb, int nc, float[] t, int tb) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int c = 0;
        for (; c + 4 <= nc; c += 4) {
            int b = tb + c * E;
            s0 += t[b + (code[cb + c] & 0xff)];
            s1 += t[b + E + (code[cb + c + 1] & 0xff)];
            s2 += t[b + 2 * E + (code[cb + c + 2] & 0xff)];
            s3 += t[b + 3 * E + (code[cb + c + 3] & 0xff)];
        }
        for (; c < nc; c++) s0 += t[tb + c * E + (code[cb + c] & 0xff)];
        return (s0 + s1) + (s2 + s3);
    }

    // ---------------------------------------------------------------- GEMM

    private void gemm(float[] xp, float[] gs, float[] y, int tokens) {
        int tiles = (tokens + L - 1) / L;
        int threads = Parallel.threads();
        // token tiles first: every split of rows duplicates the table build of its token tile
        int rowSplits = Math.max(1, (2 * threads + tiles - 1) / tiles);
        int rowStep = (out + rowSplits - 1) / rowSplits;
        Parallel.forRange(tiles * rowSplits, 1, (a, b) -> {
            for (int item = a; item < b; item++) {
                int tile = item / rowSplits, rs = item % rowSplits;
                int r0 = rs * rowStep, r1 = Math.min(out, r0 + rowStep);
                if (r0 < r1) gemmTile(xp, gs, y, tokens, tile * L, r0, r1);
            }
        });
    }

    private void gemmTile(float[] xp, float[] gs, float[] y, int tokens, int tok0, int r0, int r1) {
        int nt = Math.min(L, tokens - tok0);
        float[] vt = VT.get();
        if (vt.length < cpg * E * L) VT.set(vt = new float[cpg * E * L]);
        int rows = r1 - r0;
        float[] yt = YT.get();
        if (yt.length < rows * L) YT.set(yt = new float[rows * L]);
        float[] xcol = new float[5 * L];
        float[] gsv = new float[L];
        int planes = codes.length;
        for (int g = 0; g < groups; g++) {
            int nc = chunks(g);
            int end = Math.min(in, (g + 1) * groupSize);
            for (int c = 0; c < nc; c++) {
                int col = g * groupSize + c * 5;
                // transpose the 5 inputs of this chunk into lane-major order (token lanes, zero past nt / group end)
                java.util.Arrays.fill(xcol, 0f);
                for (int k = 0; k < 5 && col + k < end; k++) {
                    for (int i = 0; i < nt; i++) xcol[k * L + i] = xp[(tok0 + i) * in + col + k];
                }
                buildVector(xcol, vt, c * E * L);
            }
            if (gs != null) for (int i = 0; i < nt; i++) gsv[i] = gs[(tok0 + i) * groups + g];
            FloatVector gv = FloatVector.fromArray(S, gsv, 0);
            for (int r = r0; r < r1; r++) {
                int cb = r * rowBytes + g * cpg, pi = r * groups + g, yo = (r - r0) * L;
                FloatVector acc = g == 0 ? FloatVector.zero(S) : FloatVector.fromArray(S, yt, yo);
                for (int p = 0; p < planes; p++) {
                    FloatVector s = lookupSumV(codes[p], cb, nc, vt);
                    acc = s.fma(FloatVector.broadcast(S, Float.float16ToFloat(alpha[p][pi])), acc);
                }
                if (mu != null) acc = gv.fma(FloatVector.broadcast(S, Float.float16ToFloat(mu[pi])), acc);
                acc.intoArray(yt, yo);
            }
        }
        for (int r = r0; r < r1; r++) {
            int yo = (r - r0) * L;
            for (int i = 0; i < nt; i++) y[(tok0 + i) * out + r] = yt[yo + i];
        }
    }

    private static void buildVector(float[] xcol, float[] t, int base) {
        FloatVector x0 = FloatVector.fromArray(S, xcol, 0);
        x0.neg().intoArray(t, base);
        FloatVector.zero(S).intoArray(t, base + L);
        x0.intoArray(t, base + 2 * L);
        for (int k = 1, n = 3; k < 5; k++, n *= 3) {
            FloatVector xk = FloatVector.fromArray(S, xcol, k * L);
            for (int i = 0; i < n; i++) {
                int o = base + i * L;
                FloatVector v = FloatVector.fromArray(S, t, o);
                v.sub(xk).intoArray(t, o);
                v.intoArray(t, o + n * L);
                v.add(xk).intoArray(t, o + 2 * n * L);
            }
        }
    }

    private static FloatVector lookupSumV(byte[] code, int cb, int nc, float[] t) {
        FloatVector z = FloatVector.zero(S);
        FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
        int c = 0;
        for (; c + 4 <= nc; c += 4) {
            int b = c * E;
            s0 = s0.add(FloatVector.fromArray(S, t, (b + (code[cb + c] & 0xff)) * L));
            s1 = s1.add(FloatVector.fromArray(S, t, (b + E + (code[cb + c + 1] & 0xff)) * L));
            s2 = s2.add(FloatVector.fromArray(S, t, (b + 2 * E + (code[cb + c + 2] & 0xff)) * L));
            s3 = s3.add(FloatVector.fromArray(S, t, (b + 3 * E + (code[cb + c + 3] & 0xff)) * L));
        }
        for (; c < nc; c++) s0 = s0.add(FloatVector.fromArray(S, t, (c * E + (code[cb + c] & 0xff)) * L));
        return s0.add(s1).add(s2.add(s3));
    }
}
