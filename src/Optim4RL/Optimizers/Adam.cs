using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// Adam with bias correction (docs/algorithms.md; optax <c>adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8)</c>,
/// i.e. <c>chain(scale_by_adam(b1, b2, eps, eps_root=0), scale(−α))</c>):
/// <code>
/// μ ← β1·μ + (1−β1)·g          ν ← β2·ν + (1−β2)·g²          t ← t + 1
/// μ̂ = μ / (1−β1ᵗ)              ν̂ = ν / (1−β2ᵗ)
/// Δθ = −α · μ̂ / (√ν̂ + ε)       (ε outside the square root)
/// </code>
/// </summary>
/// <remarks>
/// State buffers: <c>mu</c> [P] and <c>nu</c> [P], both zero at init; t is
/// <see cref="OptimizerState.Count"/>. Moments are float32 as in optax; the bias corrections
/// 1−βᵗ are computed in double and then rounded to float.
/// </remarks>
public sealed class Adam : MomentOptimizer
{
    /// <summary>Creates Adam.</summary>
    /// <param name="learningRate">Step size α (finite).</param>
    /// <param name="b1">Decay β1 of the first moment, in [0, 1).</param>
    /// <param name="b2">Decay β2 of the second moment, in [0, 1).</param>
    /// <param name="eps">ε added to √ν̂ (≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is outside its range.</exception>
    public Adam(double learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8)
        : base("adam", learningRate, "mu", "nu")
    {
        B1 = Kernels.Checked(b1, b1 >= 0 && b1 < 1, nameof(b1), "b1 must be in [0, 1).");
        B2 = Kernels.Checked(b2, b2 >= 0 && b2 < 1, nameof(b2), "b2 must be in [0, 1).");
        Eps = Kernels.Checked(eps, eps >= 0 && double.IsFinite(eps), nameof(eps), "eps must be finite and ≥ 0.");
    }

    /// <summary>First-moment decay β1.</summary>
    public double B1 { get; }

    /// <summary>Second-moment decay β2.</summary>
    public double B2 { get; }

    /// <summary>ε, added outside the square root.</summary>
    public double Eps { get; }

    /// <summary>μ ← β1·μ + (1−β1)·g, ν ← β2·ν + (1−β2)·g², Δθ = −α·μ̂/(√ν̂ + ε) at step t.</summary>
    private protected override void ApplyBlock(ReadOnlySpan<float> g, Span<float> m, Span<float> v, Span<float> u, Span<float> s, long t)
    {
        float b1 = (float)B1, b2 = (float)B2, c1 = (float)(1 - B1), c2 = (float)(1 - B2);
        float bc1 = (float)(1 - Math.Pow(B1, t));
        float bc2 = (float)(1 - Math.Pow(B2, t));
        float eps = (float)Eps, negLr = (float)-LearningRate;
        // Moments first: they read g, and u may alias g.
        TP.Multiply(m, b1, m);
        TP.MultiplyAdd(g, c1, m, m);      // μ = (1−β1)·g + β1·μ
        TP.Multiply(g, g, s);
        TP.Multiply(v, b2, v);
        TP.MultiplyAdd(s, c2, v, v);      // ν = (1−β2)·g² + β2·ν
        TP.Divide(v, bc2, s);             // ν̂
        TP.Sqrt(s, s);
        TP.Add(s, eps, s);                // √ν̂ + ε
        TP.Divide(m, bc1, u);             // μ̂
        TP.Divide(u, s, u);
        TP.Multiply(u, negLr, u);         // −α·μ̂/(√ν̂ + ε)
    }
}
