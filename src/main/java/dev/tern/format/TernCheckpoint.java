package dev.tern.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.TernException;
import dev.tern.io.SafetensorsFile;
import dev.tern.io.SafetensorsWriter;
import dev.tern.io.TensorSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The Tern checkpoint: one safetensors file holding the float tensors of the source (embeddings, norms, head, biases)
 * in their source dtype, and for every quantized linear layer its packed codes, f16 per-row-per-group parameters and
 * column permutation. Metadata key "tern.layers" describes each quantized layer; "tern.format" marks the file.
 *
 * <p>Format 2 (written now) stores nothing that cannot change Ŵ: the permutation only where a row holds more than one
 * group, and then as each column's group (".perm_groups", U8) when every group lists its columns in ascending order,
 * else as U16 indices up to 65,536 columns (I32 beyond); a ternary layer's μ only when some μ is non-zero.
 * Format 1 files (I32 permutation, μ always present) are still read.
 */
public final class TernCheckpoint {
    public static final String FORMAT_KEY = "tern.format";
    public static final String FORMAT_VERSION = "2";
    /** Older format versions this reader still accepts. */
    private static final Set<String> READABLE = Set.of("1", "2");
    public static final String LAYERS_KEY = "tern.layers";
    public static final String FILE = "model.safetensors";

    private TernCheckpoint() {}

    /** A checkpoint read back: its float tensors (the file itself) and the quantized layers by prefix. */
    public record Contents(SafetensorsFile file, Map<String, QuantizedMatrix> layers, Map<String, String> metadata) {}

    public static boolean isCheckpoint(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) return false;
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            return s.metadata().containsKey(FORMAT_KEY);
        } catch (TernException e) {
            return false;
        }
    }

    /**
     * Builds the checkpoint file: every tensor of `source` except the weights of quantized layers, plus the packed
     * layers. `quantized` is keyed by layer prefix ("model.layers.0.self_attn.q_proj").
     */
    public static SafetensorsWriter build(TensorSource source, Map<String, QuantizedMatrix> quantized, Map<String, String> metadata,
            boolean tiedEmbeddings) {
        SafetensorsWriter w = new SafetensorsWriter();
        Set<String> skip = new HashSet<>();
        for (String p : quantized.keySet()) skip.add(p + ".weight");
        // A tied table is written once: safetensors aliases are carried over as metadata (as the source had them),
        // and a tied head that a reader presents under both names (llama2.c) is dropped; loaders reuse the embeddings.
        Map<String, String> aliases = source instanceof SafetensorsFile sf ? sf.aliases() : Map.of();
        skip.addAll(aliases.keySet());
        if (tiedEmbeddings && aliases.isEmpty() && source.has("model.embed_tokens.weight")) skip.add("lm_head.weight");
        for (String name : new java.util.TreeSet<>(source.names())) {
            if (skip.contains(name)) continue;
            long[] shape = source.shape(name);
            float[] data = source.floats(name);
            switch (source.dtype(name)) {
                case "F16" -> w.addF16(name, shape, data);
                case "BF16" -> w.addBF16(name, shape, data);
                default -> w.addF32(name, shape, data);
            }
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode layers = json.createObjectNode();
        for (Map.Entry<String, QuantizedMatrix> e : new TreeMap<>(quantized).entrySet()) {
            addLayer(w, e.getKey(), e.getValue());
            ObjectNode d = layers.putObject(e.getKey());
            QuantizedMatrix q = e.getValue();
            d.put("kind", q.kind());
            d.put("rows", q.rows());
            d.put("cols", q.cols());
            d.put("group", q.groupSize());
            if (q instanceof UniformMatrix u) d.put("bits", u.bits());
            if (q instanceof TernaryMatrix t) d.put("mu", t.storesMu());
            d.put("permuted", q.perm() != null);
        }
        Map<String, String> meta = new TreeMap<>(metadata);
        meta.putAll(aliases);
        meta.put(FORMAT_KEY, FORMAT_VERSION);
        try {
            meta.put(LAYERS_KEY, json.writeValueAsString(layers));
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
        w.putMetadata(meta);
        return w;
    }

    /** A checkpoint-format file holding only quantized layers (no float tensors). */
    public static SafetensorsWriter buildLayers(Map<String, QuantizedMatrix> quantized, Map<String, String> metadata) {
        return build(EMPTY, quantized, metadata, false);
    }

    private static final TensorSource EMPTY = new TensorSource() {
        @Override public Set<String> names() { return Set.of(); }
        @Override public boolean has(String name) { return false; }
        @Override public long[] shape(String name) { throw new TernException("no tensor " + name); }
        @Override public String dtype(String name) { throw new TernException("no tensor " + name); }
        @Override public float[] floats(String name) { throw new TernException("no tensor " + name); }
        @Override public void close() {}
    };

    private static void addLayer(SafetensorsWriter w, String p, QuantizedMatrix q) {
        long rows = q.rows(), groups = q.groups();
        long[] params = {rows, groups};
        switch (q) {
            case TernaryMatrix t -> {
                w.addU8(p + ".t_codes", new long[] {rows, TritPacking.bytesPerRow(q.cols())}, TritPacking.packBase3(t.codes(), t.rows(), t.cols()));
                w.addF16(p + ".t_alpha", params, t.alpha());
                if (t.storesMu()) w.addF16(p + ".t_mu", params, t.mu());
            }
            case TritPlaneMatrix t -> {
                long[] cs = {rows, TritPacking.bytesPerRow(q.cols())};
                w.addU8(p + ".t_codes1", cs, TritPacking.packBase3(t.codes1(), t.rows(), t.cols()));
                w.addU8(p + ".t_codes2", cs, TritPacking.packBase3(t.codes2(), t.rows(), t.cols()));
                w.addF16(p + ".t_alpha1", params, t.alpha1());
                w.addF16(p + ".t_alpha2", params, t.alpha2());
            }
            case UniformMatrix u -> {
                w.addU8(p + ".u_codes", new long[] {rows, TritPacking.bitBytesPerRow(q.cols(), u.bits())},
                        TritPacking.packBits(u.codes(), u.rows(), u.cols(), u.bits()));
                w.addF16(p + ".u_scale", params, u.scale());
                w.addF16(p + ".u_zero", params, u.zero());
            }
        }
        if (q.perm() != null) {
            if (QuantizedMatrix.permBits(q.perm(), q.groupSize()) == 8L * q.cols()) {
                byte[] label = new byte[q.cols()];
                for (int j = 0; j < q.cols(); j++) label[q.perm()[j]] = (byte) (j / q.groupSize());
                w.addU8(p + ".perm_groups", new long[] {q.cols()}, label);
            } else if (q.cols() <= QuantizedMatrix.U16_PERM_COLS) w.addU16(p + ".perm", new long[] {q.cols()}, q.perm());
            else w.addI32(p + ".perm", new long[] {q.cols()}, q.perm());
        }
    }

    /** Opens a checkpoint and unpacks its quantized layers, validating every shape against the layer table. */
    public static Contents read(Path dir) {
        return readFile(dir.resolve(FILE));
    }

    /** As {@link #read(Path)}, for a checkpoint-format file under any name (e.g. the per-block files of a resumable run). */
    public static Contents readFile(Path f) {
        SafetensorsFile file = SafetensorsFile.open(f);
        try {
            Map<String, String> meta = file.metadata();
            if (!READABLE.contains(meta.get(FORMAT_KEY))) {
                throw new TernException(f + ": not a Tern checkpoint of format 1 or 2 (tern.format = " + meta.get(FORMAT_KEY)
                        + "); re-quantize it with this version of tern");
            }
            JsonNode layers;
            try {
                layers = new ObjectMapper().readTree(meta.getOrDefault(LAYERS_KEY, "{}"));
            } catch (java.io.IOException e) {
                throw new TernException(f + ": malformed " + LAYERS_KEY + " metadata");
            }
            if (!layers.isObject()) throw new TernException(f + ": malformed " + LAYERS_KEY + " metadata");
            Map<String, QuantizedMatrix> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = layers.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                out.put(e.getKey(), readLayer(file, f, e.getKey(), e.getValue()));
            }
            return new Contents(file, out, meta);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static QuantizedMatrix readLayer(SafetensorsFile s, Path f, String p, JsonNode d) {
        String kind = d.path("kind").asText("");
        int rows = positive(d, "rows", f, p), cols = positive(d, "cols", f, p), group = positive(d, "group", f, p);
        if ((long) rows * cols > Integer.MAX_VALUE) throw new TernException(f + ": layer " + p + " is too large");
        int groups = (cols + group - 1) / group;
        int[] perm = null;
        if (d.path("permuted").asBoolean(false)) {
            perm = s.has(p + ".perm_groups") ? fromGroups(bytes(s, f, p + ".perm_groups", cols), cols, group, f, p)
                    : ints(s, f, p + ".perm", cols);
        }
        try {
            return switch (kind) {
                case "ternary" -> new TernaryMatrix(rows, cols, group,
                        trits(s, f, p + ".t_codes", rows, cols), floats(s, f, p + ".t_alpha", rows, groups),
                        d.path("mu").asBoolean(true) ? floats(s, f, p + ".t_mu", rows, groups) : new float[rows * groups], perm);
                case "tritplane" -> new TritPlaneMatrix(rows, cols, group,
                        trits(s, f, p + ".t_codes1", rows, cols), trits(s, f, p + ".t_codes2", rows, cols),
                        floats(s, f, p + ".t_alpha1", rows, groups), floats(s, f, p + ".t_alpha2", rows, groups), perm);
                case "uniform" -> {
                    int bits = d.path("bits").asInt(0);
                    if (bits < 1 || bits > 8) throw new TernException(f + ": layer " + p + " has bits " + bits);
                    byte[] packed = bytes(s, f, p + ".u_codes", (long) rows * TritPacking.bitBytesPerRow(cols, bits));
                    yield new UniformMatrix(rows, cols, group, bits, TritPacking.unpackBits(packed, rows, cols, bits),
                            floats(s, f, p + ".u_scale", rows, groups), floats(s, f, p + ".u_zero", rows, groups), perm);
                }
                default -> throw new TernException(f + ": layer " + p + " has unknown kind '" + kind + "'");
            };
        } catch (IllegalArgumentException e) {
            throw new TernException(f + ": layer " + p + ": " + e.getMessage());
        }
    }

    private static int positive(JsonNode d, String key, Path f, String p) {
        JsonNode n = d.get(key);
        if (n == null || !n.canConvertToInt() || n.asInt() <= 0) throw new TernException(f + ": layer " + p + " has no valid " + key);
        return n.asInt();
    }

    private static byte[] bytes(SafetensorsFile s, Path f, String name, long expected) {
        if (!s.has(name)) throw new TernException(f + ": missing tensor " + name);
        var seg = s.segment(name);
        if (seg.byteSize() != expected || !s.dtype(name).equals("U8")) {
            throw new TernException(f + ": tensor " + name + " has " + seg.byteSize() + " bytes of " + s.dtype(name) + ", expected " + expected + " U8");
        }
        return seg.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    private static byte[] trits(SafetensorsFile s, Path f, String name, int rows, int cols) {
        return TritPacking.unpackBase3(bytes(s, f, name, (long) rows * TritPacking.bytesPerRow(cols)), rows, cols);
    }

    private static float[] floats(SafetensorsFile s, Path f, String name, int rows, int groups) {
        if (!s.has(name)) throw new TernException(f + ": missing tensor " + name);
        if (!Arrays.equals(s.shape(name), new long[] {rows, groups})) {
            throw new TernException(f + ": tensor " + name + " has shape " + Arrays.toString(s.shape(name)) + ", expected [" + rows + ", " + groups + "]");
        }
        return s.floats(name);
    }

    /** The permutation whose group g lists, in ascending order, the columns labelled g. */
    private static int[] fromGroups(byte[] label, int cols, int group, Path f, String p) {
        int groups = (cols + group - 1) / group;
        int[] start = new int[groups + 1];
        for (byte b : label) {
            int g = b & 0xff;
            if (g >= groups) throw new TernException(f + ": layer " + p + " labels a column with group " + g + " of " + groups);
            start[g + 1]++;
        }
        for (int g = 0; g < groups; g++) {
            int size = Math.min(group, cols - g * group);
            if (start[g + 1] != size) throw new TernException(f + ": layer " + p + " puts " + start[g + 1] + " columns in group " + g + ", expected " + size);
            start[g + 1] += start[g];
        }
        int[] perm = new int[cols];
        for (int c = 0; c < cols; c++) perm[start[label[c] & 0xff]++] = c;
        return perm;
    }

    /** A permutation's indices: U16 (format 2, up to 65,536 columns) or I32 (format 1, and larger layers). */
    private static int[] ints(SafetensorsFile s, Path f, String name, int n) {
        if (!s.has(name)) throw new TernException(f + ": missing tensor " + name);
        String dt = s.dtype(name);
        if (!(dt.equals("I32") || dt.equals("U16") && n <= QuantizedMatrix.U16_PERM_COLS) || !Arrays.equals(s.shape(name), new long[] {n})) {
            throw new TernException(f + ": tensor " + name + " must be U16 or I32 [" + n + "]");
        }
        int[] out = new int[n];
        var seg = s.segment(name);
        var le = java.nio.ByteOrder.LITTLE_ENDIAN;
        if (dt.equals("U16")) {
            for (int i = 0; i < n; i++) out[i] = Short.toUnsignedInt(seg.getAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), i));
        } else {
            for (int i = 0; i < n; i++) out[i] = seg.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), i);
        }
        return out;
    }
}
