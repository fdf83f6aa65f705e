package dev.tern.quant;

/** Which stored representation a {@link GroupQuantizer} produces (maps onto the records in dev.tern.format). */
public enum QuantFormat {
    /** alpha * t + mu: p1 = alpha, p2 = mu. */
    TERNARY,
    /** alpha1 * t1 + alpha2 * t2: p1 = alpha1, p2 = alpha2. */
    TRITPLANE,
    /** scale * (q - zero): p1 = scale, p2 = zero. */
    UNIFORM
}
