using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// Clips every coordinate to [−c, c]: u = clip(g, −c, c) (the config's <c>grad_clip</c>; optax
/// <c>clip(max_delta)</c>). NaN coordinates stay NaN.
/// </summary>
/// <remarks>Stateless: the state has no buffers; only <see cref="OptimizerState.Count"/> advances.</remarks>
public sealed class ClipElementwise : GradientClip
{
    /// <summary>Creates the clip to [−<paramref name="maxDelta"/>, <paramref name="maxDelta"/>].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDelta"/> is not finite and &gt; 0.</exception>
    public ClipElementwise(double maxDelta)
        : base("clip", maxDelta, nameof(maxDelta), "The clip bound must be finite and > 0.")
    {
    }

    /// <summary>The bound c.</summary>
    public double MaxDelta => Bound;

    /// <summary>u = clip(g, −c, c).</summary>
    private protected override void Apply(ReadOnlySpan<float> grads, Span<float> updates) => Into(grads, updates, (float)MaxDelta);

    /// <summary>
    /// The one elementwise clip of the library (this transform, learned optimizers', the fused kernel
    /// update's and meta-training's <c>grad_clip</c>): writes clip(<paramref name="src"/>, −c, c) into
    /// <paramref name="dst"/> when c = <paramref name="clip"/> &gt; 0, else copies it (nothing to do when the
    /// two are the same span). NaN stays NaN and −0 stays −0, as <see cref="Math.Clamp(float, float, float)"/> would give.
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
