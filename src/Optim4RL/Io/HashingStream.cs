using System.IO.Hashing;

namespace Optim4RL.Io;

/// <summary>
/// A write-only stream that forwards every byte to an inner stream (or nowhere) while hashing it
/// with XXH3 (64 bit) and counting it, so a file's checksum costs no second pass over its data.
/// </summary>
internal sealed class HashingStream(Stream? inner) : Stream
{
    private readonly XxHash3 _hash = new();

    /// <summary>Bytes written so far.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>The XXH3 hash of the bytes written so far.</summary>
    public ulong Hash => _hash.GetCurrentHashAsUInt64();

    /// <inheritdoc/>
    public override bool CanRead => false;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override long Length => BytesWritten;

    /// <inheritdoc/>
    public override long Position
    {
        get => BytesWritten;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override void Flush() => inner?.Flush();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.Append(buffer);
        BytesWritten += buffer.Length;
        inner?.Write(buffer);
    }

    /// <inheritdoc/>
    public override void WriteByte(byte value) => Write([value]);

    /// <summary>The XXH3 hash of the first <paramref name="length"/> bytes of a stream, read from its current position.</summary>
    /// <exception cref="EndOfStreamException">The stream is shorter.</exception>
    public static ulong HashOf(Stream stream, long length)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var hash = new XxHash3();
        byte[] buffer = new byte[1 << 20];
        while (length > 0)
        {
            int n = (int)Math.Min(buffer.Length, length);
            stream.ReadExactly(buffer, 0, n);
            hash.Append(buffer.AsSpan(0, n));
            length -= n;
        }

        return hash.GetCurrentHashAsUInt64();
    }
}
