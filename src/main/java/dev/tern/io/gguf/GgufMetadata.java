package dev.tern.io.gguf;

import dev.tern.TernException;
import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Typed GGUF key/value metadata. It is also the {@code Map<String, String>} of {@link #asStrings()}, so
 * {@link GgufFile#metadata()} can return it and still be {@code TensorSource.metadata()}.
 */
public final class GgufMetadata extends AbstractMap<String, String> {
    /**
     * One value: Long for every integer type (unsigned zero-extended, UINT64 as its 64 bits), Float, Double, Boolean,
     * String or GgufArray.
     */
    record Value(GgufValueType type, Object value) {}

    private final String source;
    private final Map<String, Value> values;
    private final Map<String, String> strings;

    /** source names the file in error messages; values in file order. */
    GgufMetadata(String source, LinkedHashMap<String, Value> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(values);
        Map<String, String> text = new LinkedHashMap<>();
        values.forEach((k, v) -> text.put(k, text(v)));
        this.strings = Collections.unmodifiableMap(text);
    }

    /** Keys in file order. */
    public Set<String> keys() {
        return values.keySet();
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public GgufValueType type(String key) {
        return require(key).type;
    }

    /** Element type of an ARRAY value. */
    public GgufValueType arrayElementType(String key) {
        return array(key).orElseThrow(() -> missing(key)).elementType();
    }

    public Optional<String> string(String key) {
        return Optional.ofNullable((String) get(key, GgufValueType.STRING));
    }

    /** Any integer type; a UINT64 above Long.MAX_VALUE is refused rather than turned negative. */
    public OptionalLong integer(String key) {
        Value v = values.get(key);
        if (v == null) return OptionalLong.empty();
        if (!v.type.isInteger()) throw wrongType(key, v.type, "an integer type");
        long x = (Long) v.value;
        if (v.type == GgufValueType.UINT64 && x < 0) {
            throw bad("metadata key " + key + " holds " + Long.toUnsignedString(x) + ", beyond a signed 64-bit integer");
        }
        return OptionalLong.of(x);
    }

    /** A float or integer value as a double. */
    public OptionalDouble number(String key) {
        Value v = values.get(key);
        if (v == null) return OptionalDouble.empty();
        return switch (v.value) {
            case Float f -> OptionalDouble.of(f);
            case Double d -> OptionalDouble.of(d);
            case Long l when v.type == GgufValueType.UINT64 && l < 0 ->
                    OptionalDouble.of(Double.parseDouble(Long.toUnsignedString(l)));
            case Long l -> OptionalDouble.of(l);
            default -> throw wrongType(key, v.type, "a number");
        };
    }

    public Optional<Boolean> bool(String key) {
        return Optional.ofNullable((Boolean) get(key, GgufValueType.BOOL));
    }

    /** The array value, any element type. */
    public Optional<GgufArray> array(String key) {
        return Optional.ofNullable((GgufArray) get(key, GgufValueType.ARRAY));
    }

    /** STRING elements; absent key gives an empty list. */
    public List<String> stringArray(String key) {
        GgufArray a = typedArray(key, GgufValueType.STRING);
        if (a == null) return List.of();
        @SuppressWarnings("unchecked")
        List<String> s = (List<String>) a.values();
        return s;
    }

    /** FLOAT32 elements; absent key gives an empty array. */
    public float[] floatArray(String key) {
        GgufArray a = typedArray(key, GgufValueType.FLOAT32);
        if (a == null) return new float[0];
        float[] out = new float[a.size()];
        if (a.values() instanceof GgufValues raw) {
            for (int i = 0; i < out.length; i++) out[i] = raw.floatAt(i);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = (Float) a.values().get(i);
        }
        return out;
    }

    /** Elements of any integer type that all fit in an int; absent key gives an empty array. */
    public int[] intArray(String key) {
        long[] l = longArray(key);
        // A UINT64 element with its top bit set is a huge value, not a negative one.
        boolean unsigned64 = l.length > 0 && arrayElementType(key) == GgufValueType.UINT64;
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            if (l[i] != (int) l[i] || (unsigned64 && l[i] < 0)) throw bad("metadata key " + key + " element " + i + " (" + (unsigned64 ? Long.toUnsignedString(l[i]) : l[i])
                        + ") does not fit in an int");
            out[i] = (int) l[i];
        }
        return out;
    }

    /** Elements of any integer type (unsigned zero-extended, UINT64 as its bits); absent key gives an empty array. */
    public long[] longArray(String key) {
        Value v = values.get(key);
        if (v == null) return new long[0];
        if (v.type != GgufValueType.ARRAY) throw wrongType(key, v.type, "ARRAY");
        GgufArray a = (GgufArray) v.value;
        if (!a.elementType().isInteger()) throw wrongType(key, a.elementType(), "an integer array");
        long[] out = new long[a.size()];
        if (a.values() instanceof GgufValues raw) {
            for (int i = 0; i < out.length; i++) out[i] = raw.longAt(i);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = (Long) a.values().get(i);
        }
        return out;
    }

    public String requireString(String key) {
        return string(key).orElseThrow(() -> missing(key));
    }

    public long requireInteger(String key) {
        return integer(key).orElseThrow(() -> missing(key));
    }

    public double requireNumber(String key) {
        return number(key).orElseThrow(() -> missing(key));
    }

    public boolean requireBool(String key) {
        return bool(key).orElseThrow(() -> missing(key));
    }

    /** Scalars as text (unsigned types unsigned), arrays as "[array of N T]": for TensorSource.metadata(). */
    public Map<String, String> asStrings() {
        return strings;
    }

    @Override
    public Set<Map.Entry<String, String>> entrySet() {
        return strings.entrySet();
    }

    @Override
    public String get(Object key) {
        return strings.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
        return strings.containsKey(key);
    }

    static String text(Value v) {
        return switch (v.value) {
            case GgufArray a -> "[array of " + a.size() + " " + a.elementType() + "]";
            case Long l when v.type == GgufValueType.UINT64 -> Long.toUnsignedString(l);
            default -> String.valueOf(v.value);
        };
    }

    private Value require(String key) {
        Value v = values.get(key);
        if (v == null) throw missing(key);
        return v;
    }

    private Object get(String key, GgufValueType expected) {
        Value v = values.get(key);
        if (v == null) return null;
        if (v.type != expected) throw wrongType(key, v.type, expected.name());
        return v.value;
    }

    private GgufArray typedArray(String key, GgufValueType element) {
        GgufArray a = (GgufArray) get(key, GgufValueType.ARRAY);
        if (a != null && a.elementType() != element) {
            throw bad("metadata key " + key + " is an array of " + a.elementType() + ", expected an array of " + element);
        }
        return a;
    }

    private TernException missing(String key) {
        return bad("missing metadata key " + key);
    }

    private TernException wrongType(String key, GgufValueType actual, String expected) {
        return bad("metadata key " + key + " has type " + actual + ", expected " + expected);
    }

    private TernException bad(String problem) {
        return new TernException(source + ": " + problem);
    }
}
