package dev.tern.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.TernException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** Several safetensors shards seen as one tensor source, as described by a model.safetensors.index.json. */
public final class ShardedSafetensors implements TensorSource {
    /** Shard names come from a downloaded file and become paths: allow plain file names only. */
    private static final Pattern SHARD_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*\\.safetensors");

    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> owner;
    private final Map<String, String> metadata;

    private ShardedSafetensors(List<SafetensorsFile> shards, Map<String, SafetensorsFile> owner,
            Map<String, String> metadata) {
        this.shards = shards;
        this.owner = owner;
        this.metadata = metadata;
    }

    /** The index's weight_map (tensor name to shard file name), validated; shard files must exist. */
    public static Map<String, String> readWeightMap(Path indexJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                    .readTree(Files.readString(indexJson));
        } catch (NoSuchFileException e) {
            throw new TernException("missing " + indexJson);
        } catch (IOException e) {
            throw new TernException("malformed " + indexJson + ": " + SafetensorsFile.firstLine(e.getMessage()));
        }
        JsonNode wm = root == null ? null : root.get("weight_map");
        if (wm == null || !wm.isObject()) throw new TernException("malformed " + indexJson + ": no weight_map object");
        Map<String, String> map = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = wm.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shard = e.getValue().isTextual() ? e.getValue().textValue() : "";
            if (!SHARD_NAME.matcher(shard).matches()) {
                throw new TernException("malformed " + indexJson + ": tensor '" + e.getKey()
                        + "' maps to an invalid shard name " + e.getValue());
            }
            map.put(e.getKey(), shard);
        }
        if (map.isEmpty()) throw new TernException("malformed " + indexJson + ": weight_map is empty");
        return Collections.unmodifiableMap(map);
    }

    /** Distinct shard paths of an index, sorted; TernException if one is missing. */
    public static List<Path> shardPaths(Path indexJson) {
        Path dir = indexJson.toAbsolutePath().getParent();
        List<Path> out = new ArrayList<>();
        for (String s : new TreeSet<>(readWeightMap(indexJson).values())) {
            Path p = dir.resolve(s);
            if (!Files.isRegularFile(p)) throw new TernException("shard missing: " + p + " (listed in " + indexJson + ")");
            out.add(p);
        }
        return out;
    }

    public static ShardedSafetensors open(Path indexJson) {
        Map<String, String> weightMap = readWeightMap(indexJson);
        List<Path> paths = shardPaths(indexJson);
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> owner = new TreeMap<>();
            Map<String, String> meta = new TreeMap<>();
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                meta.putAll(f.metadata());
                for (String n : f.storedNames()) {
                    SafetensorsFile prev = owner.put(n, f);
                    if (prev != null) {
                        throw new TernException(indexJson + ": tensor '" + n + "' is stored in both "
                                + prev.path().getFileName() + " and " + p.getFileName());
                    }
                }
            }
            weightMap.forEach((name, shard) -> {
                SafetensorsFile f = owner.get(name);
                if (f == null || !f.path().getFileName().toString().equals(shard)) {
                    throw new TernException(indexJson + ": tensor '" + name + "' is listed in " + shard
                            + " but is not stored there");
                }
            });
            // Tied aliases resolve within their own shard, and only for names no shard stores.
            for (SafetensorsFile f : opened) {
                f.aliases().keySet().forEach(a -> owner.putIfAbsent(a, f));
            }
            return new ShardedSafetensors(List.copyOf(opened), Collections.unmodifiableMap(owner),
                    Collections.unmodifiableMap(meta));
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile f = owner.get(name);
        if (f == null) {
            throw new TernException("no tensor named '" + name + "' in the shards of "
                    + shards.getFirst().path().getParent());
        }
        return f;
    }

    public List<SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public Set<String> names() {
        return owner.keySet();
    }

    @Override
    public boolean has(String name) {
        return owner.containsKey(name);
    }

    @Override
    public long[] shape(String name) {
        return shard(name).shape(name);
    }

    @Override
    public String dtype(String name) {
        return shard(name).dtype(name);
    }

    @Override
    public float[] floats(String name) {
        return shard(name).floats(name);
    }

    /** Raw little-endian bytes of a tensor; valid until close(). */
    public MemorySegment segment(String name) {
        return shard(name).segment(name);
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
