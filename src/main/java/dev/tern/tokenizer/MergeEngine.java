package dev.tern.tokenizer;

/**
 * Greedy pair merging shared by the HF BPE model and llama2.c: repeatedly merge the adjacent pair of best rank,
 * leftmost first on ties. A binary heap with lazy invalidation makes this O(n log n), which matters because a
 * SentencePiece-style tokenizer without a pre-tokenizer hands the whole input to the merger as one word.
 */
final class MergeEngine {
    /** pair key -> (rank << 32 | mergedId); rank 0 is merged first. */
    private final LongLongMap pairs;

    MergeEngine(LongLongMap pairs) {
        this.pairs = pairs;
    }

    static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xffffffffL);
    }

    static long pairValue(int rank, int merged) {
        return ((long) rank << 32) | (merged & 0xffffffffL);
    }

    int[] merge(int[] symbols) {
        int n = symbols.length;
        if (n < 2) {
            return symbols.clone();
        }
        int[] ids = symbols.clone();
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        Heap heap = new Heap(n);
        for (int i = 0; i + 1 < n; i++) {
            push(heap, ids, i, i + 1);
        }
        int alive = n;
        while (heap.size > 0) {
            long key = heap.topKey();
            int expectedMerged = heap.topPayload();
            heap.pop();
            int pos = (int) key;
            int rank = (int) (key >>> 32);
            int right = next[pos];
            if (ids[pos] < 0 || right < 0) {
                continue;
            }
            long v = pairs.get(pairKey(ids[pos], ids[right]), -1L);
            // The queued pair may have been consumed by an earlier merge; only act if it still exists as queued.
            if (v == -1L || (int) (v >>> 32) != rank || (int) v != expectedMerged) {
                continue;
            }
            ids[pos] = expectedMerged;
            ids[right] = -1;
            int after = next[right];
            next[pos] = after;
            if (after >= 0) {
                prev[after] = pos;
            }
            alive--;
            if (prev[pos] >= 0) {
                push(heap, ids, prev[pos], pos);
            }
            if (after >= 0) {
                push(heap, ids, pos, after);
            }
        }
        int[] out = new int[alive];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            out[k++] = ids[i];
        }
        return out;
    }

    private void push(Heap heap, int[] ids, int left, int right) {
        long v = pairs.get(pairKey(ids[left], ids[right]), -1L);
        if (v != -1L) {
            heap.push(((v >>> 32) << 32) | left, (int) v);
        }
    }

    /** Min-heap of (rank, position) keys with the merged id as payload. */
    private static final class Heap {
        long[] keys;
        int[] payloads;
        int size;

        Heap(int capacity) {
            keys = new long[Math.max(4, capacity)];
            payloads = new int[keys.length];
        }

        long topKey() {
            return keys[0];
        }

        int topPayload() {
            return payloads[0];
        }

        void push(long key, int payload) {
            if (size == keys.length) {
                keys = java.util.Arrays.copyOf(keys, size * 2);
                payloads = java.util.Arrays.copyOf(payloads, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (keys[parent] <= key) {
                    break;
                }
                keys[i] = keys[parent];
                payloads[i] = payloads[parent];
                i = parent;
            }
            keys[i] = key;
            payloads[i] = payload;
        }

        void pop() {
            size--;
            if (size == 0) {
                return;
            }
            long key = keys[size];
            int payload = payloads[size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && keys[child + 1] < keys[child]) {
                    child++;
                }
                if (keys[child] >= key) {
                    break;
                }
                keys[i] = keys[child];
                payloads[i] = payloads[child];
                i = child;
            }
            keys[i] = key;
            payloads[i] = payload;
        }
    }
}
