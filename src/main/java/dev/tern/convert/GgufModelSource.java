package dev.tern.convert;

import dev.tern.TernException;
import dev.tern.format.TernaryMatrix;
import dev.tern.io.TensorSource;
import dev.tern.io.gguf.GgmlCodec;
import dev.tern.io.gguf.GgmlType;
import dev.tern.io.gguf.GgufFile;
import dev.tern.io.gguf.GgufTensorInfo;
import dev.tern.model.ModelConfig;
import dev.tern.tokenizer.GgufVocab;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A GGUF model seen the way Tern loads every model: Hugging Face tensor names and row order, its config and its
 * tokenizer. Float tensors are converted when asked for; TQ1_0/TQ2_0 layers can be taken as packed ternary layers.
 */
public final class GgufModelSource implements TensorSource {
    private final GgufFile file;
    private final ModelConfig config;
    private final boolean interleaved;
    private final Map<String, GgufTensorInfo> byHfName = new LinkedHashMap<>();

    private GgufModelSource(GgufFile file) {
        this.file = file;
        this.config = GgufArch.readConfig(file);
        this.interleaved = GgufArch.interleavedRope(file.metadata().requireString("general.architecture"));
        for (GgufTensorInfo t : file.tensors()) {
            String hf = GgufArch.hfName(t.name());
            if (hf != null) byHfName.put(hf, t);
        }
    }

    public static GgufModelSource open(Path path) {
        GgufFile f = GgufFile.open(path);
        try {
            return new GgufModelSource(f);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    public GgufFile file() {
        return file;
    }

    public GgufVocab vocab() {
        return GgufVocabs.read(file.metadata(), file.path().toString());
    }

    @Override
    public Set<String> names() {
        return byHfName.keySet();
    }

    @Override
    public boolean has(String name) {
        return byHfName.containsKey(name);
    }

    private GgufTensorInfo info(String name) {
        GgufTensorInfo t = byHfName.get(name);
        if (t == null) throw new TernException(file.path() + ": no tensor for " + name);
        return t;
    }

    @Override
    public long[] shape(String name) {
        return info(name).shape();
    }

    @Override
    public String dtype(String name) {
        return info(name).type().name();
    }

    @Override
    public float[] floats(String name) {
        GgufTensorInfo t = info(name);
        float[] w = file.floats(t.name());
        int heads = interleaved ? GgufArch.ropeHeads(name, config) : 0;
        if (heads > 0) {
            long[] s = t.shape();
            w = GgufArch.reorderRows(w, (int) s[1], GgufArch.fromInterleavedRows((int) s[0], heads));
        }
        return w;
    }

    /** Whether any projection layer is stored as TQ1_0/TQ2_0 (what {@link #ternaryLayers} would return), without decoding. */
    public boolean hasTernaryLayers() {
        for (var e : byHfName.entrySet()) {
            if (isTernaryLayer(e.getKey(), e.getValue())) return true;
        }
        return false;
    }

    private static boolean isTernaryLayer(String hf, GgufTensorInfo t) {
        return (t.type() == GgmlType.TQ1_0 || t.type() == GgmlType.TQ2_0) && hf.startsWith("model.layers.")
                && hf.endsWith(".weight") && t.ne().length == 2;
    }

    /**
     * The TQ1_0/TQ2_0 projection layers as Tern ternary matrices (w = d·t per 256 columns of a row, no offset, no
     * permutation), keyed by layer prefix ("model.layers.0.self_attn.q_proj"), so that they run on the packed kernels.
     */
    public Map<String, TernaryMatrix> ternaryLayers() {
        Map<String, TernaryMatrix> out = new LinkedHashMap<>();
        byHfName.forEach((hf, t) -> {
            if (!isTernaryLayer(hf, t)) return;
            int rows = Math.toIntExact(t.ne()[1]), cols = Math.toIntExact(t.ne()[0]);
            GgmlCodec.Ternary tq = GgmlCodec.decodeTernary(t.type(), file.data(t.name()), rows, cols);
            byte[] codes = tq.trits();
            float[] d = tq.d();
            int heads = interleaved ? GgufArch.ropeHeads(hf, config) : 0;
            if (heads > 0) {
                int[] src = GgufArch.fromInterleavedRows(rows, heads);
                codes = GgufArch.reorderRows(codes, cols, src);
                d = GgufArch.reorderRows(d, cols / 256, src);
            }
            out.put(hf.substring(0, hf.length() - ".weight".length()),
                    new TernaryMatrix(rows, cols, 256, codes, d, new float[d.length], null));
        });
        return out;
    }

    @Override
    public Map<String, String> metadata() {
        return file.metadata().asStrings();
    }

    @Override
    public void close() {
        file.close();
    }
}
