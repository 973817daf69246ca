using System.Globalization;
using System.Text;
using System.Text.Json;
using Optim4RL.Io;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// Saves and loads the meta-parameters φ of a learned optimizer (docs/algorithms.md) as a versioned,
/// human-readable JSON file, so that φ meta-trained by one run (MetaA2C) can be
/// evaluated or transferred by another (the reference's <c>param_load_path</c>). The format: docs/phi-files.md.
/// </summary>
/// <remarks>
/// <para>Format, version 1 (UTF-8 JSON, one object):</para>
/// <code>
/// {
///   "format": "optim4rl.metaparams",     // constant: identifies the file kind
///   "version": 1,                        // format version; readers reject other versions
///   "optimizer": "Optim4RL",             // ILearnedOptimizer.Name of the architecture
///   "hidden_size": 8,                    // ILearnedOptimizer.HiddenSize
///   "count": 553,                        // total number of meta-parameters = Σ array sizes
///   "arrays": [                          // MetaParamLayout entries, in packing order
///     { "name": "rnn1/W_i", "shape": [1, 24], "data": [0.125, -0.5, ...] },
///     ...
///   ],
///   "meta": { "config": "meta_rl_catch.json", "iteration": "1000" }   // optional, strings only
/// }
/// </code>
/// <para>"data" holds the array's values row-major (the order they have inside φ), each written
/// as the shortest decimal that parses back to the same float32, so a save/load round trip is
/// bit-exact (−0 included). Only finite values are allowed. On load, arrays are matched to the
/// expected <see cref="MetaParamLayout"/> by name, shapes must agree exactly, and φ is returned in
/// the layout's packing order. "meta" is free provenance (source config, iteration, …) that
/// readers never interpret.</para>
/// <para>Writes are atomic: the file is written to a uniquely named temporary file in the same
/// directory, flushed to disk, then moved over <c>path</c>, so a crash never leaves a half-written
/// file and two writers never delete each other's temporary file.</para>
/// </remarks>
public static class MetaParamsFile
{
    /// <summary>The value of the <c>format</c> field.</summary>
    public const string FormatName = "optim4rl.metaparams";

    /// <summary>The format version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>Writes φ to <paramref name="path"/> atomically (see the class remarks for the format).</summary>
    /// <param name="path">Destination file; its directory is created when missing.</param>
    /// <param name="optimizerName">The architecture's name (<c>ILearnedOptimizer.Name</c>), e.g. <c>Optim4RL</c>.</param>
    /// <param name="hiddenSize">Recurrent hidden size H (&gt; 0).</param>
    /// <param name="layout">Names and shapes of the arrays packed in φ.</param>
    /// <param name="phi">φ, length <c>layout.Count</c>.</param>
    /// <param name="meta">Optional free provenance (string → string), stored under "meta".</param>
    /// <exception cref="ArgumentException">An argument is empty or inconsistent (φ's length is not
    /// <c>layout.Count</c>, H ≤ 0), or φ holds a non-finite value (the message names the array and index).</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, string optimizerName, int hiddenSize, MetaParamLayout layout,
        ReadOnlySpan<float> phi, IReadOnlyDictionary<string, string>? meta = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(optimizerName);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        if (phi.Length != layout.Count)
            throw new ArgumentException($"φ has {phi.Length} values but the layout of '{optimizerName}' has {layout.Count}.", nameof(phi));
        foreach (var e in layout.Entries)
        {
            var data = phi.Slice(e.Offset, e.Length);
            for (int i = 0; i < data.Length; i++)
            {
                if (!float.IsFinite(data[i]))
                    throw new ArgumentException($"φ array '{e.Name}' value #{i} is {data[i].ToString(CultureInfo.InvariantCulture)}; only finite meta-parameters can be saved.", nameof(phi));
            }
        }

        float[] values = phi.ToArray();
        AtomicFile.Write(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            Write(w, optimizerName, hiddenSize, layout, values, meta);
        });
    }

    /// <summary>Reads φ from <paramref name="path"/>, checking it against the expected architecture.</summary>
    /// <param name="path">A file written by <see cref="Save"/>.</param>
    /// <param name="expectedOptimizer">The architecture that will use φ (compared case-insensitively).</param>
    /// <param name="expectedHiddenSize">Its hidden size H.</param>
    /// <param name="expectedLayout">Its meta-parameter layout.</param>
    /// <returns>φ in <paramref name="expectedLayout"/>'s packing order, length <c>expectedLayout.Count</c>.</returns>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/> (the message says how to produce one).</exception>
    /// <exception cref="MetaParamsFileException">The file is not valid JSON, not this format or version,
    /// for another optimizer or hidden size, lacks an array or has an extra one, has a shape or data-length
    /// mismatch, or holds a non-finite value. The message is one line naming the problem and the fix.</exception>
    public static float[] Load(string path, string expectedOptimizer, int expectedHiddenSize, MetaParamLayout expectedLayout) =>
        Load(path, expectedOptimizer, expectedHiddenSize, expectedLayout, out _);

    /// <summary>Reads φ for <paramref name="kernel"/>: <see cref="Load(string, string, int, MetaParamLayout)"/> with its name, hidden size and layout.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="MetaParamsFileException">The file does not hold valid meta-parameters of that architecture.</exception>
    public static float[] Load(string path, ILearnedOptimizer kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return Load(path, kernel.Name, kernel.HiddenSize, kernel.Layout);
    }

    /// <summary>
    /// As <see cref="Load(string, string, int, MetaParamLayout)"/>, also returning the file's free
    /// "meta" map (empty when absent; non-string values are given as their raw JSON text).
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="MetaParamsFileException">The file does not hold matching, valid meta-parameters.</exception>
    public static float[] Load(string path, string expectedOptimizer, int expectedHiddenSize, MetaParamLayout expectedLayout,
        out IReadOnlyDictionary<string, string> meta)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(expectedOptimizer);
        ArgumentNullException.ThrowIfNull(expectedLayout);
        byte[] bytes = ReadBytes(path);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw Fail(path, $"is not valid JSON ({OneLine(e.Message)}); the file is damaged or truncated — restore it or re-run meta-training to regenerate it.", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw NotThisFormat(path, $"its top level is a JSON {root.ValueKind}, not an object");

            string? format = root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (format != FormatName)
                throw NotThisFormat(path, format is null ? "it has no \"format\" field" : $"its format is '{format}'");

            if (!root.TryGetProperty("version", out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int version))
                throw Fail(path, $"has no integer \"version\" field; it is damaged — re-save it with MetaParamsFile.Save or re-run meta-training.");
            if (version != FormatVersion)
                throw Fail(path, $"has format version {version}, but this build reads version {FormatVersion}; use the Optim4RL.NET build that wrote it, or re-run meta-training to write a version-{FormatVersion} file.");

            string optimizer = RequireString(root, "optimizer", path);
            if (!string.Equals(optimizer, expectedOptimizer, StringComparison.OrdinalIgnoreCase))
                throw Fail(path, $"holds meta-parameters for optimizer '{optimizer}', but '{expectedOptimizer}' was requested; point param_load_path to a '{expectedOptimizer}' file or set the optimizer name to '{optimizer}'.");

            int hidden = RequireInt(root, "hidden_size", path);
            if (hidden != expectedHiddenSize)
                throw Fail(path, $"was saved with hidden_size {hidden}, but the '{expectedOptimizer}' optimizer has hidden_size {expectedHiddenSize}; the hidden size is fixed by the architecture (no config key sets it), so the file comes from another build or was edited — load a file saved with hidden_size {expectedHiddenSize} or re-run meta-training with this build.");

            int count = RequireInt(root, "count", path);
            if (count != expectedLayout.Count)
                throw Fail(path, $"declares {count} meta-parameters, but the '{expectedOptimizer}' layout has {expectedLayout.Count}; the file comes from another architecture version — re-run meta-training with this build.");

            if (!root.TryGetProperty("arrays", out var arrays) || arrays.ValueKind != JsonValueKind.Array)
                throw Fail(path, "has no \"arrays\" list; it is damaged — restore it or re-run meta-training to regenerate it.");

            var byName = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var a in arrays.EnumerateArray())
            {
                string name = a.ValueKind == JsonValueKind.Object ? RequireString(a, "name", path) :
                    throw Fail(path, "has an \"arrays\" entry that is not an object; it is damaged — restore it or re-run meta-training.");
                if (!byName.TryAdd(name, a))
                    throw Fail(path, $"has two arrays named '{name}'; it is damaged — restore it or re-run meta-training.");
            }

            var phi = new float[expectedLayout.Count];
            foreach (var e in expectedLayout.Entries)
            {
                if (!byName.Remove(e.Name, out var a))
                    throw Fail(path, $"has no array '{e.Name}', which the '{expectedOptimizer}' layout needs; the file comes from another architecture version — re-run meta-training with this build.");
                ReadArray(path, a, e.Name, e.Shape, phi.AsSpan(e.Offset, e.Length));
            }
            if (byName.Count > 0)
                throw Fail(path, $"has array '{byName.Keys.First()}', which the '{expectedOptimizer}' layout does not have; the file comes from another architecture version — re-run meta-training with this build.");

            meta = ReadMeta(root);
            return phi;
        }
    }

    private static void Write(Utf8JsonWriter w, string optimizerName, int hiddenSize, MetaParamLayout layout,
        ReadOnlySpan<float> phi, IReadOnlyDictionary<string, string>? meta)
    {
        w.WriteStartObject();
        w.WriteString("format", FormatName);
        w.WriteNumber("version", FormatVersion);
        w.WriteString("optimizer", optimizerName);
        w.WriteNumber("hidden_size", hiddenSize);
        w.WriteNumber("count", layout.Count);
        w.WriteStartArray("arrays");
        var sb = new StringBuilder();
        foreach (var e in layout.Entries)
        {
            w.WriteStartObject();
            w.WriteString("name", e.Name);
            // Shape and data go on one line each (raw JSON), so a file stays readable.
            sb.Clear().Append('[').AppendJoin(", ", e.Shape).Append(']');
            w.WritePropertyName("shape");
            w.WriteRawValue(sb.ToString());
            sb.Clear().Append('[');
            var data = phi.Slice(e.Offset, e.Length);
            for (int i = 0; i < data.Length; i++)
            {
                if (i > 0) sb.Append(", ");
                // "R" is the shortest string that parses back to the same float32.
                sb.Append(data[i].ToString("R", CultureInfo.InvariantCulture));
            }
            sb.Append(']');
            w.WritePropertyName("data");
            w.WriteRawValue(sb.ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (meta is { Count: > 0 })
        {
            w.WriteStartObject("meta");
            foreach (var (k, val) in meta) w.WriteString(k, val);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void ReadArray(string path, JsonElement a, string name, int[] expectedShape, Span<float> dest)
    {
        if (!a.TryGetProperty("shape", out var s) || s.ValueKind != JsonValueKind.Array)
            throw Fail(path, $"array '{name}' has no \"shape\" list; it is damaged — restore it or re-run meta-training.");
        var shape = new List<int>();
        foreach (var d in s.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int dim) || dim < 0)
                throw Fail(path, $"array '{name}' has shape {s.GetRawText()}, which is not a list of non-negative integers; it is damaged — restore it or re-run meta-training.");
            shape.Add(dim);
        }
        if (!shape.SequenceEqual(expectedShape))
            throw Fail(path, $"array '{name}' has shape {FormatShape(shape)}, but {FormatShape(expectedShape)} is expected; the file comes from another architecture or hidden size — re-run meta-training with this configuration.");

        if (!a.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw Fail(path, $"array '{name}' has no \"data\" list; it is damaged — restore it or re-run meta-training.");
        int n = data.GetArrayLength();
        if (n != dest.Length)
            throw Fail(path, $"array '{name}' has {n} values, but its shape {FormatShape(shape)} needs {dest.Length}; the file is damaged or was edited — restore it or re-run meta-training.");
        int i = 0;
        foreach (var x in data.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetSingle(out float value) || !float.IsFinite(value))
                throw Fail(path, $"array '{name}' value #{i} ({x.GetRawText()}) is not a finite float32; meta-training diverged or the file was edited — use an earlier checkpoint or re-run meta-training.");
            dest[i++] = value;
        }
    }

    /// <summary>
    /// The architecture a φ file (or <c>pretrained:NAME</c>) names, its hidden size and its "meta" map,
    /// without checking the arrays — enough to build the matching kernel before <see cref="Load(string, string, int, MetaParamLayout)"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file or pretrained φ.</exception>
    /// <exception cref="MetaParamsFileException">The file is not a φ file of this format.</exception>
    public static (string Optimizer, int HiddenSize, IReadOnlyDictionary<string, string> Meta) Describe(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        try
        {
            using var doc = JsonDocument.Parse(ReadBytes(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var f) || f.ValueKind != JsonValueKind.String || f.GetString() != FormatName)
                throw NotThisFormat(path, "it has no \"format\": \"" + FormatName + "\" field");
            return (RequireString(root, "optimizer", path), RequireInt(root, "hidden_size", path), ReadMeta(root));
        }
        catch (JsonException e)
        {
            throw Fail(path, $"is not valid JSON ({OneLine(e.Message)}); the file is damaged or truncated — restore it or re-run meta-training to regenerate it.", e);
        }
    }

    /// <summary>The bytes of a φ file, or of a pretrained φ named <c>pretrained:NAME</c>.</summary>
    private static byte[] ReadBytes(string path)
    {
        if (PretrainedOptimizers.TryRead(path, out byte[]? pretrained)) return pretrained;
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"Meta-parameter file '{path}' does not exist; run a MetaA2C config first, point param_load_path to an existing file, or use a pretrained φ ({PretrainedOptimizers.Describe()}).", path);
        return File.ReadAllBytes(path);
    }

    private static Dictionary<string, string> ReadMeta(JsonElement root)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("meta", out var m) && m.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in m.EnumerateObject())
                meta[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        }
        return meta;
    }

    private static string RequireString(JsonElement obj, string field, string path) =>
        obj.TryGetProperty(field, out var x) && x.ValueKind == JsonValueKind.String ? x.GetString()! :
        throw Fail(path, $"has no string \"{field}\" field; it is damaged — restore it or re-run meta-training to regenerate it.");

    private static int RequireInt(JsonElement obj, string field, string path) =>
        obj.TryGetProperty(field, out var x) && x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int v) ? v :
        throw Fail(path, $"has no integer \"{field}\" field; it is damaged — restore it or re-run meta-training to regenerate it.");

    private static MetaParamsFileException NotThisFormat(string path, string why) =>
        Fail(path, $"is not an Optim4RL meta-parameter file ({why}; expected format '{FormatName}'); point param_load_path to a file written by meta-training (MetaParamsFile.Save).");

    private static MetaParamsFileException Fail(string path, string problem, Exception? inner = null) =>
        new(path, $"Meta-parameter file '{path}' {problem}", inner);

    private static string FormatShape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}

/// <summary>
/// A meta-parameter file (<see cref="MetaParamsFile"/>) that cannot be used: damaged, of another
/// format or version, or for another optimizer, hidden size or layout. The message is one line
/// naming the file, the problem and the fix.
/// </summary>
/// <remarks>
/// An <see cref="IOException"/> (<see cref="InvalidDataException"/> is sealed), so one
/// <c>catch (IOException)</c> covers both this and the <see cref="FileNotFoundException"/> that
/// <see cref="MetaParamsFile.Load(string, string, int, MetaParamLayout)"/> throws for a missing file.
/// </remarks>
public sealed class MetaParamsFileException : IOException
{
    /// <summary>Creates the exception for the file at <paramref name="path"/>.</summary>
    public MetaParamsFileException(string path, string message, Exception? inner = null) : base(message, inner)
    {
        FilePath = path;
    }

    /// <summary>The file that was being read.</summary>
    public string FilePath { get; }
}
