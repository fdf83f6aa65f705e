package dev.tern.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.TernException;
import dev.tern.eval.Perplexity;
import dev.tern.eval.TextDatasets;
import dev.tern.model.LoadedModel;
import dev.tern.model.Transformer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `tern eval`: perplexity on a named data set or any text file (and zero-shot tasks). */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Measure perplexity (WikiText-2, C4, PTB, or --text FILE).")
final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = {"-d", "--dataset"}, paramLabel = "NAME", description = "wikitext2 (default when no --text), c4 or ptb.")
    String dataset;

    @Option(names = "--text", paramLabel = "FILE", description = "Evaluate perplexity on this UTF-8 text file instead.")
    Path text;

    @Option(names = "--window", paramLabel = "L", description = "Window length (default min(2048, model context)).")
    Integer window;

    @Option(names = "--max-windows", paramLabel = "N", defaultValue = "0", description = "Evaluate only the first N windows (0 = all).")
    int maxWindows;

    @Option(names = "--json", description = "Print a JSON object as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (dataset != null && text != null) throw new TernException("give either --dataset or --text, not both");
        String name = text != null ? text.toString() : (dataset == null ? "wikitext2" : dataset);
        String body = text != null ? TextDatasets.read(text) : TextDatasets.evalText(name);
        LoadedModel m = modelOptions.load();
        int L = window != null ? window : m.config().evalWindow();
        if (L < 2 || L > m.config().maxPositions()) {
            throw new TernException("--window must be in [2, " + m.config().maxPositions() + "], got " + L);
        }
        System.err.println("tern: model " + m.source() + "; tokenizing " + name + " ...");
        int[] ids = m.tokenizer().encode(body, true);
        Perplexity.Result r = Perplexity.run(new Transformer(m.model(), L), ids, L, maxWindows, !json && System.console() != null);
        System.out.printf("dataset     %s%n", name);
        System.out.printf("perplexity  %.4f%n", r.perplexity());
        System.out.printf("tokens      %d predicted in %d windows of %d%n", r.tokens(), r.windows(), L);
        System.out.printf("speed       %.1f tokens/s (%.1f s)%n", r.tokensPerSecond(), r.seconds());
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("perplexity", r.perplexity());
            o.put("tokens", r.tokens());
            o.put("windows", r.windows());
            o.put("window", L);
            o.put("dataset", name);
            o.put("tokens_per_second", r.tokensPerSecond());
            System.out.println(new ObjectMapper().writeValueAsString(o));
        }
        return 0;
    }
}
