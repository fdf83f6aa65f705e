package dev.tern.model;

import dev.tern.kernels.LinearOp;

/** Turns a dense f32 weight matrix [out][in] into the LinearOp the model will run (f32, bf16, reference, ...). */
@FunctionalInterface
public interface LinearFactory {
    LinearOp create(float[] w, int out, int in);

    LinearFactory REFERENCE = ReferenceLinear::new;

    LinearFactory F32 = dev.tern.kernels.DenseF32Linear::new;

    LinearFactory BF16 = (w, out, in) -> new dev.tern.kernels.Bf16Linear(dev.tern.kernels.Bf16Linear.toBf16(w), out, in);

    /** The runnable layer for a quantized matrix: packed multiplication-free kernels where Tern has them. */
    static dev.tern.kernels.LinearOp quantized(dev.tern.format.QuantizedMatrix q) {
        return switch (q) {
            case dev.tern.format.TernaryMatrix t -> new dev.tern.kernels.TernaryLinear(t);
            case dev.tern.format.TritPlaneMatrix t -> new dev.tern.kernels.TritPlaneLinear(t);
            // The uniform k-bit GPTQ baseline is evaluated for quality only, so it runs dequantized.
            case dev.tern.format.UniformMatrix u -> new dev.tern.kernels.DenseF32Linear(u.dequantize(), u.rows(), u.cols());
        };
    }
}
