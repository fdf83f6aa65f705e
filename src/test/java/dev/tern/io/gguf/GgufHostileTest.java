package dev.tern.io.gguf;

import static org.junit.jupiter.api.Assertions.*;

import dev.tern.TernException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed and hostile GGUF files: each is refused with one line naming the file, before any large allocation. */
class GgufHostileTest {
    static final int F32 = GgmlType.F32.id();

    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "bad", ".gguf");
        Files.write(p, bytes);
        return p;
    }

    private Path file(RawGguf raw) throws IOException {
        return file(raw.toBytes());
    }

    static TernException assertBad(Path p, String... fragments) {
        TernException e = assertThrows(TernException.class, () -> GgufFile.open(p).close());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
        assertTrue(e.getMessage().startsWith(p.toString() + ": ") || e.getMessage().equals("missing " + p),
                () -> "names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        return e;
    }

    /** Two F32 tensors of 4 elements (16 bytes) at the given data offsets. */
    static RawGguf twoTensors(long offA, long offB, int dataBytes) {
        return RawGguf.header(3, 2, 1).kvString("general.architecture", "llama")
                .tensor("a", F32, offA, 4).tensor("b", F32, offB, 4).padTo(32).zeros(dataBytes);
    }

    @Test
    void validBaseline() throws IOException {
        try (GgufFile f = GgufFile.open(file(twoTensors(0, 32, 48)))) {
            assertEquals(2, f.tensors().size());
            assertEquals(f.dataStart() + 32, f.tensor("b").offset());
        }
    }

    /** Every prefix of a real file: refused while a tensor is cut, accepted once only trailing padding is missing. */
    @Test
    void truncatedAnywhere() throws IOException {
        byte[] full = GgufWriterTest.everyValueType()
                .addTensor("w", GgmlType.Q8_0, new long[] {2, 32}, GgufWriter.TensorBytes.of(new byte[68]))
                .addTensor("v", GgmlType.F16, new long[] {3}, GgufWriter.TensorBytes.of(new byte[6])).toBytes();
        long end;
        Path whole = file(full);
        try (GgufFile f = GgufFile.open(whole)) {
            end = f.tensor("v").offset() + f.tensor("v").bytes();
        }
        Path p = dir.resolve("cut.gguf");
        // Every cut in the fixed header, then a prime stride (every field offset modulo 11 is hit), then the edges;
        // every single cut would take seconds, each open maps the file and closes a shared arena.
        java.util.SortedSet<Integer> cuts = new java.util.TreeSet<>();
        for (int n = 0; n < 64; n++) cuts.add(n);
        for (int n = 64; n < full.length; n += 11) cuts.add(n);
        cuts.addAll(java.util.List.of((int) end - 1, (int) end, full.length - 1));
        for (int n : cuts) {
            Files.write(p, Arrays.copyOf(full, n));
            if (n < end) {
                assertBad(p);
            } else {
                GgufFile.open(p).close();
            }
        }
        assertBad(p(Arrays.copyOf(full, 400)), "truncated");
        assertBad(p(Arrays.copyOf(full, (int) end - 1)), "tensor 'v'", "runs past the end of the file");
        assertBad(p(new byte[0]), "too short");
    }

    private Path p(byte[] b) throws IOException {
        return file(b);
    }

    @Test
    void magicAndVersion() throws IOException {
        assertBad(file("GGML\3\0\0\0xxxxxxxxxxxxxxxxxxxxxxxx".getBytes()), "not a GGUF file");
        assertBad(file(RawGguf.header(1, 0, 0).zeros(8)), "unsupported GGUF version 1");
        assertBad(file(RawGguf.header(4, 0, 0).zeros(8)), "unsupported GGUF version 4");
        assertBad(file(RawGguf.header(-1, 0, 0).zeros(8)), "unsupported GGUF version 4294967295");
        assertBad(file(RawGguf.header(3 << 24, 0, 0).zeros(8)), "big-endian GGUF");
        try (GgufFile f = GgufFile.open(file(RawGguf.header(2, 0, 1).kvU32("x", 7)))) {
            assertEquals(2, f.version());
            assertEquals(7, f.metadata().requireInteger("x"));
        }
        assertBad(dir.resolve("absent.gguf"), "missing");
    }

    /** Counts far beyond what the file can hold fail at once, without allocating for them. */
    @Test
    void lyingCounts() throws IOException {
        assertBad(file(RawGguf.header(3, 1L << 62, 0).zeros(64)), "tensor count 4611686018427387904 cannot fit");
        assertBad(file(RawGguf.header(3, -1L, 0).zeros(64)), "tensor count 18446744073709551615 cannot fit");
        assertBad(file(RawGguf.header(3, 3, 0).tensor("a", F32, 0, 1).padTo(32).zeros(32)), "tensor count 3");
        assertBad(file(RawGguf.header(3, 0, Long.MAX_VALUE).zeros(64)), "metadata count 9223372036854775807 cannot fit");
        assertBad(file(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.UINT64.id())
                .u64(1L << 40).zeros(64)), "metadata key k array of 1099511627776 UINT64 cannot fit");
        assertBad(file(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.STRING.id())
                .u64(-8).zeros(64)), "metadata key k array of 18446744073709551608 STRING cannot fit");
        assertBad(file(RawGguf.header(3, 0, 1).u64(1L << 60).zeros(64)), "string length 1152921504606846976",
                "runs past the end");
        assertBad(file(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.STRING.id()).u64(-1).zeros(64)),
                "string length 18446744073709551615 of metadata key k runs past the end");
    }

    /** A string length inside the file but beyond the cap (the file is sparse, so this costs no disk). */
    @Test
    void stringBeyondTheCap() throws IOException {
        Path p = dir.resolve("sparse.gguf");
        byte[] head = RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.STRING.id()).u64(GgufParser.MAX_STRING_BYTES + 1L).toBytes();
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(head));
            ch.write(ByteBuffer.wrap(new byte[1]), head.length + GgufParser.MAX_STRING_BYTES + 8L);
        }
        assertBad(p, "string length 16777217 of metadata key k exceeds the 16777216-byte limit");
        assertBad(file(RawGguf.header(3, 0, 1).u64(GgufParser.MAX_NAME_BYTES + 1L).zeros(GgufParser.MAX_NAME_BYTES + 64)),
                "exceeds the 65536-byte limit");
    }

    /** Counts that fit in a big file but would still cost gigabytes of small objects (sparse files: no disk). */
    @Test
    void objectCaps() throws IOException {
        long many = GgufParser.MAX_OBJECTS + 1L;
        assertBad(sparse(RawGguf.header(3, 0, 1).str("tokenizer.ggml.tokens").u32(GgufValueType.ARRAY.id())
                .u32(GgufValueType.STRING.id()).u64(many), 8 * many), "more than 4194304 strings and arrays");
        long tensors = GgufParser.MAX_TENSORS + 1L;
        assertBad(sparse(RawGguf.header(3, tensors, 0), 32 * tensors), "tensor count 1048577 exceeds the limit");
    }

    private Path sparse(RawGguf head, long zeros) throws IOException {
        Path p = Files.createTempFile(dir, "sparse", ".gguf");
        byte[] h = head.toBytes();
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(h));
            ch.write(ByteBuffer.wrap(new byte[1]), h.length + zeros);
        }
        return p;
    }

    @Test
    void badTensorOffsets() throws IOException {
        assertBad(file(twoTensors(0, 64, 48)), "tensor 'b'", "runs past the end of the file");
        assertBad(file(twoTensors(0, 1L << 40, 48)), "tensor 'b'", "runs past the end of the file");
        assertBad(file(twoTensors(0, -32, 48)), "tensor 'b'", "runs past the end of the file");
        assertBad(file(twoTensors(0, 16, 48)), "tensor 'b' offset 16 is not a multiple of the alignment 32");
        assertBad(file(twoTensors(0, -1, 48)), "tensor 'b' offset 18446744073709551615 is not a multiple");
    }

    @Test
    void overlappingTensors() throws IOException {
        assertBad(file(twoTensors(0, 0, 48)), "tensors 'a' and 'b' overlap");
        // Overlap needs a tensor longer than the alignment: 16 floats = 64 bytes at 0, and another at 32.
        assertBad(file(RawGguf.header(3, 2, 0).tensor("big", F32, 0, 16).tensor("b", F32, 32, 4).padTo(32).zeros(96)),
                "tensors 'big' and 'b' overlap");
    }

    @Test
    void unknownTypes() throws IOException {
        assertBad(file(RawGguf.header(3, 1, 0).tensor("blk.0.attn_q.weight", 99, 0, 4).padTo(32).zeros(32)),
                "tensor 'blk.0.attn_q.weight' has unknown GGML tensor type 99");
        assertBad(file(RawGguf.header(3, 1, 0).tensor("w", 31, 0, 32).padTo(32).zeros(64)), "unknown GGML tensor type 31");
        assertBad(file(RawGguf.header(3, 0, 1).str("k").u32(13).zeros(16)), "metadata key k has unknown value type 13");
        assertBad(file(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(-2).u64(1).zeros(16)),
                "unknown value type 4294967294");
    }

    @Test
    void badDimensions() throws IOException {
        assertBad(file(RawGguf.header(3, 1, 0).tensor("w", F32, 0).padTo(32).zeros(32)), "tensor 'w' has 0 dimensions");
        assertBad(file(RawGguf.header(3, 1, 0).tensor("w", F32, 0, 1, 1, 1, 1, 1).padTo(32).zeros(32)), "has 5 dimensions");
        assertBad(file(RawGguf.header(3, 1, 0).tensor("w", F32, 0, 4, 0).padTo(32).zeros(32)), "has dimension 0");
        assertBad(file(RawGguf.header(3, 1, 0).tensor("w", F32, 0, 4, -1).padTo(32).zeros(32)), "has dimension 18446744073709551615");
        assertBad(file(RawGguf.header(3, 1, 0).tensor("w", F32, 0, 1L << 32, 1L << 32).padTo(32).zeros(32)), "overflow");
        assertBad(file(RawGguf.header(3, 1, 0).tensor("w", F32, 0, 1L << 61).padTo(32).zeros(32)), "too large");
        assertBad(file(RawGguf.header(3, 1, 0).tensor("w", GgmlType.Q8_0.id(), 0, 16, 2).padTo(32).zeros(64)),
                "row length 16 is not a multiple of the Q8_0 block size 32");
    }

    @Test
    void duplicates() throws IOException {
        assertBad(file(RawGguf.header(3, 2, 0).tensor("w", F32, 0, 4).tensor("w", F32, 32, 4).padTo(32).zeros(64)),
                "duplicate tensor name 'w'");
        assertBad(file(RawGguf.header(3, 0, 2).kvU32("k", 1).kvU32("k", 2)), "duplicate metadata key k");
    }

    @Test
    void notUtf8() throws IOException {
        byte[] bad = {'w', (byte) 0xC3, '(', 0};
        assertBad(file(RawGguf.header(3, 1, 0).bytes(bad).u32(1).u64(4).u32(F32).u64(0).padTo(32).zeros(32)),
                "the name of tensor 0 is not valid UTF-8");
        assertBad(file(RawGguf.header(3, 0, 1).bytes(new byte[] {(byte) 0xFF}).u32(GgufValueType.UINT8.id()).u8(1)),
                "metadata key 0 is not valid UTF-8");
        assertBad(file(RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.STRING.id()).bytes(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})),
                "metadata key k is not valid UTF-8");
    }

    @Test
    void badAlignmentAndValues() throws IOException {
        assertBad(file(RawGguf.header(3, 0, 1).kvU32("general.alignment", 48)), "general.alignment 48 is not a power of two");
        assertBad(file(RawGguf.header(3, 0, 1).kvU32("general.alignment", 0)), "general.alignment 0 is not a power of two");
        assertBad(file(RawGguf.header(3, 0, 1).kvString("general.alignment", "32")), "general.alignment has type STRING, expected UINT32");
        assertBad(file(RawGguf.header(3, 0, 1).str("b").u32(GgufValueType.BOOL.id()).u8(2)), "BOOL value 2");
        RawGguf deep = RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id());
        for (int i = 0; i < 20; i++) deep.u32(GgufValueType.ARRAY.id()).u64(1);
        assertBad(file(deep.zeros(64)), "nests arrays deeper than 8 levels");
    }

    /** With alignment 1 tensors may sit anywhere; the header still has to end before the data. */
    @Test
    void alignmentOneAllowsAnyOffset() throws IOException {
        byte[] b = RawGguf.header(3, 1, 1).kvU32("general.alignment", 1).tensor("w", F32, 3, 2).zeros(11).toBytes();
        try (GgufFile f = GgufFile.open(file(b))) {
            assertEquals(b.length - 8, f.tensor("w").offset());
            assertEquals(2, f.floats("w").length);
        }
    }
}
