package dev.tern.io;

import dev.tern.TernException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * Turns a model argument (local folder or Hugging Face repo id) into a local folder, using the standard Hugging Face
 * cache layout and downloading missing files over HTTPS with resume.
 */
public final class HfHub {
    private static final Pattern REPO_ID =
            Pattern.compile("([A-Za-z0-9][A-Za-z0-9._-]{0,95})/([A-Za-z0-9][A-Za-z0-9._-]{0,95})");
    /** The commit id becomes a folder name, so anything but a plain token is replaced by "main". */
    private static final Pattern COMMIT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final List<String> OPTIONAL_FILES =
            List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json");
    private static final int ATTEMPTS = 4;
    private static final int MAX_REDIRECTS = 10;
    private static final Duration STALL_TIMEOUT = Duration.ofSeconds(60);

    private final Path cacheRoot;
    private final String endpoint;
    private final String token;
    private final boolean progress;
    private final HttpClient client;

    /**
     * @param cacheRoot the hub cache folder (the one holding models--owner--name)
     * @param endpoint  e.g. https://huggingface.co
     * @param token     bearer token, or null
     * @param progress  draw a progress bar per file on stderr
     */
    public HfHub(Path cacheRoot, String endpoint, String token, boolean progress) {
        this.cacheRoot = cacheRoot;
        this.endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.progress = progress;
        // Redirects are followed by hand so the token is not forwarded to another host (LFS/CDN URLs are presigned).
        this.client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30))
                .build();
    }

    /** Configured from HF_HUB_CACHE / HF_HOME / XDG_CACHE_HOME, HF_ENDPOINT and HF_TOKEN, like huggingface_hub. */
    public static HfHub fromEnvironment() {
        Map<String, String> env = System.getenv();
        return new HfHub(cacheRootFrom(env, Path.of(System.getProperty("user.home"))),
                env.getOrDefault("HF_ENDPOINT", "https://huggingface.co"), env.get("HF_TOKEN"), true);
    }

    public static Path cacheRootFrom(Map<String, String> env, Path home) {
        if (nonEmpty(env.get("HF_HUB_CACHE"))) return Path.of(env.get("HF_HUB_CACHE"));
        if (nonEmpty(env.get("HF_HOME"))) return Path.of(env.get("HF_HOME"), "hub");
        if (nonEmpty(env.get("XDG_CACHE_HOME"))) return Path.of(env.get("XDG_CACHE_HOME"), "huggingface", "hub");
        return home.resolve(".cache").resolve("huggingface").resolve("hub");
    }

    private static boolean nonEmpty(String s) {
        return s != null && !s.isEmpty();
    }

    public Path cacheRoot() {
        return cacheRoot;
    }

    /** An existing local path as is; otherwise a repo id, served from the cache and downloaded if incomplete. */
    public Path resolve(String modelArg) {
        try {
            Path local = Path.of(modelArg);
            if (Files.exists(local)) return local;
        } catch (InvalidPathException ignored) {
            // Not a usable path on this OS; it may still be a repo id.
        }
        if (!isRepoId(modelArg)) {
            throw new TernException("model not found: " + modelArg
                    + " (no such file or folder, and not a Hugging Face repo id like owner/name)");
        }
        return snapshot(modelArg);
    }

    public static boolean isRepoId(String s) {
        return REPO_ID.matcher(s).matches() && !s.contains("..") && !s.contains("--");
    }

    /** Folder of the repo in the cache: models--owner--name. */
    public Path repoDir(String repoId) {
        Matcher m = REPO_ID.matcher(repoId);
        if (!isRepoId(repoId) || !m.matches()) throw new TernException("not a Hugging Face repo id: " + repoId);
        return cacheRoot.resolve("models--" + m.group(1) + "--" + m.group(2));
    }

    /** The snapshot folder for refs/main, complete with config and weights; downloads what is missing. */
    public Path snapshot(String repoId) {
        Path repoDir = repoDir(repoId);
        String commit = readRef(repoDir);
        if (commit != null) {
            Path snap = repoDir.resolve("snapshots").resolve(commit);
            if (isComplete(snap)) return snap;
        }
        return download(repoId, repoDir, commit);
    }

    private static String readRef(Path repoDir) {
        Path ref = repoDir.resolve("refs").resolve("main");
        if (!Files.isRegularFile(ref)) return null;
        try {
            String c = Files.readString(ref, StandardCharsets.UTF_8).strip();
            return COMMIT.matcher(c).matches() ? c : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Config plus all weights present (optional tokenizer files may legitimately be absent upstream). */
    static boolean isComplete(Path snap) {
        if (!Files.isRegularFile(snap.resolve("config.json"))) return false;
        if (Files.isRegularFile(snap.resolve("model.safetensors"))) return true;
        Path index = snap.resolve("model.safetensors.index.json");
        if (!Files.isRegularFile(index)) return false;
        return ShardedSafetensors.readWeightMap(index).values().stream()
                .allMatch(s -> Files.isRegularFile(snap.resolve(s)));
    }

    private Path download(String repo, Path repoDir, String knownCommit) {
        Path snap;
        String rev;
        if (knownCommit != null) {
            rev = knownCommit;
            snap = repoDir.resolve("snapshots").resolve(rev);
            fetchInto(repo, rev, "config.json", snap, true);
        } else {
            // The commit id names the snapshot folder, and only the first response tells us what it is.
            Path staged = repoDir.resolve("config.json.incomplete");
            Fetched f = fetch(repo, "main", "config.json", staged, true);
            String c = f.commit != null && COMMIT.matcher(f.commit).matches() ? f.commit : "main";
            rev = c;
            snap = repoDir.resolve("snapshots").resolve(rev);
            try {
                Files.createDirectories(snap);
                Files.move(staged, snap.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new TernException("cannot write " + snap + ": " + e.getMessage(), e);
            }
            // Written early so an interrupted download resumes into the same snapshot next time.
            AtomicFiles.writeString(repoDir.resolve("refs").resolve("main"), rev);
        }
        for (String file : OPTIONAL_FILES) fetchInto(repo, rev, file, snap, false);
        Path index = snap.resolve("model.safetensors.index.json");
        boolean sharded = Files.isRegularFile(index);
        if (!sharded) {
            boolean single = fetchInto(repo, rev, "model.safetensors", snap, false);
            if (!single) {
                sharded = fetchInto(repo, rev, "model.safetensors.index.json", snap, false);
                if (!sharded) {
                    throw new TernException("cannot download " + repo + ": it has neither model.safetensors nor"
                            + " model.safetensors.index.json (Tern needs safetensors weights)");
                }
            }
        }
        if (sharded) {
            for (String shard : new java.util.TreeSet<>(ShardedSafetensors.readWeightMap(index).values())) {
                fetchInto(repo, rev, shard, snap, true);
            }
        }
        return snap;
    }

    /** Downloads file into snap unless it is already there; false if an optional file does not exist upstream. */
    private boolean fetchInto(String repo, String rev, String file, Path snap, boolean required) {
        Path dest = snap.resolve(file);
        if (Files.isRegularFile(dest)) return true;
        try {
            Files.createDirectories(snap);
        } catch (IOException e) {
            throw new TernException("cannot write " + snap + ": " + e.getMessage(), e);
        }
        Path part = snap.resolve(file + ".incomplete");
        Fetched f = fetch(repo, rev, file, part, required);
        if (!f.found) return false;
        try {
            Files.move(part, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new TernException("cannot write " + dest + ": " + e.getMessage(), e);
        }
        return true;
    }

    private record Fetched(boolean found, String commit) {}

    /**
     * Downloads one file into {@code part}, resuming from whatever {@code part} already holds, retrying a few times
     * on connection errors. A failed download keeps its partial data so the next run can resume.
     */
    private Fetched fetch(String repo, String rev, String file, Path part, boolean required) {
        String what = repo + "/" + file;
        URI uri = URI.create(endpoint + "/" + repo + "/resolve/" + rev + "/" + file);
        IOException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                return fetchOnce(what, uri, part, required);
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TernException("cannot download " + what + ": interrupted");
            }
            try {
                Thread.sleep(200L * attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TernException("cannot download " + what + ": interrupted");
            }
        }
        String why = last instanceof ConnectException ? "cannot connect to " + endpoint : String.valueOf(last.getMessage());
        if (why.equals("null")) why = last.getClass().getSimpleName();
        throw new TernException("cannot download " + what + ": " + why
                + (Files.exists(part) ? " (partial download kept; run again to resume)" : ""), last);
    }

    private Fetched fetchOnce(String what, URI uri, Path part, boolean required)
            throws IOException, InterruptedException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        HttpResponse<InputStream> resp = send(uri, have);
        try (InputStream body = resp.body()) {
            int code = resp.statusCode();
            if (code == 404) {
                if (!required) return new Fetched(false, null);
                throw new TernException("cannot download " + what + ": not found (HTTP 404 from " + uri
                        + "); check the repo id and file name");
            }
            if (code == 401 || code == 403) {
                throw new TernException("cannot download " + what + ": access denied (HTTP " + code
                        + "); for a gated or private repo accept its licence and set HF_TOKEN");
            }
            if (code == 416 && have > 0) {
                // Our partial file is not a prefix the server recognises; start over.
                Files.delete(part);
                throw new IOException("server refused to resume (HTTP 416)");
            }
            if (code != 200 && code != 206) throw new IOException("HTTP " + code + " from " + uri);
            boolean append = code == 206;
            if (append && rangeStart(resp) != have) {
                Files.deleteIfExists(part);
                throw new IOException("server resumed at the wrong offset");
            }
            long length = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
            long expected = length < 0 ? -1 : (append ? have : 0) + length;
            String commit = resp.headers().firstValue("X-Repo-Commit").orElse(null);
            copy(body, part, append, append ? have : 0, expected, uri.getPath().substring(uri.getPath().lastIndexOf('/') + 1));
            long got = Files.size(part);
            if (expected >= 0 && got != expected) {
                throw new IOException("connection closed after " + got + " of " + expected + " bytes");
            }
            return new Fetched(true, commit);
        }
    }

    /** Sends a GET, following redirects by hand and dropping the token when the host changes. */
    private HttpResponse<InputStream> send(URI uri, long rangeFrom) throws IOException, InterruptedException {
        URI current = uri;
        boolean sameHost = true;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder rb = HttpRequest.newBuilder(current).GET().timeout(Duration.ofSeconds(60))
                    .header("User-Agent", "tern/0.1");
            if (token != null && sameHost) rb.header("Authorization", "Bearer " + token);
            if (rangeFrom > 0) rb.header("Range", "bytes=" + rangeFrom + "-");
            HttpResponse<InputStream> resp = client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
            int code = resp.statusCode();
            Optional<String> loc = resp.headers().firstValue("Location");
            if ((code == 301 || code == 302 || code == 303 || code == 307 || code == 308) && loc.isPresent()) {
                resp.body().close();
                URI next = current.resolve(loc.get());
                sameHost = sameHost && java.util.Objects.equals(next.getHost(), uri.getHost())
                        && next.getPort() == uri.getPort();
                current = next;
                continue;
            }
            return resp;
        }
        throw new IOException("too many redirects from " + uri);
    }

    private static long rangeStart(HttpResponse<?> resp) {
        // Content-Range: bytes START-END/TOTAL
        String cr = resp.headers().firstValue("Content-Range").orElse("");
        Matcher m = Pattern.compile("bytes (\\d+)-\\d+/(\\d+|\\*)").matcher(cr.strip());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    private void copy(InputStream in, Path part, boolean append, long start, long total, String name)
            throws IOException {
        Files.createDirectories(part.getParent());
        var opts = append
                ? new StandardOpenOption[] {StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND}
                : new StandardOpenOption[] {StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING};
        AtomicLong lastData = new AtomicLong(System.nanoTime());
        AtomicBoolean stalled = new AtomicBoolean();
        // HttpClient has no read timeout for bodies; closing the stream from here unblocks a read that never returns.
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                while (System.nanoTime() - lastData.get() < STALL_TIMEOUT.toNanos()) Thread.sleep(500);
                stalled.set(true);
                in.close();
            } catch (InterruptedException | IOException ignored) {
                // Interrupted means the copy finished first.
            }
        });
        try (FileChannel ch = FileChannel.open(part, opts); ProgressBar bar = progressBar(name, start, total)) {
            byte[] buf = new byte[1 << 16];
            long done = start;
            int n;
            try {
                while ((n = in.read(buf)) > 0) {
                    lastData.set(System.nanoTime());
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    while (bb.hasRemaining()) ch.write(bb);
                    done += n;
                    if (bar != null) bar.stepTo(done);
                }
            } finally {
                // Whatever arrived is kept durably, so a later run can resume from it.
                ch.force(true);
            }
        } finally {
            watchdog.interrupt();
        }
        if (stalled.get()) throw new IOException("no data received for " + STALL_TIMEOUT.toSeconds() + " s");
    }

    private ProgressBar progressBar(String name, long start, long total) {
        if (!progress) return null;
        return new ProgressBarBuilder().setTaskName(name).setInitialMax(total)
                .setConsumer(new ConsoleProgressBarConsumer(System.err, 100))
                .setUnit("MiB", 1 << 20).showSpeed().startsFrom(start, Duration.ZERO).build();
    }
}
