package dev.tern.quant;

import dev.tern.TernException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A quantization method with its switches, as chosen on the command line: which {@link GroupQuantizer}, whether the
 * GPTQ error feedback runs, and in which column order. Data-free methods need no calibration pass.
 */
public record QuantMethod(String name, GroupQuantizer quantizer, Gptq.Options options, boolean dataFree, Map<String, String> flags) {

    public static final String NAMES = "pt2, atq, rtn-ternary, rtn-twn, gptq, ptqtp";

    /**
     * @param bits     for gptq (2..8)
     * @param itf      ITF on (pt2, atq)
     * @param aga      AGA on (pt2, atq)
     * @param order    column order for the GPTQ driver: ssr, none, act-order, random (null = the method's default)
     * @param ptqtpGptq run PTQTP inside the GPTQ driver with error compensation
     */
    public static QuantMethod of(String name, int bits, int group, boolean itf, boolean aga, String order, String propagation,
            boolean ptqtpGptq, long seed, double damp) {
        return of(name, bits, group, itf, aga, order, propagation, ptqtpGptq, seed, damp, Gptq.Options.DEFAULT_REFITS, Gptq.Gram.PLAIN);
    }

    /**
     * As above, with the pt2 ablation switches: refits (grid + AGA refits per block after the column pass, 0 = the
     * grid fitted at block start ships) and gram (the matrix AGA fits to).
     */
    public static QuantMethod of(String name, int bits, int group, boolean itf, boolean aga, String order, String propagation,
            boolean ptqtpGptq, long seed, double damp, int refits, Gptq.Gram gram) {
        return of(name, bits, group, itf, aga, order, propagation, ptqtpGptq, seed, damp, refits, gram, false, false);
    }

    /** The group size, grid and order `--tq-exact` stands for. */
    public static final int TQ_GROUP = 256;
    public static final String TQ_PRESET = "--grid symmetric --group 256 --order static";

    /**
     * As above, with the grid: symmetric = μ ≡ 0 and α-only ATQ (pt2, atq), the grid llama.cpp's TQ1_0/TQ2_0 hold.
     * tqExact records that the settings came from the `--tq-exact` preset and checks that they are the preset's
     * (symmetric grid, group 256, a static order, pt2), so a checkpoint marked tq-exact is one.
     */
    public static QuantMethod of(String name, int bits, int group, boolean itf, boolean aga, String order, String propagation,
            boolean ptqtpGptq, long seed, double damp, int refits, Gptq.Gram gram, boolean symmetric, boolean tqExact) {
        String n = name.toLowerCase(Locale.ROOT);
        if (tqExact && !(n.equals("pt2") && symmetric && group == TQ_GROUP && order != null && parseOrder(order).isStatic())) {
            throw new TernException("--tq-exact is pt2 with " + TQ_PRESET + "; got --method " + name + " --grid "
                    + (symmetric ? "symmetric" : "asymmetric") + " --group " + group + " --order " + order);
        }
        if (symmetric && !n.equals("pt2") && !n.equals("atq")) {
            throw new TernException("--grid applies only to the ternary ATQ methods (pt2, atq), not " + name);
        }
        if (group < 1 || group > 1 << 16) throw new TernException("--group must be in [1, 65536], got " + group);
        if (!(damp >= 0 && damp < 1)) throw new TernException("--damp must be in [0, 1), got " + damp);
        Map<String, String> flags = new LinkedHashMap<>();
        if (tqExact) flags.put("tq-exact", "true");
        GroupQuantizer q;
        Gptq.Options o;
        boolean dataFree = false;
        switch (n) {
            case "pt2" -> {
                q = new AtqQuantizer(itf, aga, symmetric);
                // Column-by-column error feedback inside the block is the default: on the shared models it beats
                // METHOD.md's block-at-once reading by a wide margin (README, "Results"); --propagation block restores it.
                if (refits < 0 || refits > 16) throw new TernException("--refits must be in [0, 16], got " + refits);
                o = Gptq.Options.defaults().withRefits(refits).withGram(gram);
                flags.put("itf", String.valueOf(itf));
                flags.put("aga", String.valueOf(aga));
                // Only a non-default grid is recorded, so the default's metadata (and bytes) stay as they were.
                if (symmetric) flags.put("grid", "symmetric");
                if (refits != Gptq.Options.DEFAULT_REFITS) flags.put("refits", String.valueOf(refits));
                if (gram != Gptq.Gram.PLAIN) flags.put("aga-gram", gram.name().toLowerCase(Locale.ROOT));
            }
            case "atq" -> {
                q = new AtqQuantizer(itf, aga, symmetric);
                o = Gptq.Options.defaults().withOrder(Gptq.Order.NONE).withErrorFeedback(false);
                flags.put("itf", String.valueOf(itf));
                flags.put("aga", String.valueOf(aga));
                if (symmetric) flags.put("grid", "symmetric");
                dataFree = !aga;
            }
            case "rtn-ternary", "rtn-twn" -> {
                q = new RtnTernaryQuantizer(n.equals("rtn-ternary"));
                o = Gptq.Options.defaults().withOrder(Gptq.Order.NONE).withErrorFeedback(false);
                dataFree = true;
            }
            case "gptq" -> {
                if (bits < 2 || bits > 8) throw new TernException("--bits must be in [2, 8] for gptq, got " + bits);
                q = new UniformQuantizer(bits);
                o = Gptq.Options.uniformBaseline();
                flags.put("bits", String.valueOf(bits));
            }
            case "ptqtp" -> {
                q = new PtqtpQuantizer();
                if (ptqtpGptq) {
                    o = Gptq.Options.uniformBaseline();
                } else {
                    o = Gptq.Options.defaults().withOrder(Gptq.Order.NONE).withErrorFeedback(false);
                    dataFree = true;
                }
                flags.put("gptq", String.valueOf(ptqtpGptq));
            }
            default -> throw new TernException("unknown method '" + name + "' (known: " + NAMES + ")");
        }
        if (order != null) {
            if (!o.errorFeedback()) throw new TernException("--order applies only to methods with GPTQ error feedback (pt2, gptq, ptqtp --gptq)");
            o = o.withOrder(parseOrder(order));
        }
        if (propagation != null) {
            if (!o.errorFeedback()) throw new TernException("--propagation applies only to methods with GPTQ error feedback");
            o = o.withPropagation(switch (propagation.toLowerCase(Locale.ROOT)) {
                case "block" -> Gptq.Propagation.BLOCK;
                case "column" -> Gptq.Propagation.COLUMN;
                default -> throw new TernException("unknown --propagation '" + propagation + "' (block, column)");
            });
        }
        if (o.order().isStatic()) {
            if (!n.equals("pt2")) throw new TernException("--order " + order + " (static groups) applies only to --method pt2");
            if (o.propagation() != Gptq.Propagation.COLUMN) throw new TernException("--order " + order + " needs --propagation column");
        }
        o = o.withBlockSize(group).withSeed(seed).withDamp(damp);
        if (o.errorFeedback()) {
            flags.put("order", o.order().name().toLowerCase(Locale.ROOT).replace('_', '-'));
            flags.put("propagation", o.propagation().name().toLowerCase(Locale.ROOT));
            flags.put("damp", String.valueOf(damp));
        }
        flags.put("group", String.valueOf(group));
        return new QuantMethod(n, q, o, dataFree, flags);
    }

    public static Gptq.Order parseOrder(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "static" -> Gptq.Order.STATIC;
            case "static-act-order", "static_act_order" -> Gptq.Order.STATIC_ACT_ORDER;
            case "ssr" -> Gptq.Order.SSR;
            case "none" -> Gptq.Order.NONE;
            case "act-order", "act_order", "actorder" -> Gptq.Order.ACT_ORDER;
            case "random" -> Gptq.Order.RANDOM;
            default -> throw new TernException("unknown --order '" + s + "' (ssr, none, act-order, random, static, static-act-order)");
        };
    }

    /** A one-line description for logs and checkpoint metadata. */
    public String describe() {
        StringBuilder b = new StringBuilder(name);
        flags.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        return b.toString();
    }
}
