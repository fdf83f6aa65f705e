package dev.tern.model;

import dev.tern.format.TernaryMatrix;
import dev.tern.kernels.LinearOp;
import dev.tern.util.Parallel;
import java.util.SplittableRandom;

/**
 * Seeded random-weight models with a real architecture's shapes, for speed and memory measurements where weight
 * values do not matter. Every tensor draws from its own seed, so models are identical across runs and formats.
 */
public final class SyntheticModel {
    /** How the linear layers of a synthetic model are stored. */
    public enum Format { F32, BF16, TERNARY, PTQTP }

    private SyntheticModel() {}

    /** The {in, groupSize, rows} shapes of a synthetic model's ternary layers, one per layer, for the kernel probe. */
    public static java.util.List<int[]> ternaryShapes(ModelConfig c) {
        java.util.List<int[]> out = new java.util.ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            for (int[] s : c.projectionShapes()) out.add(new int[] {s[1], 128, s[0]});
        }
        return out;
    }

    public static LlamaModel build(ModelConfig c, long seed, Format format) {
        return build(c, seed, format, dev.tern.kernels.KernelKind.UNPACK);
    }

    /** kernel runs the packed layers of TERNARY and PTQTP models. */
    public static LlamaModel build(ModelConfig c, long seed, Format format, dev.tern.kernels.KernelKind kernel) {
        int h = c.hiddenSize(), m = c.intermediateSize();
        float[] emb = uniform(seed, -1, (long) c.vocabSize() * h, 0.05f);
        LayerWeights[] layers = new LayerWeights[c.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            long s = seed * 1_000_003L + l * 16L;
            layers[l] = new LayerWeights(ones(h),
                    linear(s, c.qDim(), h, format, kernel), linear(s + 1, c.kvDim(), h, format, kernel), linear(s + 2, c.kvDim(), h, format, kernel),
                    linear(s + 3, h, c.qDim(), format, kernel), null, null, null, null, null, ones(h),
                    linear(s + 4, m, h, format, kernel), linear(s + 5, m, h, format, kernel), linear(s + 6, h, m, format, kernel));
        }
        // The head stays 16-bit for ternary models (METHOD.md §3); f32 models keep an f32 head.
        LinearFactory headFactory = format == Format.F32 ? LinearFactory.F32 : LinearFactory.BF16;
        float[] headW = c.tiedEmbeddings() ? emb : uniform(seed, -2, (long) c.vocabSize() * h, 0.05f);
        LinearOp head = headFactory.create(headW, c.vocabSize(), h);
        return new LlamaModel(c, emb, layers, ones(h), head);
    }

    private static LinearOp linear(long seed, int out, int in, Format format, dev.tern.kernels.KernelKind kernel) {
        return switch (format) {
            case F32 -> LinearFactory.F32.create(uniform(seed, 0, (long) out * in, 0.05f), out, in);
            case BF16 -> LinearFactory.BF16.create(uniform(seed, 0, (long) out * in, 0.05f), out, in);
            case TERNARY -> LinearFactory.quantized(randomTernary(seed, out, in, 128), kernel);
            case PTQTP -> {
                TernaryMatrix a = randomTernary(seed, out, in, 128), b = randomTernary(seed + 99991, out, in, 128);
                yield LinearFactory.quantized(new dev.tern.format.TritPlaneMatrix(out, in, 128, a.codes(), b.codes(), a.alpha(),
                        b.alpha(), a.perm()), kernel);
            }
        };
    }

    /** A ternary matrix with about one third zeros, small random scales/offsets and a random column permutation. */
    public static TernaryMatrix randomTernary(long seed, int rows, int cols, int group) {
        SplittableRandom r = new SplittableRandom(seed * 31 + 7);
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) codes[i] = (byte) (r.nextInt(3) - 1);
        int groups = (cols + group - 1) / group;
        float[] alpha = new float[rows * groups], mu = new float[rows * groups];
        for (int i = 0; i < alpha.length; i++) {
            alpha[i] = 0.02f + 0.02f * (float) r.nextDouble();
            mu[i] = 0.002f * (float) (r.nextDouble() - 0.5);
        }
        return new TernaryMatrix(rows, cols, group, codes, alpha, mu, dev.tern.util.Permutations.shuffled(cols, r));
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    /** n uniform values in [-scale, scale), filled in parallel chunks that each have their own derived seed. */
    static float[] uniform(long seed, long stream, long n, float scale) {
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor too large for one array: " + n);
        float[] a = new float[(int) n];
        int chunk = 1 << 20;
        int chunks = (int) ((n + chunk - 1) / chunk);
        Parallel.forRange(chunks, 1, (from, to) -> {
            for (int ci = from; ci < to; ci++) {
                SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + stream * 1_000_000_007L + ci);
                int end = (int) Math.min(n, (long) (ci + 1) * chunk);
                for (int i = ci * chunk; i < end; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
            }
        });
        return a;
    }
}
