package dev.tern.model;

import dev.tern.kernels.LinearOp;

/** Turns a dense f32 weight matrix [out][in] into the LinearOp the model will run (f32, bf16, reference, ...). */
@FunctionalInterface
public interface LinearFactory {
    LinearOp create(float[] w, int out, int in);

    LinearFactory REFERENCE = ReferenceLinear::new;

    LinearFactory F32 = dev.tern.kernels.DenseF32Linear::new;

    LinearFactory BF16 = (w, out, in) -> new dev.tern.kernels.Bf16Linear(dev.tern.kernels.Bf16Linear.toBf16(w), out, in);

    /** The runnable layer for a quantized matrix: packed ternary layers run by the given kernel. */
    static dev.tern.kernels.LinearOp quantized(dev.tern.format.QuantizedMatrix q, dev.tern.kernels.KernelKind kernel) {
        return switch (q) {
            case dev.tern.format.TernaryMatrix t -> new dev.tern.kernels.TernaryLinear(t, kernel);
            case dev.tern.format.TritPlaneMatrix t -> new dev.tern.kernels.TritPlaneLinear(t, kernel);
            // The uniform k-bit GPTQ baseline is evaluated for quality only, so it runs dequantized.
            case dev.tern.format.UniformMatrix u -> new dev.tern.kernels.DenseF32Linear(u.dequantize(), u.rows(), u.cols());
        };
    }

    /** (in, groupSize) of every packed ternary matrix among qs: what the kernel probe measures on. */
    static java.util.List<int[]> ternaryShapes(java.util.Collection<? extends dev.tern.format.QuantizedMatrix> qs) {
        java.util.List<int[]> out = new java.util.ArrayList<>();
        for (dev.tern.format.QuantizedMatrix q : qs) {
            switch (q) {
                case dev.tern.format.TernaryMatrix t -> out.add(new int[] {t.cols(), t.groupSize(), t.rows()});
                // two trit-planes: two ternary layers' codes per weight
                case dev.tern.format.TritPlaneMatrix t -> out.add(new int[] {t.cols(), t.groupSize(), 2 * t.rows()});
                default -> { }
            }
        }
        return out;
    }
}
