using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// Rescales the whole gradient to global norm at most c (the config's <c>grad_norm</c>; optax
/// <c>clip_by_global_norm(max_norm)</c>): with n = ‖g‖₂ over all P coordinates,
/// u = g when n &lt; c, else u = (g / n)·c.
/// </summary>
/// <remarks>
/// The norm is computed in float32 like optax's <c>global_norm</c>. A non-finite norm makes
/// every coordinate NaN (as in optax). Stateless: only <see cref="OptimizerState.Count"/> advances.
/// </remarks>
public sealed class ClipByGlobalNorm : GradientClip
{
    /// <summary>Creates the global-norm clip at <paramref name="maxNorm"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and &gt; 0.</exception>
    public ClipByGlobalNorm(double maxNorm)
        : base("clip_by_global_norm", maxNorm, nameof(maxNorm), "The maximum norm must be finite and > 0.")
    {
    }

    /// <summary>The bound c on the global L2 norm.</summary>
    public double MaxNorm => Bound;

    /// <summary>u = g when ‖g‖ &lt; c, else (g / ‖g‖)·c.</summary>
    private protected override void Apply(ReadOnlySpan<float> grads, Span<float> updates)
    {
        float c = (float)MaxNorm;
        float norm = TP.Norm(grads);
        if (norm < c)
        {
            grads.CopyTo(updates);
        }
        else
        {
            TP.Divide(grads, norm, updates);
            TP.Multiply(updates, c, updates);
        }
    }
}
