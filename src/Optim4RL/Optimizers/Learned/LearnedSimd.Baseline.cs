using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// The width-generic SIMD helpers the baseline learned optimizers (LinearOptim, L2LGD2, STAR) add
/// to the Optim4RL kernel's: comparisons and selects, ReLU, |x|, log and 1/√x. Like the rest of
/// <see cref="LearnedSimd"/>, every helper dispatches on <c>typeof(TV)</c> (folded by the JIT) and
/// is lane-wise with the same operation order at every width.
/// </summary>
internal static partial class LearnedSimd
{
    /// <summary>max(x, 0) lane-wise (<c>jax.nn.relu</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Relu<TV>(TV x) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.MaxNative(A5(x), Vector512<float>.Zero));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.MaxNative(A2(x), Vector256<float>.Zero));
        return B<TV>(Vector128.MaxNative(A1(x), Vector128<float>.Zero));
    }

    /// <summary><paramref name="value"/> where <paramref name="cond"/> &gt; 0, else 0: the adjoint through a ReLU (derivative 0 at 0, as JAX).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV WherePositive<TV>(TV cond, TV value) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
            return B<TV>(Vector512.ConditionalSelect(Vector512.GreaterThan(A5(cond), Vector512<float>.Zero), A5(value), Vector512<float>.Zero));
        if (typeof(TV) == typeof(Vector256<float>))
            return B<TV>(Vector256.ConditionalSelect(Vector256.GreaterThan(A2(cond), Vector256<float>.Zero), A2(value), Vector256<float>.Zero));
        return B<TV>(Vector128.ConditionalSelect(Vector128.GreaterThan(A1(cond), Vector128<float>.Zero), A1(value), Vector128<float>.Zero));
    }

    /// <summary><paramref name="x"/> where <paramref name="a"/> ≥ <paramref name="threshold"/>, else <paramref name="y"/> (<c>lax.select(a &gt;= t, x, y)</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV SelectGreaterOrEqual<TV>(TV a, float threshold, TV x, TV y) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
            return B<TV>(Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(A5(a), Vector512.Create(threshold)), A5(x), A5(y)));
        if (typeof(TV) == typeof(Vector256<float>))
            return B<TV>(Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(A2(a), Vector256.Create(threshold)), A2(x), A2(y)));
        return B<TV>(Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(A1(a), Vector128.Create(threshold)), A1(x), A1(y)));
    }

    /// <summary>|x| lane-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Abs<TV>(TV x) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.Abs(A5(x)));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.Abs(A2(x)));
        return B<TV>(Vector128.Abs(A1(x)));
    }

    /// <summary>ln x lane-wise (the runtime's vectorised log, ≈ 1 ulp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Log<TV>(TV x) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return B<TV>(Vector512.Log(A5(x)));
        if (typeof(TV) == typeof(Vector256<float>)) return B<TV>(Vector256.Log(A2(x)));
        return B<TV>(Vector128.Log(A1(x)));
    }

    /// <summary>1/√x lane-wise, as a correctly rounded square root followed by a division (not the approximate rsqrt instruction).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Rsqrt<TV>(TV x) where TV : struct => Div(Bcast<TV>(1f), Sqrt(x));

    /// <summary>Lane 0 of <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float First<TV>(TV x) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return A5(x).ToScalar();
        if (typeof(TV) == typeof(Vector256<float>)) return A2(x).ToScalar();
        return A1(x).ToScalar();
    }

    /// <summary>Whether every lane of <paramref name="x"/> equals <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool AllEqual<TV>(TV x, float value) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) return Vector512.EqualsAll(A5(x), Vector512.Create(value));
        if (typeof(TV) == typeof(Vector256<float>)) return Vector256.EqualsAll(A2(x), Vector256.Create(value));
        return Vector128.EqualsAll(A1(x), Vector128.Create(value));
    }

    /// <summary>A vector whose first <paramref name="count"/> lanes are 1 and the others 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe TV LaneMask<TV>(int count) where TV : struct
    {
        float* m = stackalloc float[16];
        for (int i = 0; i < 16; i++) m[i] = i < count ? 1f : 0f;
        return LearnedSimd.Load<TV>(m);
    }
}
