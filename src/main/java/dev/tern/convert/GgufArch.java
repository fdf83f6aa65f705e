package dev.tern.convert;

import dev.tern.TernException;
import dev.tern.io.gguf.GgufFile;
import dev.tern.io.gguf.GgufMetadata;
import dev.tern.io.gguf.GgufWriter;
import dev.tern.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How Tern's Hugging Face view of a LLaMA-family model maps onto llama.cpp's GGUF conventions: architecture keys,
 * tensor names, and the q/k row order of llama.cpp's interleaved RoPE.
 */
public final class GgufArch {
    private GgufArch() {}

    /** llama.cpp's `general.file_type` values (LlamaFileType) for the types Tern writes. */
    public static int fileType(String type) {
        return switch (type) {
            case "f32" -> 0;
            case "f16" -> 1;
            case "tq1_0" -> 36;
            case "tq2_0" -> 37;
            default -> throw new TernException("unknown GGUF export type '" + type + "' (tq2_0, tq1_0, f16, f32)");
        };
    }

    /** The GGUF architecture name a config is written as; mistral is llama to llama.cpp. */
    public static String architecture(ModelConfig c) {
        return switch (c.modelType()) {
            case "llama", "mistral" -> "llama";
            case "qwen2" -> "qwen2";
            case "qwen3" -> "qwen3";
            default -> throw new TernException("cannot export model_type '" + c.modelType() + "' to GGUF");
        };
    }

    /**
     * llama.cpp applies RoPE to adjacent pairs for `llama` but to the two halves of each head for qwen2/qwen3, as
     * Hugging Face does for all of them: llama's q and k rows are reordered on the way out and back on the way in.
     */
    public static boolean interleavedRope(String arch) {
        return arch.equals("llama");
    }

    /** Writes the architecture keys llama.cpp's converter writes for this config. */
    public static void writeConfig(GgufWriter w, ModelConfig c, String name, String type) {
        String a = architecture(c);
        w.putString("general.architecture", a);
        w.putString("general.name", name);
        w.putU32(a + ".vocab_size", c.vocabSize());
        w.putU32(a + ".context_length", c.maxPositions());
        w.putU32(a + ".embedding_length", c.hiddenSize());
        w.putU32(a + ".block_count", c.numLayers());
        w.putU32(a + ".feed_forward_length", c.intermediateSize());
        w.putU32(a + ".rope.dimension_count", c.headDim());
        w.putU32(a + ".attention.head_count", c.numHeads());
        w.putU32(a + ".attention.head_count_kv", c.numKvHeads());
        if (c.headDim() * c.numHeads() != c.hiddenSize()) {
            w.putU32(a + ".attention.key_length", c.headDim());
            w.putU32(a + ".attention.value_length", c.headDim());
        }
        w.putF32(a + ".attention.layer_norm_rms_epsilon", (float) c.rmsNormEps());
        w.putF32(a + ".rope.freq_base", (float) c.ropeTheta());
        w.putU32("general.file_type", fileType(type));
        w.putU32("general.quantization_version", 2);
    }

    /** The llama3 RoPE frequency factors llama.cpp reads from `rope_freqs.weight` (one per rotated pair). */
    public static float[] llama3RopeFactors(ModelConfig c) {
        ModelConfig.RopeScaling s = c.ropeScaling();
        int half = c.headDim() / 2;
        float[] f = new float[half];
        double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
        for (int i = 0; i < half; i++) {
            double freq = 1.0 / Math.pow(c.ropeTheta(), 2.0 * i / c.headDim());
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) f[i] = 1f;
            else if (wavelen > lowWavelen) f[i] = (float) s.factor();
            else {
                double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                f[i] = (float) (1 / ((1 - smooth) / s.factor() + smooth));
            }
        }
        return f;
    }

    /** A GGUF file's architecture keys and tensor shapes as a Tern config; refuses what Tern cannot run, in one line. */
    public static ModelConfig readConfig(GgufFile f) {
        GgufMetadata md = f.metadata();
        String where = f.path().toString();
        String a = md.string("general.architecture").orElseThrow(() -> new TernException(where + ": no general.architecture"));
        String type = switch (a) {
            case "llama" -> "llama";
            case "qwen2" -> "qwen2";
            case "qwen3" -> "qwen3";
            default -> throw new TernException(where + ": unsupported GGUF architecture '" + a + "' (Tern runs llama, qwen2, qwen3)");
        };
        if (f.has("rope_freqs.weight") || md.string(a + ".rope.scaling.type").filter(s -> !s.equals("none")).isPresent()) {
            throw new TernException(where + ": RoPE scaling in GGUF (rope_freqs / " + a + ".rope.scaling.type) is not supported");
        }
        if (md.has(a + ".expert_count") && md.integer(a + ".expert_count").orElse(0) > 0) {
            throw new TernException(where + ": mixture-of-experts models are not supported");
        }
        int hidden = u32(md, a + ".embedding_length", where);
        int heads = u32(md, a + ".attention.head_count", where);
        int kvHeads = md.has(a + ".attention.head_count_kv") ? u32(md, a + ".attention.head_count_kv", where) : heads;
        int headDim = md.has(a + ".attention.key_length") ? u32(md, a + ".attention.key_length", where)
                : (heads > 0 ? hidden / heads : 0);
        if (md.has(a + ".rope.dimension_count") && u32(md, a + ".rope.dimension_count", where) != headDim) {
            throw new TernException(where + ": partial RoPE (rope.dimension_count " + md.integer(a + ".rope.dimension_count").getAsLong()
                    + " of head size " + headDim + ") is not supported");
        }
        if (!f.has("token_embd.weight")) throw new TernException(where + ": no token_embd.weight tensor");
        long[] emb = f.shape("token_embd.weight");
        if (emb.length != 2 || emb[1] != hidden) {
            throw new TernException(where + ": token_embd.weight has shape " + java.util.Arrays.toString(emb) + ", expected [vocab, " + hidden + "]");
        }
        int vocab = Math.toIntExact(emb[0]);
        int ctx = md.has(a + ".context_length") ? u32(md, a + ".context_length", where) : 2048;
        double theta = md.number(a + ".rope.freq_base").orElse(10000.0);
        double eps = md.number(a + ".attention.layer_norm_rms_epsilon").orElse(1e-6);
        boolean bias = f.has("blk.0.attn_q.bias");
        int bos = (int) md.integer("tokenizer.ggml.bos_token_id").orElse(-1);
        List<Integer> eos = new ArrayList<>();
        if (md.has("tokenizer.ggml.eos_token_id")) eos.add((int) md.integer("tokenizer.ggml.eos_token_id").getAsLong());
        if (md.has("tokenizer.ggml.eot_token_id")) {
            int eot = (int) md.integer("tokenizer.ggml.eot_token_id").getAsLong();
            if (!eos.contains(eot)) eos.add(eot);
        }
        return new ModelConfig(type, hidden, u32(md, a + ".feed_forward_length", where), u32(md, a + ".block_count", where),
                heads, kvHeads, headDim, vocab, ctx, theta, eps, !f.has("output.weight"), bias, type.equals("qwen3"), null,
                bos, eos);
    }

    private static int u32(GgufMetadata md, String key, String where) {
        if (!md.has(key)) throw new TernException(where + ": missing metadata key " + key);
        var t = md.type(key);
        if (t == dev.tern.io.gguf.GgufValueType.ARRAY) {
            throw new TernException(where + ": " + key + " varies per layer; Tern needs one value for all blocks");
        }
        long v = md.requireInteger(key);
        if (v <= 0 || v > Integer.MAX_VALUE) throw new TernException(where + ": " + key + " = " + v + " is out of range");
        return (int) v;
    }

    private static final Map<String, String> LAYER_NAMES = Map.ofEntries(
            Map.entry("input_layernorm.weight", "attn_norm.weight"),
            Map.entry("self_attn.q_proj.weight", "attn_q.weight"),
            Map.entry("self_attn.k_proj.weight", "attn_k.weight"),
            Map.entry("self_attn.v_proj.weight", "attn_v.weight"),
            Map.entry("self_attn.o_proj.weight", "attn_output.weight"),
            Map.entry("self_attn.q_proj.bias", "attn_q.bias"),
            Map.entry("self_attn.k_proj.bias", "attn_k.bias"),
            Map.entry("self_attn.v_proj.bias", "attn_v.bias"),
            Map.entry("self_attn.q_norm.weight", "attn_q_norm.weight"),
            Map.entry("self_attn.k_norm.weight", "attn_k_norm.weight"),
            Map.entry("post_attention_layernorm.weight", "ffn_norm.weight"),
            Map.entry("mlp.gate_proj.weight", "ffn_gate.weight"),
            Map.entry("mlp.up_proj.weight", "ffn_up.weight"),
            Map.entry("mlp.down_proj.weight", "ffn_down.weight"));
    private static final Map<String, String> LAYER_NAMES_BACK = invert(LAYER_NAMES);
    private static final Map<String, String> TOP_NAMES = Map.of(
            "model.embed_tokens.weight", "token_embd.weight",
            "model.norm.weight", "output_norm.weight",
            "lm_head.weight", "output.weight");
    private static final Map<String, String> TOP_NAMES_BACK = invert(TOP_NAMES);
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.(.+)");

    /** The GGUF name of a Hugging Face tensor name, or null for a tensor llama.cpp has no use for. */
    public static String ggufName(String hf) {
        String top = TOP_NAMES.get(hf);
        if (top != null) return top;
        Matcher m = HF_LAYER.matcher(hf);
        if (!m.matches()) return null;
        String rest = LAYER_NAMES.get(m.group(2));
        return rest == null ? null : "blk." + m.group(1) + "." + rest;
    }

    /** The Hugging Face name of a GGUF tensor name, or null for one Tern does not use. */
    public static String hfName(String gguf) {
        String top = TOP_NAMES_BACK.get(gguf);
        if (top != null) return top;
        Matcher m = GGUF_LAYER.matcher(gguf);
        if (!m.matches()) return null;
        String rest = LAYER_NAMES_BACK.get(m.group(2));
        return rest == null ? null : "model.layers." + m.group(1) + "." + rest;
    }

    /** Heads whose rows a tensor's RoPE reordering runs over (q: attention heads, k: KV heads), or 0 for none. */
    public static int ropeHeads(String hfName, ModelConfig c) {
        if (hfName.endsWith("self_attn.q_proj.weight")) return c.numHeads();
        if (hfName.endsWith("self_attn.k_proj.weight")) return c.numKvHeads();
        return 0;
    }

    /**
     * Row order for llama.cpp's interleaved RoPE: GGUF row (head, i, j) = h·d + 2i + j holds Hugging Face row
     * h·d + j·d/2 + i, so result[g] is the HF row that GGUF row g takes.
     */
    public static int[] toInterleavedRows(int rows, int heads) {
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new TernException("cannot reorder " + rows + " rows into " + heads + " RoPE heads");
        }
        int d = rows / heads, half = d / 2;
        int[] src = new int[rows];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) src[h * d + 2 * i + j] = h * d + j * half + i;
            }
        }
        return src;
    }

    /** The inverse of {@link #toInterleavedRows}: result[r] is the GGUF row that HF row r comes from. */
    public static int[] fromInterleavedRows(int rows, int heads) {
        int[] to = toInterleavedRows(rows, heads);
        int[] back = new int[rows];
        for (int g = 0; g < rows; g++) back[to[g]] = g;
        return back;
    }

    /** Rows of a row-major [rows][cols] float matrix reordered: out row r = in row src[r]. */
    public static float[] reorderRows(float[] w, int cols, int[] src) {
        float[] out = new float[w.length];
        for (int r = 0; r < src.length; r++) System.arraycopy(w, src[r] * cols, out, r * cols, cols);
        return out;
    }

    /** {@link #reorderRows(float[], int, int[])} for trits. */
    public static byte[] reorderRows(byte[] w, int cols, int[] src) {
        byte[] out = new byte[w.length];
        for (int r = 0; r < src.length; r++) System.arraycopy(w, src[r] * cols, out, r * cols, cols);
        return out;
    }

    private static Map<String, String> invert(Map<String, String> m) {
        Map<String, String> out = new java.util.HashMap<>();
        m.forEach((k, v) -> out.put(v, k));
        return Map.copyOf(out);
    }
}
