using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Optim4RL.Io;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// How a learned optimizer's recurrent state is stored between steps. Arithmetic is float32 either
/// way: a bfloat16 state is widened exactly when a step reads it and rounded to nearest, ties to
/// even, when the step writes it back.
/// </summary>
public enum StateDtype
{
    /// <summary>4 bytes per value (the reference's storage).</summary>
    Float32,

    /// <summary>2 bytes per value: float32's sign, exponent and top 7 mantissa bits.</summary>
    BFloat16,
}

/// <summary>The names of <see cref="StateDtype"/> in configs (<c>agent_optim.kwargs.state_dtype</c>) and provenance.</summary>
public static class StateDtypes
{
    /// <summary>The config names, in <see cref="StateDtype"/> order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["float32", "bfloat16"];

    /// <summary>"float32" or "bfloat16".</summary>
    public static string Name(this StateDtype dtype) => Names[(int)dtype];

    /// <summary>Bytes per stored value.</summary>
    public static int Bytes(this StateDtype dtype) => dtype == StateDtype.BFloat16 ? 2 : 4;

    /// <summary>
    /// The storage meta-training uses when none is asked for: bfloat16 where <paramref name="lopt"/>
    /// supports it (Optim4RL, LinearOptim, L2LGD2), float32 otherwise (STAR). bfloat16 halves the
    /// largest buffer of a paper-scale run; on a big_dense_long population of 512 agents its
    /// meta-gradient is within cosine 1 − 5·10⁻⁹ and relative error 10⁻⁴ of float32's, and
    /// meta-training curves stay within seed noise (docs/results/bf16_decision/report.md).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="lopt"/> is null.</exception>
    public static StateDtype DefaultFor(ILearnedOptimizer lopt)
    {
        ArgumentNullException.ThrowIfNull(lopt);
        return lopt.Supports(StateDtype.BFloat16) ? StateDtype.BFloat16 : StateDtype.Float32;
    }

    /// <summary>Parses a config name ("float32" or "bfloat16", case-insensitive).</summary>
    public static bool TryParse(string? name, out StateDtype dtype)
    {
        for (int i = 0; i < Names.Count; i++)
        {
            if (string.Equals(name, Names[i], StringComparison.OrdinalIgnoreCase))
            {
                dtype = (StateDtype)i;
                return true;
            }
        }
        dtype = StateDtype.Float32;
        return false;
    }
}

/// <summary>bfloat16 values held as their 16 bits (the upper half of a float32's bits).</summary>
internal static class BFloat16Bits
{
    /// <summary>The float32 with the same value (exact).</summary>
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>
    /// <paramref name="value"/> rounded to the nearest bfloat16, ties to even (overflow gives ±∞);
    /// a NaN stays a (quiet) NaN. Bit-identical to what the kernels store.
    /// </summary>
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary><paramref name="value"/> rounded to bfloat16 and widened back: what a bfloat16 state keeps of it.</summary>
    public static float Round(float value) => ToSingle(FromSingle(value));
}

/// <summary>
/// A view of a recurrent state [units, N] in either storage type (<see cref="StateDtype"/>): float32
/// values or bfloat16 bits. Passed to the kernels' state-generic calls
/// (<see cref="ILearnedOptimizer.StepGrouped(ReadOnlySpan{float}, StateSpan, StateSpan, ReadOnlySpan{float}, Span{float}, float, int)"/>, …).
/// </summary>
public readonly ref struct StateSpan
{
    private readonly Span<float> _f32;
    private readonly Span<ushort> _bf16;

    /// <summary>A float32 state.</summary>
    public StateSpan(Span<float> values)
    {
        _f32 = values;
        Dtype = StateDtype.Float32;
    }

    /// <summary>A bfloat16 state, as bits (<see cref="BFloat16Bits"/>).</summary>
    public StateSpan(Span<ushort> bfloat16Bits)
    {
        _bf16 = bfloat16Bits;
        Dtype = StateDtype.BFloat16;
    }

    /// <summary>A view of a float32 state that a call only reads (the meta-gradient's state0); the call must not write it.</summary>
    internal static StateSpan ReadOnly(ReadOnlySpan<float> values) =>
        new(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(values), values.Length));

    /// <summary>The storage type.</summary>
    public StateDtype Dtype { get; }

    /// <summary>Values in the view.</summary>
    public int Length => Dtype == StateDtype.Float32 ? _f32.Length : _bf16.Length;

    /// <summary>The float32 values.</summary>
    /// <exception cref="InvalidOperationException">The state is bfloat16.</exception>
    public Span<float> Float32 => Dtype == StateDtype.Float32 ? _f32 : throw new InvalidOperationException("The state is stored as bfloat16.");

    /// <summary>The bfloat16 bits.</summary>
    /// <exception cref="InvalidOperationException">The state is float32.</exception>
    public Span<ushort> BFloat16 => Dtype == StateDtype.BFloat16 ? _bf16 : throw new InvalidOperationException("The state is stored as float32.");

    /// <summary>Value <paramref name="index"/> as a float32 (exact for both types).</summary>
    public float this[int index] => Dtype == StateDtype.Float32 ? _f32[index] : BFloat16Bits.ToSingle(_bf16[index]);

    /// <summary>The values [start, start + length).</summary>
    public StateSpan Slice(int start, int length) =>
        Dtype == StateDtype.Float32 ? new StateSpan(_f32.Slice(start, length)) : new StateSpan(_bf16.Slice(start, length));

    /// <summary>Copies the values to <paramref name="destination"/>, a view of the same type and length.</summary>
    /// <exception cref="ArgumentException">Another type or length.</exception>
    public void CopyTo(StateSpan destination)
    {
        if (destination.Dtype != Dtype || destination.Length != Length)
            throw new ArgumentException($"Cannot copy {Length} {Dtype.Name()} values to {destination.Length} {destination.Dtype.Name()} values.", nameof(destination));
        if (Dtype == StateDtype.Float32) _f32.CopyTo(destination._f32);
        else _bf16.CopyTo(destination._bf16);
    }

    /// <summary>Whether the two views share memory.</summary>
    public bool Overlaps(StateSpan other) => Overlaps(ref other.Start, other.ByteLength);

    /// <summary>Whether the view shares memory with <paramref name="values"/>.</summary>
    public bool Overlaps(ReadOnlySpan<float> values) =>
        Overlaps(ref Unsafe.As<float, byte>(ref MemoryMarshal.GetReference(values)), (long)values.Length * sizeof(float));

    /// <summary>Whether the two views are the same memory of the same type and length.</summary>
    public bool SameAs(StateSpan other) => Dtype == other.Dtype && Length == other.Length && Unsafe.AreSame(ref Start, ref other.Start);

    /// <summary>For <c>fixed</c>: the first byte, or a null reference when empty.</summary>
    public ref byte GetPinnableReference() => ref Length != 0 ? ref Start : ref Unsafe.NullRef<byte>();

    // Byte arithmetic in long: a state may hold more than 2³¹ bytes.
    private ref byte Start => ref Dtype == StateDtype.Float32
        ? ref Unsafe.As<float, byte>(ref MemoryMarshal.GetReference(_f32))
        : ref Unsafe.As<ushort, byte>(ref MemoryMarshal.GetReference(_bf16));

    private long ByteLength => (long)Length * Dtype.Bytes();

    private bool Overlaps(ref byte otherStart, long otherBytes)
    {
        if (Length == 0 || otherBytes == 0) return false;
        long d = Unsafe.ByteOffset(ref Start, ref otherStart);
        return d >= 0 ? d < ByteLength : -d < otherBytes;
    }

    /// <summary>The values widened to float32 (a copy).</summary>
    public float[] ToFloat32()
    {
        var a = new float[Length];
        for (int i = 0; i < a.Length; i++) a[i] = this[i];
        return a;
    }
}

/// <summary>
/// An owned recurrent-state buffer [<see cref="Units"/>, <see cref="N"/>] of one
/// <see cref="StateDtype"/>, as meta-training keeps for a task's population.
/// </summary>
public sealed class RecurrentState
{
    private readonly float[]? _f32;
    private readonly ushort[]? _bf16;

    /// <summary>A zero state.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative size, or more values than one array holds.</exception>
    public RecurrentState(StateDtype dtype, int units, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        long length = (long)units * n;
        if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(n), $"{units} × {n} state values exceed one array ({Array.MaxLength:N0}).");
        Dtype = dtype;
        Units = units;
        N = n;
        if (dtype == StateDtype.BFloat16) _bf16 = new ushort[length];
        else _f32 = new float[length];
    }

    /// <summary>The storage type.</summary>
    public StateDtype Dtype { get; }

    /// <summary>State units per coordinate.</summary>
    public int Units { get; }

    /// <summary>Coordinates.</summary>
    public int N { get; }

    /// <summary>Units · N.</summary>
    public int Length => Units * N;

    /// <summary>The whole state.</summary>
    public StateSpan Span => _f32 is not null ? new StateSpan(_f32) : new StateSpan(_bf16);

    /// <summary>Zeroes coordinates [start, start + count) of every unit (a pipeline reset).</summary>
    public void ClearCoordinates(int start, int count)
    {
        for (int u = 0; u < Units; u++)
        {
            if (_f32 is not null) _f32.AsSpan(u * N + start, count).Clear();
            else _bf16.AsSpan(u * N + start, count).Clear();
        }
    }

    /// <summary>Writes coordinates [start, start + count) of every unit, unit by unit, in the storage type (one agent's share of the state).</summary>
    public void WriteCoordinates(BinaryWriter writer, int start, int count)
    {
        for (int u = 0; u < Units; u++)
        {
            if (_f32 is not null) BinaryArrays.WriteFloats(writer, _f32.AsSpan(u * N + start, count));
            else BinaryArrays.WriteUInt16s(writer, _bf16.AsSpan(u * N + start, count));
        }
    }

    /// <summary>Reads what <see cref="WriteCoordinates"/> wrote, in this state's storage type, into coordinates [start, start + count).</summary>
    /// <exception cref="InvalidDataException">A stored count differs.</exception>
    public void ReadCoordinates(BinaryReader reader, int start, int count)
    {
        for (int u = 0; u < Units; u++)
        {
            if (_f32 is not null) BinaryArrays.ReadFloats(reader, _f32.AsSpan(u * N + start, count));
            else BinaryArrays.ReadUInt16s(reader, _bf16.AsSpan(u * N + start, count));
        }
    }

    /// <summary>Writes the values in their storage type (float32: 4 bytes each, bfloat16: 2), with their count.</summary>
    public void Write(BinaryWriter writer)
    {
        if (_f32 is not null) BinaryArrays.WriteFloats(writer, _f32);
        else BinaryArrays.WriteUInt16s(writer, _bf16);
    }

    /// <summary>Reads what <see cref="Write"/> wrote for a state of this size.</summary>
    /// <param name="reader">The stream.</param>
    /// <param name="stored">The type the values were written in; another type than <see cref="Dtype"/> is converted (float32 → bfloat16 rounds to nearest even).</param>
    /// <exception cref="InvalidDataException">The stored count differs.</exception>
    public void Read(BinaryReader reader, StateDtype stored)
    {
        if (stored == Dtype)
        {
            if (_f32 is not null) BinaryArrays.ReadFloats(reader, _f32);
            else BinaryArrays.ReadUInt16s(reader, _bf16);
            return;
        }

        int n = reader.ReadInt32();
        if (n != Length) throw new InvalidDataException($"stored array has {n} values, expected {Length}");
        int piece = BinaryArrays.PieceLength;
        if (stored == StateDtype.Float32)
        {
            var buffer = new float[Math.Min(piece, n)];
            for (int start = 0; start < n; start += piece)
            {
                var b = buffer.AsSpan(0, Math.Min(piece, n - start));
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(b));
                for (int i = 0; i < b.Length; i++) _bf16![start + i] = BFloat16Bits.FromSingle(b[i]);
            }
        }
        else
        {
            var buffer = new ushort[Math.Min(piece, n)];
            for (int start = 0; start < n; start += piece)
            {
                var b = buffer.AsSpan(0, Math.Min(piece, n - start));
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(b));
                for (int i = 0; i < b.Length; i++) _f32![start + i] = BFloat16Bits.ToSingle(b[i]);
            }
        }
    }
}
