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
public sealed class ClipByGlobalNorm : IOptimizer
{
    /// <summary>Creates the global-norm clip at <paramref name="maxNorm"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and &gt; 0.</exception>
    public ClipByGlobalNorm(double maxNorm)
    {
        if (!(maxNorm > 0 && double.IsFinite(maxNorm))) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum norm must be finite and > 0.");
        MaxNorm = maxNorm;
        Name = $"clip_by_global_norm({Kernels.Format(MaxNorm)})";
    }

    /// <summary>The bound c on the global L2 norm.</summary>
    public double MaxNorm { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates the (buffer-less) state for <paramref name="paramCount"/> coordinates.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    public OptimizerState Init(int paramCount)
    {
        Kernels.CheckParamCount(paramCount);
        return new OptimizerState(paramCount, [], []);
    }

    /// <summary>Writes the rescaled gradient (shape [P]) into <paramref name="updates"/>, which may alias <paramref name="grads"/>.</summary>
    /// <exception cref="ArgumentException">A span's length differs from the state's parameter count, or the state is not a clip state.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        Kernels.CheckUpdate(Name, grads, state, updates, bufferCount: 0);
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
        state.Count++;
    }
}
