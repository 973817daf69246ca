using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), an optional
/// hand-designed optimizer; optax <c>lion(learning_rate, b1=0.9, b2=0.99, weight_decay=0)</c>, i.e.
/// <c>chain(scale_by_lion(b1, b2), scale(−α))</c>:
/// <code>
/// Δθ = −α · sign(β1·m + (1−β1)·g)      (sign(0) = 0, NaN propagates)
/// m ← β2·m + (1−β2)·g
/// </code>
/// </summary>
/// <remarks>
/// State buffer: <c>mu</c> [P] (m), zero at init. optax's <c>lion</c> defaults to decoupled
/// weight decay 1e−3, which needs θ; <see cref="IOptimizer"/> does not see θ, so this
/// transform has no weight decay (weight_decay = 0).
/// </remarks>
public sealed class Lion : MomentOptimizer
{
    /// <summary>Creates Lion.</summary>
    /// <param name="learningRate">Step size α (finite).</param>
    /// <param name="b1">Interpolation β1 between momentum and gradient for the sign, in [0, 1].</param>
    /// <param name="b2">Momentum decay β2, in [0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is outside its range.</exception>
    public Lion(double learningRate, double b1 = 0.9, double b2 = 0.99)
        : base("lion", learningRate, "mu")
    {
        B1 = Kernels.Checked(b1, b1 >= 0 && b1 <= 1, nameof(b1), "b1 must be in [0, 1].");
        B2 = Kernels.Checked(b2, b2 >= 0 && b2 <= 1, nameof(b2), "b2 must be in [0, 1].");
    }

    /// <summary>β1: weight of the momentum in the signed direction.</summary>
    public double B1 { get; }

    /// <summary>β2: decay of the momentum.</summary>
    public double B2 { get; }

    /// <summary>Δθ = −α·sign(β1·m + (1−β1)·g), then m ← β2·m + (1−β2)·g.</summary>
    private protected override void ApplyBlock(ReadOnlySpan<float> g, Span<float> m, Span<float> unused, Span<float> u, Span<float> s, long t)
    {
        float b1 = (float)B1, c1 = (float)(1 - B1), b2 = (float)B2, c2 = (float)(1 - B2), negLr = (float)-LearningRate;
        TP.Multiply(m, b1, s);
        TP.MultiplyAdd(g, c1, s, s);      // (1−β1)·g + β1·m, with the old m
        TP.Multiply(m, b2, m);
        TP.MultiplyAdd(g, c2, m, m);      // m = (1−β2)·g + β2·m; g is no longer needed
        Kernels.ScaledSign(s, negLr, u);  // u may alias g
    }
}
