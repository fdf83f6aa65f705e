package dev.tern.convert;

import dev.tern.TernException;
import dev.tern.format.QuantizedMatrix;
import dev.tern.format.TernCheckpoint;
import dev.tern.format.TernaryMatrix;
import dev.tern.io.ModelDir;
import dev.tern.io.TensorSource;
import dev.tern.io.gguf.GgmlCodec;
import dev.tern.io.gguf.GgmlType;
import dev.tern.io.gguf.GgufWriter;
import dev.tern.model.ModelConfig;
import dev.tern.tokenizer.GgufVocab;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Writes a Tern model (a Tern checkpoint, a float model folder, or a GGUF file) as a GGUF file llama.cpp loads:
 * ternary layers that one f16 scale per 256 weights holds exactly become TQ2_0/TQ1_0, everything else F16 or F32.
 */
public final class GgufExporter {
    /** What was written: tensors per GGML type, layers that fell back to F16, bytes. */
    public record Summary(Path out, Map<GgmlType, Integer> tensorsByType, List<String> fallbacks, long bytes, double seconds) {}

    /** Export settings; type is tq2_0, tq1_0, f16 or f32. */
    public record Settings(Path model, Path out, String type, boolean strict, String name) {
        public Settings {
            type = type.toLowerCase(Locale.ROOT);
            GgufArch.fileType(type);
        }
    }

    private GgufExporter() {}

    public static Summary export(Settings s, Consumer<String> log) {
        long t0 = System.nanoTime();
        Path model = s.model();
        if (!Files.exists(model)) throw new TernException("model not found: " + model);
        if (s.out().toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize())) {
            throw new TernException("--gguf " + s.out() + " would overwrite the model it is exported from");
        }
        Source src = Source.open(model);
        try {
            return write(s, src, log, t0);
        } finally {
            src.tensors.close();
        }
    }

    /** Config, float tensors, quantized layers and vocabulary of whatever the user pointed at. */
    private record Source(ModelConfig config, TensorSource tensors, Map<String, ? extends QuantizedMatrix> layers, GgufVocab vocab,
            String kind) {
        static Source open(Path model) {
            if (Files.isRegularFile(model) && GgufFiles.looksLikeGguf(model)) {
                GgufModelSource g = GgufModelSource.open(model);
                try {
                    return new Source(g.config(), g, g.ternaryLayers(), g.vocab(), "gguf");
                } catch (RuntimeException e) {
                    g.close();
                    throw e;
                }
            }
            if (TernCheckpoint.isCheckpoint(model)) {
                ModelConfig c = ModelConfig.read(model.resolve("config.json"));
                GgufVocab v = GgufVocabs.ofFolder(model, c);
                TernCheckpoint.Contents cp = TernCheckpoint.read(model);
                return new Source(c, cp.file(), cp.layers(), v, "tern checkpoint");
            }
            ModelDir md = ModelDir.open(model);
            ModelConfig c = md.config();
            GgufVocab v = md.format() == ModelDir.Format.LLAMA2C && md.llama2cTokenizer().isPresent()
                    ? GgufVocab.fromLlama2c(md.llama2cTokenizer().get(), c.vocabSize())
                    : GgufVocabs.ofFolder(model, c);
            return new Source(c, md.openWeights(), Map.of(), v, "float model");
        }
    }

    private static Summary write(Settings s, Source src, Consumer<String> log, long t0) {
        ModelConfig c = src.config();
        boolean ternaryType = s.type().startsWith("tq");
        if (ternaryType && src.layers().isEmpty()) {
            throw new TernException(s.model() + " is a " + src.kind() + " with no ternary layers; quantize it first (./tern quantize"
                    + " --tq-exact) or export it with --type f16 or f32");
        }
        if (src.vocab().tokens().size() != c.vocabSize()) {
            throw new TernException("the tokenizer has " + src.vocab().tokens().size() + " tokens but the embedding table "
                    + c.vocabSize() + " rows; llama.cpp needs one token per row");
        }
        int missing = missingByteTokens(src.vocab());
        if (missing > 0) {
            log.accept("export: note: the vocabulary has no token for " + missing + " of the 256 bytes (no <0xXX> byte tokens);"
                    + " Tern encodes such characters as <unk>, but llama.cpp stops with std::out_of_range on text that has them");
        }
        String arch = GgufArch.architecture(c);
        boolean interleaved = GgufArch.interleavedRope(arch);
        GgufWriter w = new GgufWriter();
        GgufArch.writeConfig(w, c, s.name() != null ? s.name() : defaultName(s.model()), s.type());
        GgufVocabs.write(w, src.vocab());
        Map<GgmlType, Integer> counts = new EnumMap<>(GgmlType.class);
        List<String> fallbacks = new ArrayList<>();
        for (String hf : tensorNames(c, src.tensors())) {
            String gguf = GgufArch.ggufName(hf);
            int heads = interleaved ? GgufArch.ropeHeads(hf, c) : 0;
            String prefix = hf.endsWith(".weight") ? hf.substring(0, hf.length() - ".weight".length()) : hf;
            QuantizedMatrix q = src.layers().get(prefix);
            GgmlType type;
            long[] shape;
            Supplier<byte[]> bytes;
            if (q != null) {
                shape = new long[] {q.rows(), q.cols()};
                String why = ternaryType ? whyNotExact(q) : null;
                if (ternaryType && why == null) {
                    type = s.type().equals("tq2_0") ? GgmlType.TQ2_0 : GgmlType.TQ1_0;
                    TernaryMatrix t = (TernaryMatrix) q;
                    GgmlType ty = type;
                    bytes = () -> encodeTernary(t, ty, heads);
                } else {
                    if (why != null) {
                        if (s.strict()) throw new TernException(hf + " " + why + "; it cannot be written as " + s.type().toUpperCase(Locale.ROOT)
                                + " exactly (--strict)");
                        log.accept("export: " + prefix + " " + why + "; written as F16");
                        fallbacks.add(prefix);
                    }
                    type = s.type().equals("f32") ? GgmlType.F32 : GgmlType.F16;
                    GgmlType ty = type;
                    bytes = () -> encodeFloat(reorder(q.dequantize(), q.cols(), heads), ty);
                }
            } else {
                shape = src.tensors().shape(hf);
                type = shape.length == 1 || s.type().equals("f32") ? GgmlType.F32 : GgmlType.F16;
                GgmlType ty = type;
                TensorSource ts = src.tensors();
                long[] sh = shape;
                bytes = () -> encodeFloat(reorder(ts.floats(hf), sh.length == 2 ? (int) sh[1] : 1, heads), ty);
            }
            w.addTensor(gguf, type, shape, lazy(type.bytes(shape[0] * (shape.length == 2 ? shape[1] : 1)), bytes));
            counts.merge(type, 1, Integer::sum);
        }
        if (c.ropeScaling() != null) {
            w.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {c.headDim() / 2},
                    GgufWriter.TensorBytes.of(GgmlCodec.encodeF32(GgufArch.llama3RopeFactors(c))));
            counts.merge(GgmlType.F32, 1, Integer::sum);
        }
        log.accept("export: writing " + s.out() + " (" + counts + ")");
        w.write(s.out());
        long size;
        try {
            size = Files.size(s.out());
        } catch (IOException e) {
            size = -1;
        }
        return new Summary(s.out(), counts, fallbacks, size, (System.nanoTime() - t0) / 1e9);
    }

    /** Bytes llama.cpp's SentencePiece byte fallback cannot find: neither a <0xXX> token nor a one-character token. */
    static int missingByteTokens(GgufVocab v) {
        if (!v.model().equals("llama")) return 0;
        java.util.Set<String> t = new java.util.HashSet<>(v.tokens());
        int missing = 0;
        for (int b = 0; b < 256; b++) {
            boolean found = t.contains(String.format("<0x%02X>", b)) || (b < 0x80 && t.contains(String.valueOf((char) b)));
            if (!found) missing++;
        }
        return missing;
    }

    /** Null when the layer maps exactly onto TQ1_0/TQ2_0 (w = d·t, one d per 256 consecutive weights of a row). */
    static String whyNotExact(QuantizedMatrix q) {
        if (!(q instanceof TernaryMatrix t)) return "is a " + q.kind() + " layer, not a single ternary grid";
        if (t.storesMu()) return "is asymmetric (an offset μ per group)";
        if (t.perm() != null && !isIdentity(t.perm())) return "stores a column permutation";
        if (t.cols() % 256 != 0) return "has rows of " + t.cols() + " weights, not a multiple of 256";
        if (t.groupSize() % 256 != 0 && t.groupSize() < t.cols()) return "has one scale per " + t.groupSize() + " weights, not per 256";
        return null;
    }

    private static boolean isIdentity(int[] p) {
        for (int i = 0; i < p.length; i++) if (p[i] != i) return false;
        return true;
    }

    private static byte[] encodeTernary(TernaryMatrix t, GgmlType type, int heads) {
        int rows = t.rows(), cols = t.cols(), blocks = cols / 256, groups = t.groups();
        int[] src = heads > 0 ? GgufArch.toInterleavedRows(rows, heads) : null;
        byte[] trits = src == null ? t.codes() : GgufArch.reorderRows(t.codes(), cols, src);
        float[] d = new float[rows * blocks];
        for (int r = 0; r < rows; r++) {
            int sr = src == null ? r : src[r];
            for (int b = 0; b < blocks; b++) d[r * blocks + b] = t.alpha()[sr * groups + (b * 256) / t.groupSize()];
        }
        return type == GgmlType.TQ2_0 ? GgmlCodec.encodeTq2_0(trits, rows, cols, d) : GgmlCodec.encodeTq1_0(trits, rows, cols, d);
    }

    private static float[] reorder(float[] w, int cols, int heads) {
        if (heads == 0) return w;
        return GgufArch.reorderRows(w, cols, GgufArch.toInterleavedRows(w.length / cols, heads));
    }

    private static byte[] encodeFloat(float[] v, GgmlType type) {
        return type == GgmlType.F32 ? GgmlCodec.encodeF32(v) : GgmlCodec.encodeF16(v);
    }

    private static GgufWriter.TensorBytes lazy(long size, Supplier<byte[]> bytes) {
        // Each tensor is converted only when the writer reaches it, so one tensor is on the heap at a time.
        return new GgufWriter.TensorBytes() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public void writeTo(WritableByteChannel out) throws IOException {
                byte[] b = bytes.get();
                if (b.length != size) throw new IllegalStateException("tensor encoded to " + b.length + " bytes, expected " + size);
                ByteBuffer buf = ByteBuffer.wrap(b);
                while (buf.hasRemaining()) out.write(buf);
            }
        };
    }

    /** The tensors llama.cpp expects for this config, in its converter's order; the head only when untied. */
    static List<String> tensorNames(ModelConfig c, TensorSource src) {
        List<String> n = new ArrayList<>();
        n.add("model.embed_tokens.weight");
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            n.add(p + "input_layernorm.weight");
            for (String x : List.of("q", "k", "v")) {
                n.add(p + "self_attn." + x + "_proj.weight");
                if (c.qkvBias()) n.add(p + "self_attn." + x + "_proj.bias");
            }
            if (c.qkNorm()) {
                n.add(p + "self_attn.q_norm.weight");
                n.add(p + "self_attn.k_norm.weight");
            }
            n.add(p + "self_attn.o_proj.weight");
            n.add(p + "post_attention_layernorm.weight");
            n.add(p + "mlp.gate_proj.weight");
            n.add(p + "mlp.up_proj.weight");
            n.add(p + "mlp.down_proj.weight");
        }
        n.add("model.norm.weight");
        if (!c.tiedEmbeddings() && src.has("lm_head.weight")) n.add("lm_head.weight");
        return n;
    }

    private static String defaultName(Path model) {
        Path f = model.toAbsolutePath().normalize().getFileName();
        String s = f == null ? "model" : f.toString();
        return s.endsWith(".gguf") ? s.substring(0, s.length() - 5) : s;
    }
}
