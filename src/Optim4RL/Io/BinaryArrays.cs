using System.Runtime.InteropServices;

namespace Optim4RL.Io;

/// <summary>
/// Float arrays in binary files (checkpoints, gradient files): an <see cref="int"/> element count
/// followed by the values as little-endian IEEE-754 single-precision bytes (or, for
/// <see cref="WriteUInt16s"/>, little-endian 16-bit values such as bfloat16 bits). Arrays of any length
/// are streamed in 1 MiB pieces, so arrays of more than 2³¹ bytes (a B = 512 population's
/// recurrent state is ≈ 2.8 GB) are written and read without a byte span longer than
/// <see cref="int.MaxValue"/> and without a second copy in memory.
/// </summary>
internal static class BinaryArrays
{
    /// <summary>Values per piece written to or read from the stream (1 MiB).</summary>
    public const int PieceLength = 1 << 18;

    /// <summary>Writes <paramref name="values"/>' length, then its bytes.</summary>
    /// <exception cref="IOException">The stream cannot be written.</exception>
    public static void WriteFloats(BinaryWriter writer, ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(values.Length);
        for (int start = 0; start < values.Length; start += PieceLength)
        {
            var piece = values.Slice(start, Math.Min(PieceLength, values.Length - start));
            writer.Write(MemoryMarshal.AsBytes(piece));
        }
    }

    /// <summary>Reads an array written by <see cref="WriteFloats"/> into <paramref name="values"/>, whose length it must have.</summary>
    /// <exception cref="InvalidDataException">The stored length differs from <paramref name="values"/>' length.</exception>
    /// <exception cref="EndOfStreamException">The stream ends before the last value.</exception>
    public static void ReadFloats(BinaryReader reader, Span<float> values)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int n = reader.ReadInt32();
        if (n != values.Length) throw new InvalidDataException($"stored array has {n} values, expected {values.Length}");
        for (int start = 0; start < values.Length; start += PieceLength)
        {
            var piece = MemoryMarshal.AsBytes(values.Slice(start, Math.Min(PieceLength, values.Length - start)));
            reader.BaseStream.ReadExactly(piece);
        }
    }

    /// <summary>Writes <paramref name="values"/>' length, then its bytes (2 per value).</summary>
    /// <exception cref="IOException">The stream cannot be written.</exception>
    public static void WriteUInt16s(BinaryWriter writer, ReadOnlySpan<ushort> values)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(values.Length);
        for (int start = 0; start < values.Length; start += PieceLength)
            writer.Write(MemoryMarshal.AsBytes(values.Slice(start, Math.Min(PieceLength, values.Length - start))));
    }

    /// <summary>Reads an array written by <see cref="WriteUInt16s"/> into <paramref name="values"/>, whose length it must have.</summary>
    /// <exception cref="InvalidDataException">The stored length differs from <paramref name="values"/>' length.</exception>
    /// <exception cref="EndOfStreamException">The stream ends before the last value.</exception>
    public static void ReadUInt16s(BinaryReader reader, Span<ushort> values)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int n = reader.ReadInt32();
        if (n != values.Length) throw new InvalidDataException($"stored array has {n} values, expected {values.Length}");
        for (int start = 0; start < values.Length; start += PieceLength)
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.Slice(start, Math.Min(PieceLength, values.Length - start))));
    }
}
