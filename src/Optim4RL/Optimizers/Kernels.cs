using System.Numerics;
using System.Runtime.InteropServices;

namespace Optim4RL.Optimizers;

/// <summary>
/// Span helpers shared by the hand-designed transforms: argument checks and the few
/// element-wise kernels <c>TensorPrimitives</c> does not offer with optax's semantics.
/// </summary>
internal static class Kernels
{
    /// <summary>
    /// Coordinates processed per block by transforms that need scratch memory: the scratch
    /// lives on the stack (4 KiB), so <c>Update</c> allocates nothing and each block's
    /// passes stay in L1 cache.
    /// </summary>
    internal const int BlockSize = 1024;

    /// <summary>Checks the spans against the state: lengths [P] and the expected buffer count.</summary>
    /// <exception cref="ArgumentException">A length or the state's structure does not match.</exception>
    internal static void CheckUpdate(string name, ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates, int bufferCount, int childCount = 0)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (grads.Length != state.ParamCount)
            throw new ArgumentException($"{name}: gradient has {grads.Length} coordinates but the state was made for {state.ParamCount}.", nameof(grads));
        if (updates.Length != state.ParamCount)
            throw new ArgumentException($"{name}: update buffer has {updates.Length} coordinates but the state was made for {state.ParamCount}.", nameof(updates));
        if (state.Buffers.Length != bufferCount || state.Children.Length != childCount)
            throw new ArgumentException($"{name}: the state was not made by this transform's Init (expected {bufferCount} buffers and {childCount} children, found {state.Buffers.Length} and {state.Children.Length}).", nameof(state));
        for (int i = 0; i < bufferCount; i++)
        {
            if (state.Buffers[i].Length != state.ParamCount)
                throw new ArgumentException($"{name}: state buffer '{state.Names[i]}' has {state.Buffers[i].Length} entries, expected {state.ParamCount}.", nameof(state));
        }
    }

    /// <summary><paramref name="value"/> when <paramref name="valid"/>; otherwise <see cref="ArgumentOutOfRangeException"/> naming <paramref name="parameter"/>.</summary>
    internal static double Checked(double value, bool valid, string parameter, string message) =>
        valid ? value : throw new ArgumentOutOfRangeException(parameter, value, message);

    /// <summary>Checks a parameter count passed to <c>Init</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    internal static void CheckParamCount(int paramCount) => ArgumentOutOfRangeException.ThrowIfNegative(paramCount);

    /// <summary>
    /// <c>destination[i] = scale · sign(x[i])</c> with <c>jnp.sign</c> semantics: sign(±0) = 0,
    /// sign(NaN) = NaN (so NaN propagates, where <c>TensorPrimitives.Sign</c> would throw).
    /// <paramref name="destination"/> may alias <paramref name="x"/>.
    /// </summary>
    internal static void ScaledSign(ReadOnlySpan<float> x, float scale, Span<float> destination)
    {
        if (destination.Length < x.Length) throw new ArgumentException("Destination is too short.", nameof(destination));
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var xs = MemoryMarshal.Cast<float, Vector<float>>(x);
            var ds = MemoryMarshal.Cast<float, Vector<float>>(destination);
            var pos = new Vector<float>(scale);
            var neg = new Vector<float>(-scale);
            for (int k = 0; k < xs.Length; k++)
            {
                var v = xs[k];
                var s = Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), pos,
                    Vector.ConditionalSelect(Vector.LessThan(v, Vector<float>.Zero), neg, Vector<float>.Zero));
                // v != v only for NaN: keep the NaN.
                ds[k] = Vector.ConditionalSelect(Vector.Equals(v, v), s, v);
            }
            i = xs.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++)
        {
            float v = x[i];
            destination[i] = v > 0 ? scale : v < 0 ? -scale : float.IsNaN(v) ? v : 0f;
        }
    }

    /// <summary>Formats a hyper-parameter for <c>Name</c> strings (shortest round-trip, invariant culture).</summary>
    internal static string Format(double x) => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
