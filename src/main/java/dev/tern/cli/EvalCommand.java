package dev.tern.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.TernException;
import dev.tern.eval.Perplexity;
import dev.tern.eval.TextDatasets;
import dev.tern.eval.tasks.ModelLogLikelihood;
import dev.tern.eval.tasks.Task;
import dev.tern.eval.tasks.ZeroShot;
import dev.tern.kernels.KernelConfig;
import dev.tern.model.LoadedModel;
import dev.tern.model.Transformer;
import dev.tern.util.SharedPaths;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `tern eval`: perplexity on a named data set or any text file (and zero-shot tasks). */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Measure perplexity (WikiText-2, C4, PTB, or --text FILE), or zero-shot accuracy with --tasks.")
final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = {"-d", "--dataset"}, paramLabel = "NAME", description = "wikitext2 (default when no --text), c4 or ptb.")
    String dataset;

    @Option(names = "--text", paramLabel = "FILE", description = "Evaluate perplexity on this UTF-8 text file instead.")
    Path text;

    @Option(names = "--window", paramLabel = "L", description = "Window length (default min(2048, model context)).")
    Integer window;

    @Option(names = "--protocol", paramLabel = "P", defaultValue = "gptq",
            description = "Which tokens are scored: gptq (default; every window predicts its L-1 next tokens) or llama.cpp"
                    + " (as llama-perplexity: each window starts with BOS and only its second half is scored).")
    String protocol;

    @Option(names = "--max-windows", paramLabel = "N", defaultValue = "0", description = "Evaluate only the first N windows (0 = all).")
    int maxWindows;

    @Option(names = "--json", arity = "0..1", fallbackValue = "-", paramLabel = "FILE",
            description = "Print a JSON object as the last line, or with FILE write it there (atomically).")
    String json;

    @Option(names = "--vs", paramLabel = "DIR|REPO", description = "A second model evaluated on the same windows, the two taking "
            + "turns window by window, each timed on its own: their speed ratio is measured under the same load.")
    String vs;

    @Option(names = "--tasks", paramLabel = "LIST", description = "Zero-shot tasks instead of perplexity: comma list of "
            + "piqa, arc_easy, arc_challenge, hellaswag, winogrande, openbookqa, boolq, or 'paper' for all seven.")
    String tasks;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "With --tasks: only the first N items of each task (0 = all).")
    int limit;

    @Option(names = "--task-data", paramLabel = "DIR", description = "Folder of the task files (default: the shared data/tasks).")
    Path taskData;

    @Override
    public Integer call() throws Exception {
        if (tasks != null) return runTasks();
        if (limit != 0 || taskData != null) throw new TernException("--limit and --task-data need --tasks");
        boolean json = this.json != null;
        if (dataset != null && text != null) throw new TernException("give either --dataset or --text, not both");
        String name = text != null ? text.toString() : (dataset == null ? "wikitext2" : dataset);
        String body = text != null ? TextDatasets.read(text) : TextDatasets.evalText(name);
        LoadedModel m = modelOptions.load(KernelConfig.Workload.PREFILL);
        int L = window != null ? window : m.config().evalWindow();
        if (L < 2 || L > m.config().maxPositions()) {
            throw new TernException("--window must be in [2, " + m.config().maxPositions() + "], got " + L);
        }
        System.err.println("tern: model " + m.source() + "; tokenizing " + name + " ...");
        int[] ids = m.tokenizer().encode(body, true);
        java.util.List<Transformer> tfs = new java.util.ArrayList<>(java.util.List.of(new Transformer(m.model(), L)));
        if (vs != null) {
            LoadedModel b = modelOptions.load(vs, KernelConfig.Workload.PREFILL);
            System.err.println("tern: vs " + b.source());
            if (!java.util.Arrays.equals(ids, b.tokenizer().encode(body, true))) {
                throw new TernException("--vs " + vs + " tokenizes the text differently from --model: perplexities would not compare");
            }
            if (L > b.config().maxPositions()) {
                throw new TernException("--vs " + vs + " has a context of " + b.config().maxPositions() + ", shorter than the window " + L);
            }
            tfs.add(new Transformer(b.model(), L));
        }
        Perplexity.Protocol proto = Perplexity.Protocol.parse(protocol);
        int bos = ids.length > 0 && m.tokenizer().bosId() >= 0 && ids[0] == m.tokenizer().bosId() ? ids[0] : -1;
        java.util.List<Perplexity.Result> rs = Perplexity.runAll(tfs, ids, L, maxWindows, !json && System.console() != null, proto, bos);
        Perplexity.Result r = rs.get(0);
        System.out.printf("dataset     %s%n", name);
        System.out.printf("perplexity  %.4f%n", r.perplexity());
        System.out.printf("tokens      %d predicted in %d windows of %d (%s protocol)%n", r.tokens(), r.windows(), L,
                proto == Perplexity.Protocol.GPTQ ? "GPTQ" : "llama.cpp");
        System.out.printf("speed       %.1f tokens/s (%.1f s)%n", r.tokensPerSecond(), r.seconds());
        if (vs != null) {
            Perplexity.Result v = rs.get(1);
            System.out.printf("vs          perplexity %.4f, %.1f tokens/s (%.1f s)%n", v.perplexity(), v.tokensPerSecond(), v.seconds());
            System.out.printf("speed ratio %.3f (model / vs, same windows, taking turns)%n", r.tokensPerSecond() / v.tokensPerSecond());
        }
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("perplexity", r.perplexity());
            o.put("tokens", r.tokens());
            o.put("windows", r.windows());
            o.put("window", L);
            o.put("protocol", proto == Perplexity.Protocol.GPTQ ? "gptq" : "llama.cpp");
            o.put("dataset", name);
            o.put("tokens_per_second", r.tokensPerSecond());
            if (vs != null) {
                Perplexity.Result v = rs.get(1);
                o.put("vs_perplexity", v.perplexity());
                o.put("vs_tokens_per_second", v.tokensPerSecond());
                o.put("speed_ratio_model_vs", r.tokensPerSecond() / v.tokensPerSecond());
            }
            String line = new ObjectMapper().writeValueAsString(o);
            if (this.json.equals("-")) System.out.println(line);
            else dev.tern.io.AtomicFiles.writeString(Path.of(this.json), line + "\n");
        }
        return 0;
    }

    private Integer runTasks() {
        if (dataset != null || text != null || window != null || maxWindows != 0 || !protocol.equals("gptq") || vs != null) {
            throw new TernException("--tasks cannot be combined with --dataset, --text, --window, --max-windows, --protocol or --vs");
        }
        if (limit < 0) throw new TernException("--limit must be >= 0, got " + limit);
        java.util.List<Task> list = Task.parse(tasks);
        LoadedModel m = modelOptions.load(KernelConfig.Workload.PREFILL);
        System.err.println("tern: model " + m.source() + "; tasks " + tasks + (limit > 0 ? " (first " + limit + " items each)" : ""));
        Path dir = taskData != null ? taskData : SharedPaths.data("tasks");
        ModelLogLikelihood ll = new ModelLogLikelihood(m);
        ZeroShot.Report r = ZeroShot.run(list, dir, limit, ll, System.console() != null, System.err);
        if (ll.overlong() > 0) {
            System.err.println("tern: note: " + ll.overlong() + " continuation(s) were longer than the model's "
                    + ll.maxLength() + "-token context; only their last " + ll.maxLength() + " tokens were scored");
        }
        System.out.print(ZeroShot.table(r));
        if (json != null) {
            if (json.equals("-")) System.out.println(ZeroShot.json(r));
            else ZeroShot.writeJson(r, Path.of(json));
        }
        return 0;
    }
}
