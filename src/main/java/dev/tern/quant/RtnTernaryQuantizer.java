package dev.tern.quant;

/** Round-to-nearest ternary baseline: TWN only (no ITF/AGA), symmetric (mu = 0) or asymmetric (centred row). */
public final class RtnTernaryQuantizer implements GroupQuantizer {
    private final boolean asymmetric;

    public RtnTernaryQuantizer(boolean asymmetric) {
        this.asymmetric = asymmetric;
    }

    @Override
    public QuantFormat format() {
        return QuantFormat.TERNARY;
    }

    @Override
    public QuantizedBlock quantize(float[] w, int rows, int cols, double[] s) {
        QuantizedBlock b = QuantizedBlock.allocate(rows, cols, false);
        double[] alpha = new double[rows], mu = new double[rows];
        Atq.init(w, rows, cols, b.codes(), alpha, mu, !asymmetric);
        AtqQuantizer.fillTernary(b, alpha, mu);
        return b;
    }

    @Override
    public float requantize(QuantizedBlock b, int row, int col, float value) {
        return AtqQuantizer.requantizeTernary(b, row, col, value);
    }

    @Override
    public String toString() {
        return asymmetric ? "rtn-ternary-asym" : "rtn-ternary-sym";
    }
}
