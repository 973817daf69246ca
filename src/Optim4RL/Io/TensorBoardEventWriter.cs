using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;

namespace Optim4RL.Io;

/// <summary>
/// Writes scalar summaries as a TensorBoard event file, <c>events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt;</c>,
/// which <c>tensorboard --logdir</c> reads (it reads every such file of a directory, so a resumed run
/// simply starts a new one). No TensorFlow types are needed: the two messages are encoded by hand
/// with <see cref="CodedOutputStream"/>.
/// </summary>
/// <remarks>
/// <para>The protobuf messages (tensorflow/core/util/event.proto, summary.proto), only the fields
/// written: <c>Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }</c>,
/// <c>Summary { repeated Value value = 1; }</c>, <c>Value { string tag = 1; float simple_value = 2; }</c>.
/// The first event carries <c>file_version = "brain.Event:2"</c>; each later one a step and its scalars.</para>
/// <para>Each event is framed as a TFRecord: the data length as a little-endian uint64, the masked
/// CRC-32C of those 8 bytes (uint32), the data, the masked CRC-32C of the data (<see cref="Crc32C.Masked"/>).</para>
/// <para>Events are kept in memory until <see cref="Flush"/>, which appends whole records and flushes
/// them to disk, so a killed process leaves a file that ends at a record boundary (unless it dies
/// inside that write; TensorBoard ignores a truncated last record). Not thread-safe.</para>
/// </remarks>
internal sealed class TensorBoardEventWriter : IDisposable
{
    /// <summary>The file_version of the first event.</summary>
    public const string FileVersion = "brain.Event:2";

    /// <summary>The start of every event file's name; TensorBoard recognises files by "tfevents".</summary>
    public const string FilePrefix = "events.out.tfevents.";

    private const int WallTimeField = 1, StepField = 2, FileVersionField = 3, SummaryField = 5;
    private const int ValueField = 1, TagField = 1, SimpleValueField = 2;

    private readonly FileStream _file;
    private readonly MemoryStream _pending = new();
    private readonly byte[] _header = new byte[12];
    private readonly byte[] _footer = new byte[4];
    private byte[] _buffer = new byte[256];
    private bool _disposed;

    /// <summary>
    /// Creates a new event file in <paramref name="directory"/> (created when missing), named for the
    /// current time and host (<c>.1</c>, <c>.2</c>, … appended when that name is taken), and writes
    /// its file_version event.
    /// </summary>
    /// <exception cref="IOException">The file cannot be created.</exception>
    public TensorBoardEventWriter(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        double now = UnixSeconds();
        string name = FileName((long)now, Environment.MachineName);
        for (int n = 0; ; n++)
        {
            string path = System.IO.Path.Combine(directory, n == 0 ? name : $"{name}.{n.ToString(CultureInfo.InvariantCulture)}");
            try
            {
                _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
                Path = path;
                break;
            }
            catch (IOException) when (File.Exists(path) && n < 1000)
            {
                // Another writer got this name in the same second: try the next suffix.
            }
        }

        WriteEvent(now, 0, FileVersion, [], []);
        Flush();
    }

    /// <summary>The event file's path.</summary>
    public string Path { get; }

    /// <summary>
    /// The name of an event file started at <paramref name="unixSeconds"/> on <paramref name="host"/>:
    /// <c>events.out.tfevents.&lt;unixSeconds&gt;.&lt;host&gt;</c> (characters other than letters, digits, '-'
    /// and '_' in the host name become '_').
    /// </summary>
    public static string FileName(long unixSeconds, string host)
    {
        var clean = string.Concat((string.IsNullOrEmpty(host) ? "localhost" : host).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
        return FilePrefix + unixSeconds.ToString(CultureInfo.InvariantCulture) + "." + clean;
    }

    /// <summary>
    /// Queues one event at <paramref name="step"/> whose summary holds one scalar per tag
    /// (<paramref name="tags"/>[i] = <paramref name="values"/>[i]), stamped with the current time.
    /// Nothing reaches the file before <see cref="Flush"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The spans' lengths differ.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public void WriteScalars(long step, ReadOnlySpan<string> tags, ReadOnlySpan<float> values) =>
        WriteScalars(step, tags, values, UnixSeconds());

    /// <summary>As <see cref="WriteScalars(long, ReadOnlySpan{string}, ReadOnlySpan{float})"/> with an explicit wall time (seconds since the Unix epoch).</summary>
    /// <exception cref="ArgumentException">The spans' lengths differ.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public void WriteScalars(long step, ReadOnlySpan<string> tags, ReadOnlySpan<float> values, double wallTime)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tags.Length != values.Length)
            throw new ArgumentException($"{tags.Length} tags but {values.Length} values.", nameof(values));
        WriteEvent(wallTime, step, null, tags, values);
    }

    /// <summary>Appends the queued events to the file and flushes it to disk.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_pending.Length > 0)
        {
            _file.Write(_pending.GetBuffer(), 0, (int)_pending.Length);
            _pending.SetLength(0);
        }

        _file.Flush(flushToDisk: true);
    }

    /// <summary>Flushes the queued events and closes the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        try
        {
            Flush();
        }
        finally
        {
            _disposed = true;
            _file.Dispose();
        }
    }

    private static double UnixSeconds() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    /// <summary>Encodes one Event and appends it, TFRecord-framed, to the pending records.</summary>
    private void WriteEvent(double wallTime, long step, string? fileVersion, ReadOnlySpan<string> tags, ReadOnlySpan<float> values)
    {
        int tagSize = CodedOutputStream.ComputeTagSize(1); // every field number here is below 16: one byte
        int summarySize = 0;
        for (int i = 0; i < tags.Length; i++)
        {
            int valueSize = ValueSize(tags[i]);
            summarySize += tagSize + CodedOutputStream.ComputeLengthSize(valueSize) + valueSize;
        }

        int size = tagSize + CodedOutputStream.ComputeDoubleSize(wallTime)
                   + tagSize + CodedOutputStream.ComputeInt64Size(step);
        if (fileVersion is not null) size += tagSize + CodedOutputStream.ComputeStringSize(fileVersion);
        if (tags.Length > 0) size += tagSize + CodedOutputStream.ComputeLengthSize(summarySize) + summarySize;

        if (_buffer.Length < size) _buffer = new byte[Math.Max(size, 2 * _buffer.Length)];
        var output = new CodedOutputStream(_buffer);
        output.WriteTag(WallTimeField, WireFormat.WireType.Fixed64);
        output.WriteDouble(wallTime);
        output.WriteTag(StepField, WireFormat.WireType.Varint);
        output.WriteInt64(step);
        if (fileVersion is not null)
        {
            output.WriteTag(FileVersionField, WireFormat.WireType.LengthDelimited);
            output.WriteString(fileVersion);
        }

        if (tags.Length > 0)
        {
            output.WriteTag(SummaryField, WireFormat.WireType.LengthDelimited);
            output.WriteLength(summarySize);
            for (int i = 0; i < tags.Length; i++)
            {
                output.WriteTag(ValueField, WireFormat.WireType.LengthDelimited);
                output.WriteLength(ValueSize(tags[i]));
                output.WriteTag(TagField, WireFormat.WireType.LengthDelimited);
                output.WriteString(tags[i]);
                output.WriteTag(SimpleValueField, WireFormat.WireType.Fixed32);
                output.WriteFloat(values[i]);
            }
        }

        output.Flush();
        if (output.Position != size) throw new InvalidOperationException($"Event encoded to {output.Position} bytes, {size} expected.");
        AppendRecord(_buffer.AsSpan(0, size));
    }

    private static int ValueSize(string tag) =>
        CodedOutputStream.ComputeTagSize(TagField) + CodedOutputStream.ComputeStringSize(tag)
        + CodedOutputStream.ComputeTagSize(SimpleValueField) + CodedOutputStream.ComputeFloatSize(0f);

    /// <summary>TFRecord: uint64 length, masked CRC-32C of the length, data, masked CRC-32C of the data (all little-endian).</summary>
    private void AppendRecord(ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(8), Crc32C.Masked(_header.AsSpan(0, 8)));
        BinaryPrimitives.WriteUInt32LittleEndian(_footer, Crc32C.Masked(data));
        _pending.Write(_header);
        _pending.Write(data);
        _pending.Write(_footer);
    }
}
