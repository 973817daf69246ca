using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// Multiplies the incoming updates by a constant: u ← s·u (optax <c>scale(step_size)</c>).
/// With s = −α it turns a direction-only transform into a descent step, e.g.
/// <c>new Chain(new ClipElementwise(1), new Scale(-1e-3))</c> is clipped SGD.
/// </summary>
public sealed class Scale : StatelessTransform
{
    /// <summary>Creates the transform u ← <paramref name="factor"/>·u.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not finite.</exception>
    public Scale(double factor)
        : base($"scale({Kernels.Format(Checked(factor, double.IsFinite(factor), nameof(factor), "The scale factor must be finite."))})") =>
        Factor = factor;

    /// <summary>The multiplier s.</summary>
    public double Factor { get; }

    /// <summary>u = s·g.</summary>
    private protected override void Apply(ReadOnlySpan<float> grads, Span<float> updates)
    {
        TP.Multiply(grads, (float)Factor, updates);
    }
}
