using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optim4RL.Experiments;

/// <summary>
/// What a gradient file describes: the learner, its task and optimizer, and which coordinates of
/// θ are recorded (every <see cref="Stride"/>-th: indices 0, s, 2s, … below P).
/// </summary>
/// <param name="Kind"><c>rl</c> (agent gradients, <c>A2Ccollect</c>) or <c>supervised</c> (the contrast, <c>SLCollect</c>).</param>
/// <param name="Agent">The config's agent name (<c>A2Ccollect</c>, <c>SLCollect</c>).</param>
/// <param name="Env">The task: an environment name, or the supervised task's name.</param>
/// <param name="Optimizer">The config's optimizer name (<c>agent_optim.name</c>, e.g. <c>RMSProp</c>).</param>
/// <param name="OptimizerDetail">The optimizer as built, e.g. <c>chain(clip(1), rmsprop)</c>.</param>
/// <param name="LearningRate">The optimizer's learning rate.</param>
/// <param name="ParamCount">P, the size of θ.</param>
/// <param name="Stride">The subsampling stride (<c>agent.data_reduce</c>), ≥ 1.</param>
/// <param name="StepsPerUpdate">Environment steps (or examples) consumed per update.</param>
/// <param name="Experiment">The sweep's name (empty when unknown).</param>
/// <param name="ConfigIdx">The run's config index (0 when unknown).</param>
/// <param name="Seed">The run's seed.</param>
public sealed record GradientFileHeader(
    string Kind,
    string Agent,
    string Env,
    string Optimizer,
    string OptimizerDetail,
    double LearningRate,
    int ParamCount,
    int Stride,
    long StepsPerUpdate,
    string Experiment = "",
    int ConfigIdx = 0,
    ulong Seed = 0)
{
    /// <summary>The <see cref="Kind"/> of agent gradients.</summary>
    public const string KindRl = "rl";

    /// <summary>The <see cref="Kind"/> of the supervised-learning contrast.</summary>
    public const string KindSupervised = "supervised";

    /// <summary>Coordinates per record, S = ⌈P / stride⌉.</summary>
    public int Coords => (ParamCount + Stride - 1) / Stride;

    /// <summary>Bytes per record: 8 (update) + 8 (step) + 4·S (g) + 4·S (Δθ).</summary>
    public int RecordBytes => 16 + 8 * Coords;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (ParamCount < 1) throw new ArgumentException($"param_count must be ≥ 1, got {ParamCount}.");
        if (Stride < 1) throw new ArgumentException($"stride (agent.data_reduce) must be ≥ 1, got {Stride}.");
        if (string.IsNullOrWhiteSpace(Env)) throw new ArgumentException("env must not be empty.");
    }
}

/// <summary>The content of a gradient file: header and records (row-major [records, S] arrays).</summary>
/// <param name="Header">The header.</param>
/// <param name="Updates">1-based update index of each record.</param>
/// <param name="Steps">Environment steps (or examples) consumed at each record.</param>
/// <param name="Grads">g subsample, [records × S], record r at [r·S, (r+1)·S).</param>
/// <param name="Deltas">Δθ subsample, same layout.</param>
/// <param name="Complete">True when the writer finished the file and every record it announced was read.</param>
/// <param name="Note">Why the file is incomplete (null when complete).</param>
public sealed record GradientData(GradientFileHeader Header, long[] Updates, long[] Steps, float[] Grads, float[] Deltas, bool Complete, string? Note)
{
    /// <summary>Number of records read.</summary>
    public int Records => Updates.Length;

    /// <summary>The g subsample of record <paramref name="r"/>.</summary>
    public ReadOnlySpan<float> Grad(int r) => Grads.AsSpan(r * Header.Coords, Header.Coords);

    /// <summary>The Δθ subsample of record <paramref name="r"/>.</summary>
    public ReadOnlySpan<float> Delta(int r) => Deltas.AsSpan(r * Header.Coords, Header.Coords);
}

/// <summary>
/// The gradient file <c>grads_&lt;env&gt;.bin</c> of a collection run (<c>A2Ccollect</c>,
/// <c>SLCollect</c>): at every update, every stride-th coordinate of the gradient g and of the
/// update Δθ, in a compact binary file with a JSON header.
/// </summary>
/// <remarks>
/// <para>Layout (little-endian, version 1):</para>
/// <list type="number">
/// <item>bytes 0–7: magic <c>O4RLGRAD</c> (ASCII); bytes 8–11: uint32 format version (1);
/// bytes 12–15: uint32 H, the length of the header region (a multiple of 8);</item>
/// <item>bytes 16 … 16+H: the header, UTF-8 JSON padded with spaces: <c>format</c>
/// ("optim4rl-gradients"), <c>version</c>, <c>kind</c> (rl | supervised), <c>agent</c>, <c>env</c>,
/// <c>optimizer</c>, <c>optimizer_detail</c>, <c>learning_rate</c>, <c>param_count</c> (P),
/// <c>stride</c>, <c>coords</c> (S = ⌈P/stride⌉; coordinates 0, stride, 2·stride, … of θ),
/// <c>steps_per_update</c>, <c>dtype</c> ("float32"), <c>byte_order</c> ("little"), <c>record</c>
/// (a description of one record), <c>records</c> (the record count, or null while the run is
/// still writing), <c>experiment</c>, <c>config_idx</c>, <c>seed</c>;</item>
/// <item>then the records, each 16 + 8·S bytes: int64 update (1-based), int64 step,
/// float32[S] g, float32[S] Δθ.</item>
/// </list>
/// <para>Durability: the writer appends to <c>grads_&lt;env&gt;.bin.partial</c> (header
/// <c>records: null</c>) and, when the run ends or is interrupted, writes the record count into
/// the header, flushes to disk and renames the file to its final name in one step. A crash
/// leaves the <c>.partial</c> file, which <see cref="Read"/> reads up to its last complete record.</para>
/// </remarks>
public static class GradientFile
{
    /// <summary>The 8 magic bytes at the start of every gradient file.</summary>
    public static ReadOnlySpan<byte> Magic => "O4RLGRAD"u8;

    /// <summary>The format version this code writes and reads.</summary>
    public const int Version = 1;

    /// <summary>The value of the header's <c>format</c> field.</summary>
    public const string FormatName = "optim4rl-gradients";

    /// <summary>The suffix of a file still being written (or left by a crash).</summary>
    public const string PartialSuffix = ".partial";

    /// <summary>The file name for a task: <c>grads_&lt;envName&gt;.bin</c>.</summary>
    public static string FileName(string envName)
    {
        ArgumentException.ThrowIfNullOrEmpty(envName);
        return $"grads_{envName}.bin";
    }

    /// <summary>
    /// The gradient files of a run directory: every <c>grads_*.bin</c>, plus each
    /// <c>grads_*.bin.partial</c> that has no finished counterpart (a crashed run), sorted by name.
    /// </summary>
    public static IReadOnlyList<string> Find(string runDirectory)
    {
        if (!Directory.Exists(runDirectory)) return [];
        var done = Directory.GetFiles(runDirectory, "grads_*.bin").ToList();
        foreach (string partial in Directory.GetFiles(runDirectory, "grads_*.bin" + PartialSuffix))
        {
            if (!File.Exists(partial[..^PartialSuffix.Length])) done.Add(partial);
        }

        done.Sort(StringComparer.Ordinal);
        return done;
    }

    /// <summary>Reads only the header (and the record count found) of a gradient file.</summary>
    /// <exception cref="InvalidDataException">Not a gradient file, an unsupported version, or a damaged header.</exception>
    public static (GradientFileHeader Header, long? AnnouncedRecords, long DataOffset) ReadHeader(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return ReadHeader(stream, path);
    }

    /// <summary>
    /// Reads a gradient file. A file whose header announces more records than it holds (truncated),
    /// or that was never finished (<c>records: null</c>), is read up to its last complete record and
    /// returned with <see cref="GradientData.Complete"/> false and a note saying why.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a gradient file, an unsupported version, or a damaged header.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static GradientData Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var (header, announced, dataOffset) = ReadHeader(stream, path);
        long available = (stream.Length - dataOffset) / header.RecordBytes;
        long count = announced is long a ? Math.Min(a, available) : available;
        if (count > int.MaxValue / Math.Max(1, header.Coords))
            throw new InvalidDataException($"{path}: {count} records of {header.Coords} coordinates do not fit in memory arrays.");
        int n = (int)count, s = header.Coords;
        var updates = new long[n];
        var steps = new long[n];
        var grads = new float[(long)n * s];
        var deltas = new float[(long)n * s];
        var record = new byte[header.RecordBytes];
        stream.Position = dataOffset;
        for (int r = 0; r < n; r++)
        {
            stream.ReadExactly(record);
            updates[r] = BinaryPrimitives.ReadInt64LittleEndian(record);
            steps[r] = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(8));
            CopyFloats(record.AsSpan(16, 4 * s), grads.AsSpan(r * s, s));
            CopyFloats(record.AsSpan(16 + 4 * s, 4 * s), deltas.AsSpan(r * s, s));
        }

        string? note = announced switch
        {
            null => $"unfinished file (the run crashed or is still running): read its {n} complete record(s)",
            long a2 when a2 > n => $"truncated: the header announces {a2} records, {n} complete one(s) are present",
            _ => null,
        };
        return new GradientData(header, updates, steps, grads, deltas, note is null, note);
    }

    /// <summary>The header's JSON text (unpadded) for <paramref name="header"/> with <paramref name="records"/> (null: still writing).</summary>
    public static string HeaderJson(GradientFileHeader header, long? records)
    {
        ArgumentNullException.ThrowIfNull(header);
        var o = new JsonObject
        {
            ["format"] = FormatName,
            ["version"] = Version,
            ["kind"] = header.Kind,
            ["agent"] = header.Agent,
            ["env"] = header.Env,
            ["optimizer"] = header.Optimizer,
            ["optimizer_detail"] = header.OptimizerDetail,
            ["learning_rate"] = double.IsFinite(header.LearningRate) ? JsonValue.Create(header.LearningRate) : null,
            ["param_count"] = header.ParamCount,
            ["stride"] = header.Stride,
            ["coords"] = header.Coords,
            ["steps_per_update"] = header.StepsPerUpdate,
            ["dtype"] = "float32",
            ["byte_order"] = "little",
            ["record"] = "int64 update, int64 step, float32[coords] g, float32[coords] delta",
            ["experiment"] = header.Experiment,
            ["config_idx"] = header.ConfigIdx,
            ["seed"] = header.Seed,
            ["records"] = records is long r ? JsonValue.Create(r) : null,
        };
        return o.ToJsonString(JsonText.Indented);
    }

    internal static (GradientFileHeader Header, long? AnnouncedRecords, long DataOffset) ReadHeader(Stream stream, string path)
    {
        Span<byte> pre = stackalloc byte[16];
        if (stream.Length < 16 || stream.ReadAtLeast(pre, 16, throwOnEndOfStream: false) < 16)
            throw new InvalidDataException($"{path}: too short to be a gradient file (no 16-byte preamble).");
        if (!pre[..8].SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not an Optim4RL gradient file (magic bytes are not 'O4RLGRAD').");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(pre[8..]);
        if (version != Version)
            throw new InvalidDataException($"{path}: gradient file version {version} is not supported (this build reads version {Version}).");
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(pre[12..]);
        if (headerLength > 1 << 20 || 16 + (long)headerLength > stream.Length)
            throw new InvalidDataException($"{path}: truncated or damaged header (announces {headerLength} bytes, the file has {stream.Length}).");
        var text = new byte[headerLength];
        stream.ReadExactly(text);
        JsonObject o;
        try
        {
            o = JsonNode.Parse(Encoding.UTF8.GetString(text).TrimEnd(' ', '\0')) as JsonObject
                ?? throw new InvalidDataException($"{path}: the header is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the header is not valid JSON ({e.Message}).", e);
        }

        try
        {
            if ((string?)o["format"] != FormatName) throw new InvalidDataException($"{path}: header 'format' is not '{FormatName}'.");
            if ((string?)o["dtype"] != "float32") throw new InvalidDataException($"{path}: only dtype float32 is supported.");
            var header = new GradientFileHeader(
                Kind: (string?)o["kind"] ?? GradientFileHeader.KindRl,
                Agent: (string?)o["agent"] ?? "",
                Env: (string?)o["env"] ?? throw new InvalidDataException($"{path}: header has no 'env'."),
                Optimizer: (string?)o["optimizer"] ?? "",
                OptimizerDetail: (string?)o["optimizer_detail"] ?? "",
                LearningRate: (double?)o["learning_rate"] ?? double.NaN,
                ParamCount: (int?)o["param_count"] ?? throw new InvalidDataException($"{path}: header has no 'param_count'."),
                Stride: (int?)o["stride"] ?? throw new InvalidDataException($"{path}: header has no 'stride'."),
                StepsPerUpdate: (long?)o["steps_per_update"] ?? 0,
                Experiment: (string?)o["experiment"] ?? "",
                ConfigIdx: (int?)o["config_idx"] ?? 0,
                Seed: (ulong?)o["seed"] ?? 0);
            header.Validate();
            if ((int?)o["coords"] is int c && c != header.Coords)
                throw new InvalidDataException($"{path}: header 'coords' {c} does not equal ⌈param_count / stride⌉ = {header.Coords}.");
            long? records = (long?)o["records"];
            return (header, records, 16 + headerLength);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: damaged header ({e.Message}).", e);
        }
    }

    private static void CopyFloats(ReadOnlySpan<byte> from, Span<float> to)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(from).CopyTo(to);
            return;
        }

        for (int i = 0; i < to.Length; i++) to[i] = BinaryPrimitives.ReadSingleLittleEndian(from[(4 * i)..]);
    }
}

/// <summary>
/// Writes a <see cref="GradientFile"/> while a learner trains: an <see cref="IUpdateObserver"/>
/// that appends one record per update (no allocation per record), then finalises the file
/// atomically (see <see cref="GradientFile"/> for the format and the durability rule).
/// </summary>
public sealed class GradientFileWriter : IUpdateObserver, IDisposable
{
    private readonly FileStream _stream;
    private readonly byte[] _record;
    private readonly int _headerLength;
    private long _records;
    private bool _completed;

    private GradientFileWriter(string path, GradientFileHeader header)
    {
        Path = path;
        PartialPath = path + GradientFile.PartialSuffix;
        Header = header;
        _record = new byte[header.RecordBytes];
        string json = GradientFile.HeaderJson(header, null);
        // Room for the final record count (up to 19 digits replace "null"), rounded to 8 bytes.
        _headerLength = (Encoding.UTF8.GetByteCount(json) + 32 + 7) & ~7;
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        _stream = new FileStream(PartialPath, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        WritePreamble(json);
    }

    /// <summary>The final path (<c>grads_&lt;env&gt;.bin</c>).</summary>
    public string Path { get; }

    /// <summary>The path written to until <see cref="Complete"/>.</summary>
    public string PartialPath { get; }

    /// <summary>The header written.</summary>
    public GradientFileHeader Header { get; }

    /// <summary>Records written so far.</summary>
    public long Records => _records;

    /// <summary>Starts writing <paramref name="path"/> (through its <c>.partial</c> file, replaced if present).</summary>
    /// <exception cref="ArgumentException">The header is invalid.</exception>
    /// <exception cref="IOException">The file cannot be created.</exception>
    public static GradientFileWriter Create(string path, GradientFileHeader header)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(header);
        header.Validate();
        return new GradientFileWriter(path, header);
    }

    /// <summary>Appends one record: coordinates 0, stride, 2·stride, … of <paramref name="grad"/> and <paramref name="delta"/>.</summary>
    /// <exception cref="ArgumentException">A span's length is not P.</exception>
    /// <exception cref="InvalidOperationException">The file is already complete.</exception>
    public void OnUpdate(long update, long step, ReadOnlySpan<float> grad, ReadOnlySpan<float> delta)
    {
        if (_completed) throw new InvalidOperationException($"{Path} is already complete.");
        int p = Header.ParamCount, stride = Header.Stride, s = Header.Coords;
        if (grad.Length != p || delta.Length != p)
            throw new ArgumentException($"Expected gradient and update of {p} coordinates, got {grad.Length} and {delta.Length}.");
        Span<byte> rec = _record;
        BinaryPrimitives.WriteInt64LittleEndian(rec, update);
        BinaryPrimitives.WriteInt64LittleEndian(rec[8..], step);
        Span<byte> g = rec.Slice(16, 4 * s), d = rec.Slice(16 + 4 * s, 4 * s);
        for (int j = 0, i = 0; j < s; j++, i += stride)
        {
            BinaryPrimitives.WriteSingleLittleEndian(g[(4 * j)..], grad[i]);
            BinaryPrimitives.WriteSingleLittleEndian(d[(4 * j)..], delta[i]);
        }

        _stream.Write(rec);
        _records++;
    }

    /// <summary>Hands the buffered records to the operating system, so a crash after this keeps them.</summary>
    public void Flush()
    {
        if (!_completed) _stream.Flush();
    }

    /// <summary>
    /// Writes the record count into the header, flushes to disk and renames the file to
    /// <see cref="Path"/> (replacing an older file). Idempotent.
    /// </summary>
    /// <exception cref="IOException">The file cannot be finalised; the <c>.partial</c> file stays readable.</exception>
    public void Complete()
    {
        if (_completed) return;
        _stream.Flush();
        _stream.Position = 16;
        _stream.Write(PaddedHeader(GradientFile.HeaderJson(Header, _records)));
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _completed = true;
        File.Move(PartialPath, Path, overwrite: true);
    }

    /// <summary>Completes the file when that has not been done (best effort: an I/O error leaves the readable <c>.partial</c> file).</summary>
    public void Dispose()
    {
        if (_completed) return;
        try
        {
            Complete();
        }
        catch (IOException)
        {
            // The .partial file stays readable up to its last complete record.
        }
        finally
        {
            _completed = true;
            _stream.Dispose();
        }
    }

    private void WritePreamble(string json)
    {
        Span<byte> pre = stackalloc byte[16];
        GradientFile.Magic.CopyTo(pre);
        BinaryPrimitives.WriteUInt32LittleEndian(pre[8..], GradientFile.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(pre[12..], (uint)_headerLength);
        _stream.Write(pre);
        _stream.Write(PaddedHeader(json));
        _stream.Flush();
    }

    private byte[] PaddedHeader(string json)
    {
        byte[] bytes = new byte[_headerLength];
        bytes.AsSpan().Fill((byte)' ');
        int n = Encoding.UTF8.GetBytes(json, bytes);
        if (n > _headerLength) throw new InvalidOperationException("Gradient file header outgrew its reserved space.");
        bytes[_headerLength - 1] = (byte)'\n';
        return bytes;
    }
}
