using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// Multiplies the incoming updates by a constant: u ← s·u (optax <c>scale(step_size)</c>).
/// With s = −α it turns a direction-only transform into a descent step, e.g.
/// <c>new Chain(new ClipElementwise(1), new Scale(-1e-3))</c> is clipped SGD.
/// </summary>
public sealed class Scale : IOptimizer
{
    /// <summary>Creates the transform u ← <paramref name="factor"/>·u.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not finite.</exception>
    public Scale(double factor)
    {
        if (!double.IsFinite(factor)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The scale factor must be finite.");
        Factor = factor;
        Name = $"scale({Kernels.Format(Factor)})";
    }

    /// <summary>The multiplier s.</summary>
    public double Factor { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates the (buffer-less) state for <paramref name="paramCount"/> coordinates.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    public OptimizerState Init(int paramCount)
    {
        Kernels.CheckParamCount(paramCount);
        return new OptimizerState(paramCount, [], []);
    }

    /// <summary>Writes s·g (shape [P]) into <paramref name="updates"/>, which may alias <paramref name="grads"/>.</summary>
    /// <exception cref="ArgumentException">A span's length differs from the state's parameter count, or the state is not a Scale state.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        Kernels.CheckUpdate(Name, grads, state, updates, bufferCount: 0);
        TP.Multiply(grads, (float)Factor, updates);
        state.Count++;
    }
}
