package dev.tern.tokenizer;

import java.util.Arrays;

/** Growable int array, to keep token ids unboxed. */
final class IntList {
    private int[] data;
    private int size;

    IntList(int capacity) {
        data = new int[Math.max(4, capacity)];
    }

    void add(int v) {
        if (size == data.length) {
            data = Arrays.copyOf(data, size * 2);
        }
        data[size++] = v;
    }

    void addAll(int[] vs) {
        if (size + vs.length > data.length) {
            data = Arrays.copyOf(data, Math.max(size * 2, size + vs.length));
        }
        System.arraycopy(vs, 0, data, size, vs.length);
        size += vs.length;
    }

    int size() {
        return size;
    }

    int get(int i) {
        return data[i];
    }

    int[] toArray() {
        return Arrays.copyOf(data, size);
    }

    int[] slice(int from, int to) {
        return Arrays.copyOfRange(data, from, to);
    }

    /** Drops the first n elements. */
    void dropFirst(int n) {
        System.arraycopy(data, n, data, 0, size - n);
        size -= n;
    }
}
