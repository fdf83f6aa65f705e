package dev.tern.model;

/**
 * Rotary position embedding in the Hugging Face "rotate half" convention: within each head, element i pairs with
 * element i + headDim/2. llama2.c checkpoints are converted to this convention when loaded.
 */
public final class Rope {
    private final int half;
    private final float[] cos, sin; // [position][half]

    public Rope(ModelConfig c, int maxPositions) {
        int d = c.headDim();
        half = d / 2;
        double[] invFreq = new double[half];
        for (int i = 0; i < half; i++) invFreq[i] = 1.0 / StrictMath.pow(c.ropeTheta(), (2.0 * i) / d);
        if (c.ropeScaling() != null) scaleLlama3(invFreq, c.ropeScaling());
        cos = new float[maxPositions * half];
        sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * invFreq[i];
                cos[p * half + i] = (float) StrictMath.cos(a);
                sin[p * half + i] = (float) StrictMath.sin(a);
            }
        }
    }

    /** Llama-3.1 frequency scaling: long wavelengths are slowed by `factor`, short ones kept, the band between blended. */
    private static void scaleLlama3(double[] invFreq, ModelConfig.RopeScaling s) {
        double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
        for (int i = 0; i < invFreq.length; i++) {
            double wavelen = 2 * Math.PI / invFreq[i];
            if (wavelen > lowWavelen) {
                invFreq[i] /= s.factor();
            } else if (wavelen >= highWavelen) {
                double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                invFreq[i] = (1 - smooth) * invFreq[i] / s.factor() + smooth * invFreq[i];
            }
        }
    }

    public int maxPositions() {
        return cos.length / half;
    }

    /** Rotates `heads` consecutive heads of v (starting at off) in place for position pos. */
    public void apply(float[] v, int off, int heads, int pos) {
        int base = pos * half;
        int d = 2 * half;
        for (int h = 0; h < heads; h++) {
            int o = off + h * d;
            for (int i = 0; i < half; i++) {
                float c = cos[base + i], s = sin[base + i];
                float x1 = v[o + i], x2 = v[o + i + half];
                v[o + i] = x1 * c - x2 * s;
                v[o + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
