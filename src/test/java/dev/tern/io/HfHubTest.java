package dev.tern.io;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tern.TernException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfHubTest {
    static final Path TINY = Path.of("..", "shared", "models", "tinystories-656k");
    static final String REPO = "raincandy-u/TinyStories-656K";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    Path tmp;

    private FakeHub hub;

    /** A loopback stand-in for the Hub's /{repo}/resolve/{rev}/{file} endpoint, with Range support. */
    static final class FakeHub implements AutoCloseable {
        final HttpServer server;
        final Path root;
        final Set<String> hidden = ConcurrentHashMap.newKeySet();
        final Set<String> redirected = ConcurrentHashMap.newKeySet();
        /** file name -> bytes after which the first response is cut off. */
        final Map<String, Integer> cutOnce = new ConcurrentHashMap<>();
        /** The cut waits (up to 10 s) until this holds. */
        volatile BooleanSupplier cutWhen = () -> true;
        final List<String> log = new CopyOnWriteArrayList<>();
        volatile String commit = COMMIT;

        FakeHub(Path root) throws IOException {
            this.root = root;
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/", this::handle);
            server.start();
        }

        String endpoint() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        private void handle(HttpExchange ex) throws IOException {
            try (ex) {
                String path = ex.getRequestURI().getPath();
                String range = ex.getRequestHeaders().getFirst("Range");
                log.add(path + " range=" + range + " auth=" + ex.getRequestHeaders().getFirst("Authorization"));
                String[] parts = path.split("/");
                // "", owner, name, "resolve", rev, file   or   "", "cdn", file
                String file = parts[parts.length - 1];
                boolean viaCdn = parts.length == 3 && parts[1].equals("cdn");
                if (!viaCdn && (parts.length != 6 || !parts[3].equals("resolve"))) {
                    ex.sendResponseHeaders(400, -1);
                    return;
                }
                Path f = root.resolve(file);
                if (hidden.contains(file) || !Files.isRegularFile(f)) {
                    ex.sendResponseHeaders(404, -1);
                    return;
                }
                if (commit != null) ex.getResponseHeaders().add("X-Repo-Commit", commit);
                if (!viaCdn && redirected.contains(file)) {
                    ex.getResponseHeaders().add("Location", "/cdn/" + file);
                    ex.sendResponseHeaders(302, -1);
                    return;
                }
                byte[] all = Files.readAllBytes(f);
                int start = 0;
                if (range != null) {
                    start = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
                    if (start >= all.length) {
                        ex.sendResponseHeaders(416, -1);
                        return;
                    }
                    ex.getResponseHeaders().add("Content-Range",
                            "bytes " + start + "-" + (all.length - 1) + "/" + all.length);
                }
                ex.sendResponseHeaders(range != null ? 206 : 200, all.length - start);
                OutputStream os = ex.getResponseBody();
                Integer cut = cutOnce.remove(file);
                if (cut != null) {
                    os.write(all, start, cut);
                    os.flush();
                    // HttpClient drops received-but-unread body bytes when a connection fails, so cut once they have been read.
                    for (long t0 = System.nanoTime(); !cutWhen.getAsBoolean() && System.nanoTime() - t0 < 10_000_000_000L; ) {
                        LockSupport.parkNanos(1_000_000);
                    }
                    // Closing with bytes still owed throws; letting that escape the handler makes the server
                    // drop the connection, so the client sees a truncated body.
                    os.close();
                    return;
                }
                os.write(all, start, all.length - start);
            }
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    @AfterEach
    void stop() {
        if (hub != null) hub.close();
    }

    private HfHub client(String token) {
        return new HfHub(tmp.resolve("hf-home").resolve("hub"), hub.endpoint(), token, false);
    }

    private static void assertSameBytes(Path a, Path b) throws IOException {
        assertEquals(-1, Files.mismatch(a, b), () -> a + " differs from " + b);
    }

    @Test
    void freshDownloadThenCacheHit() throws IOException {
        hub = new FakeHub(TINY);
        HfHub h = client("secret-token");
        Path snap = h.resolve(REPO);
        Path repoDir = tmp.resolve("hf-home/hub/models--raincandy-u--TinyStories-656K");
        assertEquals(repoDir.resolve("snapshots").resolve(COMMIT), snap);
        assertEquals(COMMIT, Files.readString(repoDir.resolve("refs/main")));
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json",
                "model.safetensors")) {
            assertSameBytes(TINY.resolve(f), snap.resolve(f));
        }
        try (var s = Files.list(snap)) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(".incomplete")));
        }
        assertTrue(hub.log.stream().allMatch(l -> l.endsWith("auth=Bearer secret-token")), hub.log.toString());
        assertTrue(hub.log.getFirst().contains("/resolve/main/config.json"), hub.log.toString());
        ModelDir md = ModelDir.open(snap);
        assertEquals(128, md.config().hiddenSize());

        int requests = hub.log.size();
        assertEquals(snap, client(null).resolve(REPO));
        assertEquals(requests, hub.log.size(), "a complete snapshot needs no network");
    }

    @Test
    void resumesAfterConnectionCut() throws IOException {
        hub = new FakeHub(TINY);
        hub.cutOnce.put("model.safetensors", 1_000_000);
        Path part = tmp.resolve("hf-home/hub/models--raincandy-u--TinyStories-656K/snapshots/" + COMMIT
                + "/model.safetensors.incomplete");
        hub.cutWhen = () -> part.toFile().length() >= 1_000_000;
        Path snap = client(null).resolve(REPO);
        assertSameBytes(TINY.resolve("model.safetensors"), snap.resolve("model.safetensors"));
        assertTrue(hub.log.stream().anyMatch(l -> l.contains("model.safetensors range=bytes=1000000-")),
                hub.log.toString());
    }

    @Test
    void resumesPreexistingPartialFile() throws IOException {
        hub = new FakeHub(TINY);
        Path repoDir = tmp.resolve("hf-home/hub/models--raincandy-u--TinyStories-656K");
        Path snap = Files.createDirectories(repoDir.resolve("snapshots").resolve(COMMIT));
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs/main"), COMMIT + "\n");
        Files.copy(TINY.resolve("config.json"), snap.resolve("config.json"));
        byte[] src = Files.readAllBytes(TINY.resolve("model.safetensors"));
        Files.write(snap.resolve("model.safetensors.incomplete"), java.util.Arrays.copyOf(src, 123_457));

        assertEquals(snap, client(null).resolve(REPO));
        assertSameBytes(TINY.resolve("model.safetensors"), snap.resolve("model.safetensors"));
        assertFalse(Files.exists(snap.resolve("model.safetensors.incomplete")));
        assertTrue(hub.log.stream().noneMatch(l -> l.contains("/" + COMMIT + "/config.json ")), "present files are not refetched");
        assertTrue(hub.log.stream().anyMatch(l -> l.contains("/resolve/" + COMMIT + "/model.safetensors range=bytes=123457-")),
                hub.log.toString());
    }

    @Test
    void redirectAndOptionalFilesAndNoCommitHeader() throws IOException {
        hub = new FakeHub(TINY);
        hub.commit = null;
        hub.redirected.add("model.safetensors");
        hub.hidden.add("generation_config.json");
        Path snap = client("t").resolve(REPO);
        assertEquals("main", snap.getFileName().toString());
        assertFalse(Files.exists(snap.resolve("generation_config.json")));
        assertSameBytes(TINY.resolve("model.safetensors"), snap.resolve("model.safetensors"));
        assertTrue(hub.log.stream().anyMatch(l -> l.startsWith("/cdn/model.safetensors")), hub.log.toString());
    }

    @Test
    void missingRequiredFilesGiveClearErrors() throws IOException {
        hub = new FakeHub(TINY);
        hub.hidden.add("config.json");
        TernException e = assertThrows(TernException.class, () -> client(null).resolve(REPO));
        assertTrue(e.getMessage().startsWith("cannot download " + REPO + "/config.json: not found (HTTP 404"),
                e.getMessage());

        hub.hidden.clear();
        hub.hidden.add("model.safetensors");
        e = assertThrows(TernException.class, () -> client(null).resolve(REPO));
        assertTrue(e.getMessage().contains("neither model.safetensors nor model.safetensors.index.json"),
                e.getMessage());
    }

    @Test
    void shardedDownload() throws IOException {
        Path src = Files.createDirectory(tmp.resolve("src"));
        Files.copy(TINY.resolve("config.json"), src.resolve("config.json"));
        new SafetensorsWriter().addF32("a", new long[] {2}, new float[] {1, 2}).write(src.resolve("m-1.safetensors"));
        new SafetensorsWriter().addF32("b", new long[] {1}, new float[] {3}).write(src.resolve("m-2.safetensors"));
        Files.writeString(src.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"a\":\"m-1.safetensors\",\"b\":\"m-2.safetensors\"}}");
        hub = new FakeHub(src);
        // With the progress bar on, to make sure drawing it to stderr does not get in the way.
        Path snap = new HfHub(tmp.resolve("hf-home/hub"), hub.endpoint(), null, true).resolve("o/sharded");
        assertSameBytes(src.resolve("m-2.safetensors"), snap.resolve("m-2.safetensors"));
        try (TensorSource s = ModelDir.open(snap).openWeights()) {
            assertArrayEquals(new float[] {3}, s.floats("b"));
        }
    }

    @Test
    void noNetwork() throws IOException {
        hub = new FakeHub(TINY);
        HfHub h = client(null);
        hub.close();
        TernException e = assertThrows(TernException.class, () -> h.resolve(REPO));
        assertTrue(e.getMessage().startsWith("cannot download " + REPO + "/config.json: cannot connect to "), e.getMessage());
        hub = null;
    }

    @Test
    void localPathsAndBadArguments() {
        HfHub h = new HfHub(tmp, "http://127.0.0.1:9", null, false);
        assertEquals(TINY, h.resolve(TINY.toString()));
        for (String bad : List.of("/definitely/not/here", "a/b/c", "owner/..", "no-slash", "own er/x", "a--b/c")) {
            TernException e = assertThrows(TernException.class, () -> h.resolve(bad));
            assertTrue(e.getMessage().startsWith("model not found: " + bad), e.getMessage());
        }
    }

    @Test
    void cacheRootFromEnvironment() {
        Path home = Path.of("/home/u");
        assertEquals(Path.of("/c"), HfHub.cacheRootFrom(Map.of("HF_HUB_CACHE", "/c", "HF_HOME", "/h"), home));
        assertEquals(Path.of("/h/hub"), HfHub.cacheRootFrom(Map.of("HF_HOME", "/h"), home));
        assertEquals(Path.of("/x/huggingface/hub"), HfHub.cacheRootFrom(Map.of("XDG_CACHE_HOME", "/x"), home));
        assertEquals(Path.of("/home/u/.cache/huggingface/hub"), HfHub.cacheRootFrom(Map.of(), home));
    }
}
