using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// Multiplies the incoming updates by a constant: u ← s·u (optax <c>scale(step_size)</c>).
/// With s = −α it turns a direction-only transform into a descent step, e.g.
/// <c>new Chain(new ClipElementwise(1), new Scale(-1e-3))</c> is clipped SGD (and <see cref="Sgd"/> is <c>scale(−α)</c>).
/// </summary>
public class Scale : StatelessTransform
{
    /// <summary>Creates the transform u ← <paramref name="factor"/>·u.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not finite.</exception>
    public Scale(double factor)
        : this($"scale({Kernels.Format(Kernels.Checked(factor, double.IsFinite(factor), nameof(factor), "The scale factor must be finite."))})", factor)
    {
    }

    /// <summary>A scaling named <paramref name="name"/> (its factor already checked).</summary>
    private protected Scale(string name, double factor)
        : base(name) =>
        Factor = factor;

    /// <summary>The multiplier s.</summary>
    public double Factor { get; }

    /// <summary>u = s·g.</summary>
    private protected sealed override void Apply(ReadOnlySpan<float> grads, Span<float> updates)
    {
        TP.Multiply(grads, (float)Factor, updates);
    }
}
