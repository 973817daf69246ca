using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// Clips every coordinate to [−c, c]: u = clip(g, −c, c) (the config's <c>grad_clip</c>; optax
/// <c>clip(max_delta)</c>). NaN coordinates stay NaN.
/// </summary>
/// <remarks>Stateless: the state has no buffers; only <see cref="OptimizerState.Count"/> advances.</remarks>
public sealed class ClipElementwise : IOptimizer
{
    /// <summary>Creates the clip to [−<paramref name="maxDelta"/>, <paramref name="maxDelta"/>].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDelta"/> is not finite and &gt; 0.</exception>
    public ClipElementwise(double maxDelta)
    {
        if (!(maxDelta > 0 && double.IsFinite(maxDelta))) throw new ArgumentOutOfRangeException(nameof(maxDelta), maxDelta, "The clip bound must be finite and > 0.");
        MaxDelta = maxDelta;
        Name = $"clip({Kernels.Format(MaxDelta)})";
    }

    /// <summary>The bound c.</summary>
    public double MaxDelta { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates the (buffer-less) state for <paramref name="paramCount"/> coordinates.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    public OptimizerState Init(int paramCount)
    {
        Kernels.CheckParamCount(paramCount);
        return new OptimizerState(paramCount, [], []);
    }

    /// <summary>Writes clip(g, −c, c) (shape [P]) into <paramref name="updates"/>, which may alias <paramref name="grads"/>.</summary>
    /// <exception cref="ArgumentException">A span's length differs from the state's parameter count, or the state is not a clip state.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        Kernels.CheckUpdate(Name, grads, state, updates, bufferCount: 0);
        Into(grads, updates, (float)MaxDelta);
        state.Count++;
    }

    /// <summary>
    /// The one elementwise clip of the library (this transform, learned optimizers' and meta-training's
    /// <c>grad_clip</c>): writes clip(<paramref name="src"/>, −c, c) into <paramref name="dst"/> when
    /// c = <paramref name="clip"/> &gt; 0, else copies it (nothing to do when the two are the same span).
    /// NaN stays NaN and −0 stays −0, as <see cref="Math.Clamp(float, float, float)"/> would give.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <paramref name="src"/>.</exception>
    public static void Into(ReadOnlySpan<float> src, Span<float> dst, float clip)
    {
        if (clip > 0)
        {
            TP.Min(src, clip, dst);
            TP.Max(dst, -clip, dst);
        }
        else if (!src.Overlaps(dst))
        {
            src.CopyTo(dst);
        }
    }
}
