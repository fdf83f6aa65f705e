package dev.tern.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.tern.TernException;
import dev.tern.format.TernaryMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Choosing a kernel by measurement: the race on a fake clock, the configuration, the per-machine cache. */
@Tag("kernels")
class KernelSelectionTest {
    /** A clock that moves only when a fake candidate "runs". */
    static class FakeClock implements KernelRace.Clock {
        long now;

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public long compilerMillis() {
            return 0;
        }
    }

    /** A candidate whose timed round costs `cost` fake nanoseconds, and its warm-up round a tenth of that. */
    static final class Fake {
        final FakeClock clock;
        final long cost;
        int runs;

        Fake(FakeClock clock, long cost) {
            this.clock = clock;
            this.cost = cost;
        }

        KernelRace.Entry entry(String name) {
            return entry(name, 0);
        }

        KernelRace.Entry entry(String name, long bytes) {
            return rounded(name, bytes);
        }

        KernelRace.Entry rounded(String name, long bytes) {
            return make(name, bytes, false);
        }

        KernelRace.Entry exact(String name, long bytes) {
            return make(name, bytes, true);
        }

        private KernelRace.Entry make(String name, long bytes, boolean exact) {
            return new KernelRace.Entry(name, () -> { clock.now += cost / 10; runs++; }, () -> { clock.now += cost; runs++; }, bytes, exact);
        }
    }

    static final KernelRace.Limits LIMITS = new KernelRace.Limits(1_000, 500, 10_000, 1_000_000, 3, 3, 4.0);

    @Test
    void picksTheFasterOfTwo() {
        FakeClock c = new FakeClock();
        Fake a = new Fake(c, 100), b = new Fake(c, 40);
        List<KernelRace.Result> res = KernelRace.run(List.of(a.entry("a"), b.entry("b")), c, LIMITS).results();
        assertEquals("b", KernelRace.winner(res).name());
        assertEquals(100, res.get(0).bestNanos());
        assertEquals(40, res.get(1).bestNanos());
        // and the order of the candidates does not matter
        assertEquals("b", KernelRace.winner(KernelRace.run(List.of(b.entry("b"), a.entry("a")), c, LIMITS).results()).name());
    }

    /** Within 10 % the candidate that reads fewer bytes wins; beyond it, the faster one, whatever it reads. */
    @Test
    void nearTiesGoToTheCandidateReadingFewerBytes() {
        FakeClock c = new FakeClock();
        Fake fast = new Fake(c, 1000), close = new Fake(c, 1080), far = new Fake(c, 1150);
        assertEquals("lean", KernelRace.winner(KernelRace.run(List.of(fast.entry("fat", 250), close.entry("lean", 206)), c, LIMITS).results()).name());
        assertEquals("fat", KernelRace.winner(KernelRace.run(List.of(fast.entry("fat", 250), far.entry("lean", 206)), c, LIMITS).results()).name());
        assertEquals("fat", KernelRace.winner(KernelRace.run(List.of(fast.entry("fat", 250), close.entry("fatter", 300)), c, LIMITS).results()).name());
        // unknown sizes: time alone decides
        assertEquals("fat", KernelRace.winner(KernelRace.run(List.of(fast.entry("fat"), close.entry("lean")), c, LIMITS).results()).name());
    }

    /**
     * Between candidates reading the same bytes, a near-tie goes to the exact one (f32 activations); a leaner
     * candidate still beats it, and beyond 10 % the faster one wins.
     */
    @Test
    void equallyLeanNearTiesGoToExactActivations() {
        FakeClock c = new FakeClock();
        Fake fast = new Fake(c, 1000), close = new Fake(c, 1080), far = new Fake(c, 1150);
        assertEquals("float", winner(c, fast.rounded("unpack", 250), close.exact("float", 250)));
        assertEquals("float", winner(c, close.exact("float", 250), fast.rounded("unpack", 250)), "in either order");
        assertEquals("unpack", winner(c, fast.rounded("unpack", 250), far.exact("float", 250)));
        assertEquals("unpack", winner(c, close.rounded("unpack", 206), fast.exact("float", 250)), "fewer bytes first");
        assertEquals("float", winner(c, close.exact("float", 250), fast.rounded("unpack", 250), far.rounded("table", 250)));
    }

    private static String winner(FakeClock c, KernelRace.Entry... entries) {
        return KernelRace.winner(KernelRace.run(List.of(entries), c, LIMITS).results()).name();
    }

    /**
     * The preferred candidate (first) has fallen into the Java fallback: 1000x slower. The race falls back to the
     * other, and times the slow one for a single round only.
     */
    @Test
    void fallsBackWhenACandidateIsPathologicallySlow() {
        FakeClock c = new FakeClock();
        Fake slow = new Fake(c, 50_000), ok = new Fake(c, 50);
        List<KernelRace.Result> res = KernelRace.run(List.of(slow.entry("lut3-512"), ok.entry("unpack-256")), c, LIMITS).results();
        assertEquals("unpack-256", KernelRace.winner(res).name());
        assertTrue(res.get(0).dropped());
        assertFalse(res.get(1).dropped());
        // one warm-up turn (its 5000 fake ns already exceed the 1000 ns warm-up minimum, with a quiet JIT), two
        // untimed real rounds, then timed until it has shown no improvement for `patience` (3) rounds
        assertEquals(1 + 2 + 1 + 3, slow.runs, "a candidate that is far behind and not improving is dropped");
        assertEquals(slow.runs, res.get(0).runs());
        assertTrue(ok.runs >= 1 + 3, "the survivor gets at least the minimum timed rounds");
    }

    /** A candidate that keeps getting faster (the JIT replacing its code) is not dropped while it improves. */
    @Test
    void aCandidateStillImprovingIsKept() {
        FakeClock c = new FakeClock();
        Fake ok = new Fake(c, 50);
        long[] cost = {100_000};
        KernelRace.Entry late = new KernelRace.Entry("late", () -> c.now += 10, () -> {
            c.now += cost[0];
            cost[0] = Math.max(20, cost[0] / 3);
        });
        List<KernelRace.Result> res = KernelRace.run(List.of(ok.entry("ok"), late), c, LIMITS).results();
        assertFalse(res.get(1).dropped());
        assertEquals("late", KernelRace.winner(res).name(), "once compiled it is the faster one");
    }

    /**
     * The JIT keeps compiling into the timed rounds (the real work took a path the warm-up did not), and one
     * candidate's new code arrives only then: stable bests alone would have ended the race before it, on the wrong
     * winner; the race goes on until the JIT has been quiet.
     */
    @Test
    void timedRoundsLastUntilTheJitIsQuiet() {
        long recompiled = 20_000;
        FakeClock c = new FakeClock() {
            @Override
            public long compilerMillis() {
                return Math.min(now, recompiled);
            }
        };
        Fake steady = new Fake(c, 60);
        KernelRace.Entry late = new KernelRace.Entry("late", () -> c.now += 10, () -> c.now += c.now < recompiled ? 100 : 40);
        List<KernelRace.Result> res = KernelRace.run(List.of(steady.entry("steady"), late), c, LIMITS).results();
        assertEquals("late", KernelRace.winner(res).name());
        assertEquals(40, res.get(1).bestNanos());
    }

    @Test
    void aCandidateThatIsOnlySomewhatSlowerIsKeptAndTimed() {
        FakeClock c = new FakeClock();
        Fake a = new Fake(c, 100), b = new Fake(c, 130);
        List<KernelRace.Result> res = KernelRace.run(List.of(a.entry("a"), b.entry("b")), c, LIMITS).results();
        assertFalse(res.get(1).dropped());
        assertEquals("a", KernelRace.winner(res).name());
    }

    @Test
    void optionsResolve() {
        assertNull(KernelConfig.fromOptions("auto", false).pinned());
        assertEquals(KernelKind.UNPACK, KernelConfig.fromOptions("unpack", false).pinned());
        assertEquals(KernelKind.UNPACK, KernelConfig.fromOptions(KernelKind.UNPACK.label(), false).pinned());
        assertEquals(KernelKind.FLOAT, KernelConfig.fromOptions("auto", true).pinned());
        assertEquals(KernelKind.FLOAT, KernelConfig.fromOptions("float", true).pinned());
        TernException e = assertThrows(TernException.class, () -> KernelConfig.fromOptions("unpack", true));
        assertTrue(e.getMessage().contains("--exact-activations"), e.getMessage());
        e = assertThrows(TernException.class, () -> KernelConfig.fromOptions("sliced", false));
        assertTrue(e.getMessage().contains("unknown kernel 'sliced'"), e.getMessage());
    }

    @Test
    void pinnedKernelIsUsedAsIsAndRefusedForGroupsItCannotTake() {
        KernelSelector.Choice c = KernelSelector.choose(KernelConfig.pinned(KernelKind.FLOAT), List.of(new int[] {256, 128}), s -> { });
        assertEquals(KernelKind.FLOAT, c.kind());
        assertEquals("--kernel", c.how());
        TernException e = assertThrows(TernException.class,
                () -> KernelSelector.choose(KernelConfig.pinned(KernelKind.LUT3_512), List.of(new int[] {512, 256}), s -> { }));
        assertTrue(e.getMessage().contains("groups of 256"), e.getMessage());
    }

    @Test
    void candidatesFitTheJvmAndTheGroupSize() {
        List<KernelKind> c = KernelSelector.candidates(List.of(new int[] {512, 256}));
        assertFalse(c.contains(KernelKind.LUT3_512), "int16 LUT3 sums overflow for groups of 256");
        assertTrue(c.contains(KernelKind.UNPACK) && c.contains(KernelKind.FLOAT));
        assertEquals(KernelKind.LUT3_512.fitsThisJvm(), KernelSelector.candidates(List.of(new int[] {256, 128})).contains(KernelKind.LUT3_512));
    }

    /** The probe's choice is written to the cache and found there the next time (and a corrupt cache is replaced). */
    @Test
    void probeChoiceIsCached(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("tern").resolve("kernels.json");
        List<int[]> shapes = List.of(new int[] {96, 32});
        List<String> log = new ArrayList<>();
        KernelConfig cfg = new KernelConfig(null, cache, KernelConfig.Workload.DECODE);
        KernelSelector.Choice first = KernelSelector.choose(cfg, shapes, log::add);
        assertEquals("measured", first.how());
        assertTrue(Files.isRegularFile(cache));
        assertFalse(log.isEmpty(), "the probe reports its timings");
        KernelSelector.Choice second = KernelSelector.choose(cfg, shapes, s -> { });
        assertEquals("cached", second.how());
        assertEquals(first.kind(), second.kind());
        Files.writeString(cache, "{not json");
        assertEquals("measured", KernelSelector.choose(cfg, shapes, s -> { }).how());
        assertEquals("cached", KernelSelector.choose(cfg, shapes, s -> { }).how());
        // the prefill workload is probed and cached on its own, each prefill path once: unpack (integer GEMM) and
        // float (f32 GEMM) everywhere, lut3-512 where it fits; unpack4 and table-128 share theirs
        KernelConfig pre = cfg.forWorkload(KernelConfig.Workload.PREFILL);
        List<String> timed = new ArrayList<>();
        KernelSelector.Choice p = KernelSelector.choose(pre, shapes, s -> { if (s.startsWith("kernel probe: ") && s.contains(" ms per round")) timed.add(s.substring(14).trim().split(" ")[0]); });
        assertEquals("measured for prefill", p.how());
        assertTrue(timed.contains(KernelKind.UNPACK.label()) && timed.contains(KernelKind.FLOAT.label()), timed.toString());
        assertFalse(timed.contains(KernelKind.UNPACK4.label()) || timed.contains(KernelKind.TABLE_128.label()), timed.toString());
        assertEquals("cached, for prefill", KernelSelector.choose(pre, shapes, s -> { }).how());
        assertEquals("cached", KernelSelector.choose(cfg, shapes, s -> { }).how());
    }

    /** Prefill probe layers take the most rows of the model's layers of their shape, at most 2048. */
    @Test
    void prefillProbeLayersHaveTheModelsRows() {
        List<int[]> shapes = List.of(new int[] {128, 128, 384}, new int[] {128, 128, 128}, new int[] {384, 128, 128},
                new int[] {2048, 128, 5632});
        assertEquals(384, KernelSelector.prefillRows(shapes, new int[] {128, 128}));
        assertEquals(128, KernelSelector.prefillRows(shapes, new int[] {384, 128}));
        assertEquals(2048, KernelSelector.prefillRows(shapes, new int[] {2048, 128}));
        int fallback = KernelSelector.prefillRows(List.of(new int[] {128, 128}), new int[] {128, 128});
        assertTrue(fallback >= 512 && fallback <= 2048, "shapes without rows: " + fallback);
        // the probe's permuted copies keep codes and scales and permute every column exactly once
        TernaryMatrix m = KernelSelector.matrices(List.of(new int[] {300, 128}), 5)[0], p = KernelSelector.permuted(new TernaryMatrix[] {m})[0];
        assertArrayEquals(m.codes(), p.codes());
        assertArrayEquals(java.util.stream.IntStream.range(0, 300).toArray(), java.util.Arrays.stream(p.perm()).sorted().toArray());
        assertFalse(java.util.Arrays.equals(java.util.stream.IntStream.range(0, 300).toArray(), p.perm()));
    }

    /** The decode probe reads as many weights per round as the model has, in copies of its layers, up to a cap. */
    @Test
    void decodeProbeCopiesFollowTheModelSize() {
        assertEquals(1, KernelSelector.decodeCopies(List.of(new int[] {96, 32})), "no rows given: one copy");
        int[] layer = {2048, 128, 2048}; // one probe copy is 2048 rows of each input width
        assertEquals(1, KernelSelector.decodeCopies(List.of(layer)));
        assertEquals(8, KernelSelector.decodeCopies(java.util.Collections.nCopies(8, layer)));
        assertEquals(3, KernelSelector.decodeCopies(List.of(layer, layer, new int[] {2048, 128, 10})), "partial copies round up");
        // 160 M weights at most: ceil(160e6 / 2048^2) = 39, but a round makes 32 calls per layer, so 32 copies
        assertEquals(32, KernelSelector.decodeCopies(java.util.Collections.nCopies(500, layer)));
        assertEquals(1, KernelSelector.decodeCopies(List.of()), "no ternary layers");
        // TinyLlama-1.1B: 968 M projection weights, a copy at widths 2048 and 5632 holds 2048 * 7680 = 15.7 M
        List<int[]> tiny = dev.tern.model.SyntheticModel.ternaryShapes(dev.tern.model.Architectures.get("tinyllama-1.1b"));
        long weights = 0;
        for (int[] s : tiny) weights += (long) s[0] * s[2];
        assertEquals(22L * (2048L * (2048 + 256 + 256 + 5632 + 5632) + 2048L * 2048 + 5632L * 2048), weights);
        assertEquals(11, KernelSelector.decodeCopies(tiny));
    }

    /** A model without ternary layers (a gptq or rtn checkpoint) runs no probe and writes no cache entry. */
    @Test
    void noTernaryLayersNoProbe(@TempDir Path dir) {
        Path cache = dir.resolve("kernels.json");
        KernelSelector.Choice c = KernelSelector.choose(new KernelConfig(null, cache, KernelConfig.Workload.DECODE), List.of(), s -> { });
        assertEquals(KernelSelector.NO_TERNARY_LAYERS, c.how());
        assertEquals("none (no ternary layers)", c.describe());
        assertEquals(0, c.probeNanos());
        assertFalse(Files.exists(cache));
    }

    @Test
    void cacheKeyNamesTheKernelCode() throws Exception {
        String h = KernelCache.kernelCodeHash();
        // CRC-32 of no bytes is 0: the class files must have been read
        assertNotEquals("0", h);
        assertEquals(h, KernelCache.kernelCodeHash());
        assertTrue(KernelCache.key("1.0", List.of(new int[] {96, 32})).contains("code=" + h));
    }
}
