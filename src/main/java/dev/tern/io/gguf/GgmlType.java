package dev.tern.io.gguf;

import dev.tern.TernException;

/** GGML tensor types by their on-disk id. */
public enum GgmlType {
    // id, weights per block, bytes per block: gguf-py constants.py (GGMLQuantizationType, GGML_QUANT_SIZES).
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 40),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    // Ids 31-33 were the removed Q4_0_4_4 / Q4_0_4_8 / Q4_0_8_8 repacked layouts; files with them are refused.
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66);

    private static final GgmlType[] BY_ID = new GgmlType[36];

    static {
        for (GgmlType t : values()) BY_ID[t.id] = t;
    }

    private final int id;
    private final int blockSize;
    private final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    public int id() {
        return id;
    }

    /** Weights per block (1 for plain element types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    /** True for the types {@link GgmlCodec#dequantize} turns into floats. */
    public boolean readable() {
        return switch (this) {
            case F32, F16, BF16, Q8_0, TQ1_0, TQ2_0 -> true;
            default -> false;
        };
    }

    /** Bytes of {@code elements} weights; blocks never straddle rows, so a partial block is an error. */
    public long bytes(long elements) {
        if (elements < 0 || elements % blockSize != 0) {
            throw new TernException(elements + " elements of " + name() + " are not a whole number of "
                    + blockSize + "-weight blocks");
        }
        try {
            return Math.multiplyExact(elements / blockSize, (long) typeSize);
        } catch (ArithmeticException e) {
            throw new TernException(elements + " elements of " + name() + " overflow a byte count");
        }
    }

    public static GgmlType of(int id) {
        GgmlType t = byId(id);
        if (t == null) throw new TernException("unknown GGML tensor type " + Integer.toUnsignedString(id));
        return t;
    }

    /** The type with this id, or null. */
    static GgmlType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
