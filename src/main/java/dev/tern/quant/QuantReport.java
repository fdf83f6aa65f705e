package dev.tern.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.TernException;
import dev.tern.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The quantization report a checkpoint folder carries: report.json (per layer and block, plus the run's settings) and
 * report.html, a self-contained page (inline SVG, no scripts or network) drawn from the same JSON.
 */
public final class QuantReport {
    public static final String JSON = "report.json";
    public static final String HTML = "report.html";
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String[] COLORS = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1"};

    private QuantReport() {}

    /** The report as JSON: settings (insertion order kept), totals, layers, blocks. */
    public static ObjectNode toJson(Map<String, Object> settings, LayerPipeline.Result r, double bitsPerWeight, long weights) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode s = root.putObject("settings");
        settings.forEach((k, v) -> s.putPOJO(k, v));
        ObjectNode t = root.putObject("totals");
        t.put("quantized_weights", weights);
        t.put("bits_per_weight", bitsPerWeight);
        t.put("seconds", r.seconds());
        t.put("peak_heap_bytes", r.peakHeapBytes());
        ArrayNode layers = root.putArray("layers");
        for (LayerStats l : r.stats()) {
            ObjectNode o = layers.addObject();
            o.put("name", l.name());
            o.put("block", l.block());
            o.put("layer", l.layer());
            o.put("rows", l.rows());
            o.put("cols", l.cols());
            o.put("stored_bits", l.storedBits());
            o.put("bits_per_weight", l.bitsPerWeight());
            o.put("weight_rel_error", l.weightRelError());
            if (Double.isNaN(l.outputRelError())) o.putNull("output_rel_error");
            else o.put("output_rel_error", l.outputRelError());
            o.put("itf_mean_steps", l.meanItfSteps());
            o.put("itf_max_steps", l.maxItfSteps());
            o.put("seconds", l.seconds());
        }
        ArrayNode blocks = root.putArray("blocks");
        for (LayerPipeline.BlockTime b : r.blocks()) {
            ObjectNode o = blocks.addObject();
            o.put("block", b.block());
            o.put("calibration_seconds", b.calibrationSeconds());
            o.put("quantize_seconds", b.quantizeSeconds());
            o.put("rerun_seconds", b.rerunSeconds());
        }
        return root;
    }

    /** Writes report.json and report.html into dir, each atomically. */
    public static void write(Path dir, ObjectNode report) {
        try {
            AtomicFiles.writeString(dir.resolve(JSON), MAPPER.writeValueAsString(report) + "\n");
        } catch (IOException e) {
            throw new TernException("cannot write " + dir.resolve(JSON) + ": " + e.getMessage());
        }
        AtomicFiles.writeString(dir.resolve(HTML), html(report));
    }

    /** Reads a folder's report.json. */
    public static JsonNode read(Path dir) {
        Path f = Files.isDirectory(dir) ? dir.resolve(JSON) : dir;
        if (!Files.isRegularFile(f)) throw new TernException("no " + JSON + " in " + dir + " (quantize writes one into its --out folder)");
        try {
            JsonNode n = MAPPER.readTree(f.toFile());
            if (n == null || !n.path("layers").isArray()) throw new TernException(f + ": not a Tern quantization report");
            return n;
        } catch (IOException e) {
            throw new TernException(f + ": malformed report (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }

    /** The per-layer table as plain text, for `tern report`. */
    public static String table(JsonNode report) {
        StringBuilder b = new StringBuilder();
        JsonNode s = report.path("settings");
        b.append(String.format(Locale.ROOT, "method   %s%n", s.path("method").asText("?")));
        b.append(String.format(Locale.ROOT, "model    %s%n", s.path("model").asText("?")));
        b.append(String.format(Locale.ROOT, "calib    %s%n", s.path("calibration").asText("?")));
        b.append(String.format(Locale.ROOT, "%-42s %11s %7s %10s %10s %8s %8s%n", "layer", "shape", "bits/w", "‖ΔW‖/‖W‖",
                "‖ΔWX‖²/‖WX‖²", "ITF it", "time s"));
        for (JsonNode l : report.path("layers")) {
            JsonNode out = l.path("output_rel_error");
            b.append(String.format(Locale.ROOT, "%-42s %11s %7.3f %10.4f %12s %8.2f %8.2f%n", l.path("name").asText(),
                    l.path("rows").asInt() + "x" + l.path("cols").asInt(), l.path("bits_per_weight").asDouble(),
                    l.path("weight_rel_error").asDouble(), out.isNumber() ? String.format(Locale.ROOT, "%.3e", out.asDouble()) : "-",
                    l.path("itf_mean_steps").asDouble(), l.path("seconds").asDouble()));
        }
        JsonNode t = report.path("totals");
        b.append(String.format(Locale.ROOT, "total    %d weights, %.3f bits/weight, %.1f s, peak heap %.1f MiB%n",
                t.path("quantized_weights").asLong(), t.path("bits_per_weight").asDouble(), t.path("seconds").asDouble(),
                t.path("peak_heap_bytes").asLong() / 1048576.0));
        return b.toString();
    }

    static String html(JsonNode r) {
        StringBuilder b = new StringBuilder();
        JsonNode s = r.path("settings"), t = r.path("totals");
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tern quantization report</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}")
                .append("h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}")
                .append("table{border-collapse:collapse;font-size:12px}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}")
                .append("th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.legend span{display:inline-block;margin-right:14px;font-size:12px}")
                .append(".sw{display:inline-block;width:10px;height:10px;margin-right:4px}.kv td{text-align:left}</style></head><body>\n");
        b.append("<h1>Tern quantization report</h1>\n<div>").append(esc(s.path("method").asText(""))).append(" · ")
                .append(esc(s.path("model").asText(""))).append("</div>\n");
        b.append(String.format(Locale.ROOT, "<p><b>%.3f</b> bits/weight over %,d quantized weights · %.1f s · peak heap %.0f MiB</p>%n",
                t.path("bits_per_weight").asDouble(), t.path("quantized_weights").asLong(), t.path("seconds").asDouble(),
                t.path("peak_heap_bytes").asLong() / 1048576.0));
        List<String> names = layerNames(r);
        b.append("<div class=\"legend\">");
        for (int i = 0; i < names.size(); i++) {
            b.append("<span><i class=\"sw\" style=\"background:").append(COLORS[i % COLORS.length]).append("\"></i>")
                    .append(esc(names.get(i))).append("</span>");
        }
        b.append("</div>\n<h2>Relative output error ‖(W−Ŵ)X‖² / ‖WX‖² on the calibration inputs, by block and layer (log scale)</h2>\n");
        b.append(bars(r, names, "output_rel_error", true));
        b.append("<h2>Quantization time by block and layer (s)</h2>\n");
        b.append(bars(r, names, "seconds", false));
        b.append("<h2>Layers</h2>\n<table><tr><th>layer</th><th>shape</th><th>bits/weight</th><th>‖W−Ŵ‖/‖W‖</th>")
                .append("<th>‖(W−Ŵ)X‖²/‖WX‖²</th><th>ITF steps (mean / max)</th><th>time (s)</th></tr>\n");
        for (JsonNode l : r.path("layers")) {
            JsonNode out = l.path("output_rel_error");
            b.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d × %d</td><td>%.3f</td><td>%.4f</td><td>%s</td><td>%.2f / %d</td><td>%.2f</td></tr>%n",
                    esc(l.path("name").asText()), l.path("rows").asInt(), l.path("cols").asInt(), l.path("bits_per_weight").asDouble(),
                    l.path("weight_rel_error").asDouble(), out.isNumber() ? String.format(Locale.ROOT, "%.3e", out.asDouble()) : "—",
                    l.path("itf_mean_steps").asDouble(), l.path("itf_max_steps").asInt(), l.path("seconds").asDouble()));
        }
        b.append("</table>\n<h2>Blocks</h2>\n<table><tr><th>block</th><th>calibration pass + Hessians (s)</th><th>seven layers (s)</th><th>re-run with Ŵ (s)</th></tr>\n");
        for (JsonNode bl : r.path("blocks")) {
            b.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.2f</td><td>%.2f</td><td>%.2f</td></tr>%n", bl.path("block").asInt(),
                    bl.path("calibration_seconds").asDouble(), bl.path("quantize_seconds").asDouble(), bl.path("rerun_seconds").asDouble()));
        }
        b.append("</table>\n<h2>Settings</h2>\n<table class=\"kv\">\n");
        for (var it = s.fields(); it.hasNext(); ) {
            var e = it.next();
            b.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(esc(e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString())).append("</td></tr>\n");
        }
        b.append("</table>\n</body></html>\n");
        return b.toString();
    }

    private static List<String> layerNames(JsonNode r) {
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (JsonNode l : r.path("layers")) seen.put(l.path("layer").asText(), true);
        return new ArrayList<>(seen.keySet());
    }

    /** Grouped bars: one group per block, one bar per layer name, in inline SVG. */
    private static String bars(JsonNode r, List<String> names, String field, boolean log) {
        Map<Integer, Map<String, Double>> byBlock = new LinkedHashMap<>();
        double max = 0, min = Double.POSITIVE_INFINITY;
        for (JsonNode l : r.path("layers")) {
            JsonNode v = l.path(field);
            if (!v.isNumber()) continue;
            double d = v.asDouble();
            byBlock.computeIfAbsent(l.path("block").asInt(), k -> new LinkedHashMap<>()).put(l.path("layer").asText(), d);
            max = Math.max(max, d);
            if (d > 0) min = Math.min(min, d);
        }
        if (byBlock.isEmpty() || !(max > 0)) return "<p>(no data: this method uses no calibration inputs)</p>\n";
        // Bars widen for few blocks and narrow for many, so a chart stays about 700 pixels wide.
        int bw = Math.max(4, Math.min(24, 700 / Math.max(1, byBlock.size() * names.size())));
        int gap = 14, left = 64, top = 10, height = 220;
        int groupW = names.size() * bw + gap;
        int width = left + Math.max(1, byBlock.size()) * groupW + 10;
        double lo = log ? Math.floor(Math.log10(min)) : 0, hi = log ? Math.ceil(Math.log10(max)) : max * 1.05;
        if (log && hi <= lo) hi = lo + 1;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-size=\"10\">%n", width, height + 50));
        int ticks = log ? (int) (hi - lo) : 4;
        for (int i = 0; i <= ticks; i++) {
            double v = log ? lo + i : hi * i / ticks;
            double y = top + height - height * (log ? (v - lo) / (hi - lo) : v / hi);
            String label = log ? String.format(Locale.ROOT, "1e%d", (int) v) : String.format(Locale.ROOT, "%.3g", v);
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    left, width - 10, y, y, left - 4, y + 3, label));
        }
        int g = 0;
        for (var e : byBlock.entrySet()) {
            int x0 = left + g * groupW + gap / 2;
            for (int i = 0; i < names.size(); i++) {
                Double v = e.getValue().get(names.get(i));
                if (v == null || !(v > 0)) continue;
                double frac = log ? (Math.log10(v) - lo) / (hi - lo) : v / hi;
                double hgt = Math.max(1, height * Math.min(1, Math.max(0, frac)));
                b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>block %d %s: %.4g</title></rect>%n",
                        x0 + i * bw, top + height - hgt, bw - 1, hgt, COLORS[i % COLORS.length], e.getKey(), esc(names.get(i)), v));
            }
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>%n", x0 + names.size() * bw / 2, top + height + 14, e.getKey()));
            g++;
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">block</text>%n", left + (width - left) / 2, top + height + 32));
        b.append("</svg>\n");
        return b.toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
