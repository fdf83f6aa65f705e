package dev.tern.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TernException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Architecture hyper-parameters of a LLaMA-family decoder (llama, mistral, qwen2, qwen3).
 *
 * @param qkvBias     q/k/v projections carry a bias (qwen2)
 * @param qkNorm      per-head RMSNorm on q and k before RoPE (qwen3)
 * @param ropeScaling null, or the llama3 frequency-scaling parameters
 */
public record ModelConfig(
        String modelType,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        double ropeTheta,
        double rmsNormEps,
        boolean tiedEmbeddings,
        boolean qkvBias,
        boolean qkNorm,
        RopeScaling ropeScaling,
        int bosTokenId,
        List<Integer> eosTokenIds) {

    /** Llama-3.1 style RoPE frequency scaling. */
    public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        /** The llama3 formula divides by factor and by (high - low): reject values that would make RoPE NaN. */
        public RopeScaling {
            if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || Double.isInfinite(factor)
                    || Double.isInfinite(highFreqFactor) || originalMaxPositions <= 0) {
                throw new TernException("config: invalid llama3 rope_scaling (factor " + factor + ", low_freq_factor "
                        + lowFreqFactor + ", high_freq_factor " + highFreqFactor + ", original_max_position_embeddings "
                        + originalMaxPositions + ")");
            }
        }
    }

    public static final Set<String> SUPPORTED_TYPES = Set.of("llama", "mistral", "qwen2", "qwen3");

    public ModelConfig {
        if (hiddenSize <= 0 || intermediateSize <= 0 || numLayers <= 0 || numHeads <= 0 || numKvHeads <= 0
                || headDim <= 0 || vocabSize <= 0 || maxPositions <= 0) {
            throw new TernException("config: sizes must be positive (hidden_size, intermediate_size, num_hidden_layers,"
                    + " num_attention_heads, num_key_value_heads, head_dim, vocab_size, max_position_embeddings)");
        }
        if (numHeads % numKvHeads != 0) {
            throw new TernException("config: num_attention_heads (" + numHeads + ") is not a multiple of num_key_value_heads ("
                    + numKvHeads + ")");
        }
        if (headDim % 2 != 0) throw new TernException("config: head_dim must be even for RoPE, got " + headDim);
        if (hiddenSize > 1 << 16 || intermediateSize > 1 << 18 || numLayers > 1024 || vocabSize > 1 << 22 || headDim > 1024) {
            throw new TernException("config: implausibly large sizes (hidden " + hiddenSize + ", intermediate "
                    + intermediateSize + ", layers " + numLayers + ", vocab " + vocabSize + ")");
        }
        // Derived sizes drive allocations (projections, the RoPE table): bound them too, in long arithmetic.
        if ((long) numHeads * headDim > 1 << 16 || (long) numKvHeads * headDim > 1 << 16
                || (long) maxPositions * headDim > 1 << 28) {
            throw new TernException("config: implausibly large attention sizes (num_attention_heads " + numHeads
                    + ", num_key_value_heads " + numKvHeads + ", head_dim " + headDim + ", max_position_embeddings "
                    + maxPositions + ")");
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta) || !(rmsNormEps >= 0) || Double.isInfinite(rmsNormEps)) {
            throw new TernException("config: rope_theta must be positive and rms_norm_eps non-negative (got "
                    + ropeTheta + ", " + rmsNormEps + ")");
        }
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** {out, in} of one block's seven projections, in the order q, k, v, o, gate, up, down. */
    public int[][] projectionShapes() {
        int h = hiddenSize, m = intermediateSize;
        return new int[][] {{qDim(), h}, {kvDim(), h}, {kvDim(), h}, {h, qDim()}, {m, h}, {m, h}, {h, m}};
    }

    /** Weights in one block's seven projections (q, k, v, o, gate, up, down): what memory estimates scale with. */
    public long projectionWeightsPerLayer() {
        long h = hiddenSize;
        return 2 * h * qDim() + 2 * h * kvDim() + 3 * h * intermediateSize;
    }

    /** Window length used for calibration and perplexity: min(2048, context). */
    public int evalWindow() {
        return Math.min(2048, maxPositions);
    }

    public static ModelConfig read(Path configJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(configJson));
        } catch (NoSuchFileException e) {
            throw new TernException("missing " + configJson);
        } catch (IOException e) {
            throw new TernException("malformed " + configJson + ": " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) throw new TernException("malformed " + configJson + ": not a JSON object");
        return fromJson(root, configJson.toString());
    }

    public static ModelConfig fromJson(JsonNode c, String where) {
        String type = c.path("model_type").asText("");
        if (type.isEmpty()) throw new TernException(where + ": no model_type");
        if (!SUPPORTED_TYPES.contains(type)) {
            throw new TernException(where + ": unsupported model_type '" + type + "' (Tern supports "
                    + String.join(", ", SUPPORTED_TYPES.stream().sorted().toList()) + ")");
        }
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu") && !act.equals("swish")) {
            throw new TernException(where + ": unsupported hidden_act '" + act + "' (only silu/SwiGLU)");
        }
        int hidden = intField(c, "hidden_size", where, -1);
        int heads = intField(c, "num_attention_heads", where, -1);
        int kvHeads = intField(c, "num_key_value_heads", where, heads);
        int headDim = c.hasNonNull("head_dim") ? intField(c, "head_dim", where, -1) : (heads > 0 ? hidden / heads : 0);
        if (!c.hasNonNull("head_dim") && heads > 0 && hidden % heads != 0) {
            throw new TernException(where + ": hidden_size " + hidden + " not divisible by num_attention_heads " + heads);
        }
        RopeScaling scaling = null;
        JsonNode rs = c.path("rope_scaling");
        if (rs.isObject()) {
            String rt = rs.path("rope_type").asText(rs.path("type").asText(""));
            if (rt.equals("llama3")) {
                scaling = new RopeScaling(rs.path("factor").asDouble(8.0), rs.path("low_freq_factor").asDouble(1.0),
                        rs.path("high_freq_factor").asDouble(4.0),
                        rs.path("original_max_position_embeddings").asInt(8192));
            } else if (!rt.isEmpty() && !rt.equals("default")) {
                throw new TernException(where + ": unsupported rope_scaling type '" + rt + "' (supported: llama3)");
            }
        }
        List<Integer> eos = new ArrayList<>();
        JsonNode e = c.path("eos_token_id");
        if (e.isArray()) e.forEach(n -> eos.add(n.asInt()));
        else if (e.isInt()) eos.add(e.asInt());
        boolean qkvBias = type.equals("qwen2") || c.path("attention_bias").asBoolean(false);
        return new ModelConfig(type, hidden, intField(c, "intermediate_size", where, -1),
                intField(c, "num_hidden_layers", where, -1), heads, kvHeads, headDim,
                intField(c, "vocab_size", where, -1), intField(c, "max_position_embeddings", where, 2048),
                c.path("rope_theta").asDouble(10000.0), c.path("rms_norm_eps").asDouble(1e-6),
                c.path("tie_word_embeddings").asBoolean(false),
                qkvBias, type.equals("qwen3"), scaling, c.path("bos_token_id").asInt(-1), eos);
    }

    /** A Hugging Face-style config.json for this configuration (used when the source had none, e.g. llama2.c). */
    public com.fasterxml.jackson.databind.node.ObjectNode toJson() {
        var o = new ObjectMapper().createObjectNode();
        o.putArray("architectures").add(modelType.equals("llama") ? "LlamaForCausalLM" : modelType);
        o.put("model_type", modelType);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numLayers);
        o.put("num_attention_heads", numHeads);
        o.put("num_key_value_heads", numKvHeads);
        o.put("head_dim", headDim);
        o.put("vocab_size", vocabSize);
        o.put("max_position_embeddings", maxPositions);
        o.put("rope_theta", ropeTheta);
        o.put("rms_norm_eps", rmsNormEps);
        o.put("tie_word_embeddings", tiedEmbeddings);
        o.put("attention_bias", qkvBias);
        o.put("hidden_act", "silu");
        o.put("bos_token_id", bosTokenId);
        var eos = o.putArray("eos_token_id");
        eosTokenIds.forEach(eos::add);
        if (ropeScaling != null) {
            var r = o.putObject("rope_scaling");
            r.put("rope_type", "llama3");
            r.put("factor", ropeScaling.factor());
            r.put("low_freq_factor", ropeScaling.lowFreqFactor());
            r.put("high_freq_factor", ropeScaling.highFreqFactor());
            r.put("original_max_position_embeddings", ropeScaling.originalMaxPositions());
        }
        return o;
    }

    private static int intField(JsonNode c, String name, String where, int dflt) {
        JsonNode n = c.get(name);
        if (n == null || n.isNull()) {
            if (dflt >= 0) return dflt;
            throw new TernException(where + ": missing " + name);
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber()) throw new TernException(where + ": " + name + " is not an integer");
        return n.asInt();
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable";
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
