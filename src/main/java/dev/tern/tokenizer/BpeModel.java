package dev.tern.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The tokenizer.json BPE model: per-word merge by rank, with SentencePiece-style byte fallback and unk fusing. */
final class BpeModel {
    private static final int MAX_CACHED_WORD = 256;
    private static final int MAX_CACHE_ENTRIES = 100_000;

    private final Map<String, Integer> vocab;
    private final MergeEngine merger;
    private final int[] byteIds;
    private final boolean byteFallback;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    // Pre-tokenized text repeats words constantly (" the", " of"); caching them makes large inputs cheap.
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    BpeModel(Map<String, Integer> vocab, LongLongMap merges, boolean byteFallback, int unkId, boolean fuseUnk,
            boolean ignoreMerges) {
        this.vocab = vocab;
        this.merger = new MergeEngine(merges);
        this.byteFallback = byteFallback;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        this.byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            byteIds[b] = vocab.getOrDefault(String.format("<0x%02X>", b), -1);
        }
    }

    void encodeWord(String word, IntList out) {
        if (word.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        boolean cacheable = word.length() < MAX_CACHED_WORD;
        if (cacheable) {
            int[] hit = cache.get(word);
            if (hit != null) {
                out.addAll(hit);
                return;
            }
        }
        int[] ids = merger.merge(initialSymbols(word));
        if (cacheable) {
            if (cache.size() > MAX_CACHE_ENTRIES) {
                cache.clear();
            }
            cache.put(word, ids);
        }
        out.addAll(ids);
    }

    /** One symbol per code point; unknown ones become byte tokens if all exist, else (fused) unk, else vanish. */
    private int[] initialSymbols(String word) {
        IntList syms = new IntList(word.length());
        boolean pendingUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int len = Character.charCount(cp);
            String ch = word.substring(i, i + len);
            i += len;
            Integer id = vocab.get(ch);
            if (id != null) {
                if (pendingUnk) {
                    syms.add(unkId);
                    pendingUnk = false;
                }
                syms.add(id);
                continue;
            }
            if (byteFallback) {
                byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : bytes) {
                    all &= byteIds[b & 0xff] >= 0;
                }
                if (all) {
                    if (pendingUnk) {
                        syms.add(unkId);
                        pendingUnk = false;
                    }
                    for (byte b : bytes) {
                        syms.add(byteIds[b & 0xff]);
                    }
                    continue;
                }
            }
            if (unkId >= 0) {
                if (pendingUnk && !fuseUnk) {
                    syms.add(unkId);
                }
                pendingUnk = true;
            }
        }
        if (pendingUnk) {
            syms.add(unkId);
        }
        return syms.toArray();
    }
}
