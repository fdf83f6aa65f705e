package dev.tern.model;

import dev.tern.kernels.LinearOp;

/** Turns a dense f32 weight matrix [out][in] into the LinearOp the model will run (f32, bf16, reference, ...). */
@FunctionalInterface
public interface LinearFactory {
    LinearOp create(float[] w, int out, int in);

    LinearFactory REFERENCE = ReferenceLinear::new;
}
