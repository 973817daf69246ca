using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// Width-generic SIMD helpers for the coordinate-wise learned-optimizer kernels
/// (fused, structure-of-arrays, one SIMD vector of coordinates at a time). <c>TV</c> is one of <see cref="Vector512{T}"/>,
/// <see cref="Vector256{T}"/> or <see cref="Vector128{T}"/> of float; every helper dispatches on
/// <c>typeof(TV)</c>, which the JIT folds, so a kernel written once compiles to straight
/// AVX-512 / AVX2 / SSE code (measured: as fast as code written against Vector512 directly).
/// </summary>
/// <remarks>
/// Every helper is lane-wise with the same operation order at every width, so a coordinate's
/// forward result does not depend on the width or on the lane it occupies. The activation
/// approximations (<see cref="Tanh{TV}"/>, <see cref="Sigmoid{TV}"/>) have scalar twins
/// (<see cref="TanhScalar"/>, <see cref="SigmoidScalar"/>) computing bit-identical values, used by
/// tests to measure the approximation error against double precision.
/// </remarks>
internal static unsafe partial class LearnedSimd
{
    // tanh(x) ≈ x·P(x²)/Q(x²) on |x| ≤ 9 (clamped outside): a rational [11/6] fit minimising the
    // maximal relative error on [0, 9] (Lawson-reweighted linearised least squares, fitted for this
    // project in double precision). Evaluated in float with FMA Horner steps: max |error| ≈ 3.1e-7
    // absolute and relative over all floats (tests check ≤ 5e-7).
    internal const float TanhClamp = 9f;
    internal const float P0 = 0.9999999411363848f;
    internal const float P1 = 0.1291922625941305f;
    internal const float P2 = 0.002920759688819663f;
    internal const float P3 = 9.267405188186622e-06f;
    internal const float P4 = -1.2780407446540669e-08f;
    internal const float P5 = 1.8255194017621866e-11f;
    internal const float Q1 = 0.462525101030133f;
    internal const float Q2 = 0.023763159326652218f;
    internal const float Q3 = 0.0002280999294967145f;

    /// <summary>The rational tanh approximation for one float, bit-identical to <see cref="Tanh{TV}"/>.</summary>
    internal static float TanhScalar(float x)
    {
        x = x < TanhClamp ? x : TanhClamp; // same NaN behaviour as vmaxps/vminps is not needed here
        x = x > -TanhClamp ? x : -TanhClamp;
        float x2 = x * x;
        float p = MathF.FusedMultiplyAdd(P5, x2, P4);
        p = MathF.FusedMultiplyAdd(p, x2, P3);
        p = MathF.FusedMultiplyAdd(p, x2, P2);
        p = MathF.FusedMultiplyAdd(p, x2, P1);
        p = MathF.FusedMultiplyAdd(p, x2, P0);
        float q = MathF.FusedMultiplyAdd(Q3, x2, Q2);
        q = MathF.FusedMultiplyAdd(q, x2, Q1);
        q = MathF.FusedMultiplyAdd(q, x2, 1f);
        return x * p / q;
    }

    /// <summary>σ(x) = ½ + ½·tanh(x/2) with the rational tanh, bit-identical to <see cref="Sigmoid{TV}"/>.</summary>
    internal static float SigmoidScalar(float x) => MathF.FusedMultiplyAdd(0.5f, TanhScalar(0.5f * x), 0.5f);

    /// <summary>Lanes of the widest accelerated vector: 16 (AVX-512), 8 (AVX2) or 4; the kernels' default width.</summary>
    internal static int WidestWidth => Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;

    /// <summary>Lanes per vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Count<TV>() where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return 16;
        if (typeof(TV) == typeof(Vector256<float>)) return 8;
        if (typeof(TV) == typeof(Vector128<float>)) return 4;
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> A5<TV>(TV v) where TV : struct => Unsafe.BitCast<TV, Vector512<float>>(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> A2<TV>(TV v) where TV : struct => Unsafe.BitCast<TV, Vector256<float>>(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> A1<TV>(TV v) where TV : struct => Unsafe.BitCast<TV, Vector128<float>>(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV B<TV>(Vector512<float> v) where TV : struct => Unsafe.BitCast<Vector512<float>, TV>(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV B<TV>(Vector256<float> v) where TV : struct => Unsafe.BitCast<Vector256<float>, TV>(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV B<TV>(Vector128<float> v) where TV : struct => Unsafe.BitCast<Vector128<float>, TV>(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Bcast<TV>(float x) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.Create(x));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.Create(x));
        return B<TV>(Vector128.Create(x));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Load<TV>(float* p) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.Load(p));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.Load(p));
        return B<TV>(Vector128.Load(p));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store<TV>(float* p, TV v) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) A5(v).Store(p);
        else if (typeof(TV) == typeof(Vector256<float>)) A2(v).Store(p);
        else A1(v).Store(p);
    }

    /// <summary>*p += v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AddTo<TV>(float* p, TV v) where TV : struct => Store(p, Add(Load<TV>(p), v));

    /// <summary>*p += a·b (one fused multiply-add).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FmaTo<TV>(float* p, TV a, TV b) where TV : struct => Store(p, Fma(a, b, Load<TV>(p)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Add<TV>(TV a, TV b) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(A5(a) + A5(b));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(A2(a) + A2(b));
        return B<TV>(A1(a) + A1(b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Sub<TV>(TV a, TV b) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(A5(a) - A5(b));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(A2(a) - A2(b));
        return B<TV>(A1(a) - A1(b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Mul<TV>(TV a, TV b) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(A5(a) * A5(b));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(A2(a) * A2(b));
        return B<TV>(A1(a) * A1(b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Div<TV>(TV a, TV b) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(A5(a) / A5(b));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(A2(a) / A2(b));
        return B<TV>(A1(a) / A1(b));
    }

    /// <summary>a·b + c, rounded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Fma<TV>(TV a, TV b, TV c) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.FusedMultiplyAdd(A5(a), A5(b), A5(c)));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.FusedMultiplyAdd(A2(a), A2(b), A2(c)));
        return B<TV>(Vector128.FusedMultiplyAdd(A1(a), A1(b), A1(c)));
    }

    /// <summary>c − a·b, rounded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Fnma<TV>(TV a, TV b, TV c) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.FusedMultiplyAdd(-A5(a), A5(b), A5(c)));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.FusedMultiplyAdd(-A2(a), A2(b), A2(c)));
        return B<TV>(Vector128.FusedMultiplyAdd(-A1(a), A1(b), A1(c)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Min<TV>(TV a, TV b) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.MinNative(A5(a), A5(b)));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.MinNative(A2(a), A2(b)));
        return B<TV>(Vector128.MinNative(A1(a), A1(b)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Max<TV>(TV a, TV b) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.MaxNative(A5(a), A5(b)));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.MaxNative(A2(a), A2(b)));
        return B<TV>(Vector128.MaxNative(A1(a), A1(b)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Sqrt<TV>(TV a) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.Sqrt(A5(a)));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.Sqrt(A2(a)));
        return B<TV>(Vector128.Sqrt(A1(a)));
    }

    /// <summary>eˣ lane-wise (the runtime's vectorised exp, ≈ 1 ulp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Exp<TV>(TV a) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.Exp(A5(a)));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.Exp(A2(a)));
        return B<TV>(Vector128.Exp(A1(a)));
    }

    /// <summary>sign(x) ∈ {−1, 0, +1} lane-wise (0 for ±0), as <c>jnp.sign</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Sign<TV>(TV x) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
        {
            var v = A5(x);
            return B<TV>(Vector512.ConditionalSelect(Vector512.Equals(v, Vector512<float>.Zero), Vector512<float>.Zero, Vector512.CopySign(Vector512<float>.One, v)));
        }
        if (typeof(TV) == typeof(Vector256<float>))
        {
            var v = A2(x);
            return B<TV>(Vector256.ConditionalSelect(Vector256.Equals(v, Vector256<float>.Zero), Vector256<float>.Zero, Vector256.CopySign(Vector256<float>.One, v)));
        }
        {
            var v = A1(x);
            return B<TV>(Vector128.ConditionalSelect(Vector128.Equals(v, Vector128<float>.Zero), Vector128<float>.Zero, Vector128.CopySign(Vector128<float>.One, v)));
        }
    }

    /// <summary>The sum of the lanes (fixed order for a given width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum<TV>(TV a) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return Vector512.Sum(A5(a));
        if (typeof(TV) == typeof(Vector256<float>)) return Vector256.Sum(A2(a));
        return Vector128.Sum(A1(a));
    }

    /// <summary>W bfloat16 values (bits) at <paramref name="p"/>, widened exactly to float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV LoadBf16<TV>(ushort* p) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
        {
            Vector512<uint> u = Avx512F.IsSupported ? Avx512F.ConvertToVector512UInt32(Vector256.Load(p)) : Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe());
            return B<TV>(Vector512.ShiftLeft(u, 16).AsSingle());
        }
        if (typeof(TV) == typeof(Vector256<float>))
        {
            Vector256<uint> u = Avx2.IsSupported ? Avx2.ConvertToVector256Int32(Vector128.Load(p)).AsUInt32() : Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe());
            return B<TV>(Vector256.ShiftLeft(u, 16).AsSingle());
        }
        Vector128<uint> v = Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(ulong*)p).AsUInt16());
        return B<TV>(Vector128.ShiftLeft(v, 16).AsSingle());
    }

    /// <summary>
    /// Stores <paramref name="v"/> as W bfloat16 values (bits) at <paramref name="p"/>: rounded to
    /// nearest, ties to even; NaN stays a quiet NaN (bit-identical to <see cref="BFloat16Bits.FromSingle"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreBf16<TV>(ushort* p, TV v) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
        {
            Vector512<float> x = A5(v);
            Vector512<uint> bits = x.AsUInt32(), hi = Vector512.ShiftRightLogical(bits, 16);
            Vector512<uint> rounded = Vector512.ShiftRightLogical(bits + Vector512.Create(0x7FFFu) + (hi & Vector512<uint>.One), 16);
            Vector512<uint> r = Vector512.ConditionalSelect(Vector512.Equals(x, x).AsUInt32(), rounded, hi | Vector512.Create(0x40u));
            if (Avx512F.IsSupported) Avx512F.ConvertToVector256UInt16(r).Store(p);
            else Vector512.Narrow(r, r).GetLower().Store(p);
            return;
        }
        if (typeof(TV) == typeof(Vector256<float>))
        {
            Vector256<float> x = A2(v);
            Vector256<uint> bits = x.AsUInt32(), hi = Vector256.ShiftRightLogical(bits, 16);
            Vector256<uint> rounded = Vector256.ShiftRightLogical(bits + Vector256.Create(0x7FFFu) + (hi & Vector256<uint>.One), 16);
            Vector256<uint> r = Vector256.ConditionalSelect(Vector256.Equals(x, x).AsUInt32(), rounded, hi | Vector256.Create(0x40u));
            if (Avx512F.VL.IsSupported) Avx512F.VL.ConvertToVector128UInt16(r).Store(p);
            else Vector256.Narrow(r, r).GetLower().Store(p);
            return;
        }
        {
            Vector128<float> x = A1(v);
            Vector128<uint> bits = x.AsUInt32(), hi = Vector128.ShiftRightLogical(bits, 16);
            Vector128<uint> rounded = Vector128.ShiftRightLogical(bits + Vector128.Create(0x7FFFu) + (hi & Vector128<uint>.One), 16);
            Vector128<uint> r = Vector128.ConditionalSelect(Vector128.Equals(x, x).AsUInt32(), rounded, hi | Vector128.Create(0x40u));
            *(ulong*)p = Vector128.Narrow(r, r).AsUInt64().ToScalar();
        }
    }

    /// <summary>The rational tanh approximation, clamped to ±9 (see the constants above).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Tanh<TV>(TV x) where TV : struct
    {
        x = Max(Min(x, Bcast<TV>(TanhClamp)), Bcast<TV>(-TanhClamp));
        TV x2 = Mul(x, x);
        TV p = Fma(Bcast<TV>(P5), x2, Bcast<TV>(P4));
        p = Fma(p, x2, Bcast<TV>(P3));
        p = Fma(p, x2, Bcast<TV>(P2));
        p = Fma(p, x2, Bcast<TV>(P1));
        p = Fma(p, x2, Bcast<TV>(P0));
        TV q = Fma(Bcast<TV>(Q3), x2, Bcast<TV>(Q2));
        q = Fma(q, x2, Bcast<TV>(Q1));
        q = Fma(q, x2, Bcast<TV>(1f));
        return Div(Mul(x, p), q);
    }

    /// <summary>σ(x) = ½ + ½·tanh(x/2) with the rational tanh.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Sigmoid<TV>(TV x) where TV : struct
    {
        TV half = Bcast<TV>(0.5f);
        return Fma(half, Tanh(Mul(half, x)), half);
    }
}
