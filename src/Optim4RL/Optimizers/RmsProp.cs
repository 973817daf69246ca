using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// RMSProp as in optax <c>rmsprop(learning_rate, decay=0.9, eps=1e-8)</c> (docs/algorithms.md, "Hand-designed optimizers"), i.e.
/// <c>chain(scale_by_rms(decay, eps, initial_scale=0), scale(−α))</c>, no momentum, not centred:
/// <code>
/// ν ← ρ·ν + (1−ρ)·g²        (ν = 0 at init, no bias correction)
/// Δθ = −α · g / (√ν + ε)     by default (this project's rule)
/// Δθ = −α · g / √(ν + ε)     when epsInSqrt (optax 0.1.7's rule, the reference's version)
/// </code>
/// </summary>
/// <remarks>
/// optax (0.1.7, the reference's version, and today's default) puts ε inside the square root;
/// this project's default is g/(√ν + ε). The two differ only where ν ≲ 1e−8 (there √(ν+ε) floors the
/// denominator at 1e−4). <see cref="EpsInSqrt"/> chooses; docs/algorithms.md gives both.
/// State buffer: <c>nu</c> [P].
/// </remarks>
public sealed class RmsProp : MomentOptimizer
{
    /// <summary>Creates RMSProp.</summary>
    /// <param name="learningRate">Step size α (finite).</param>
    /// <param name="decay">Decay ρ of the squared-gradient average, in [0, 1).</param>
    /// <param name="eps">ε (≥ 0).</param>
    /// <param name="epsInSqrt">false (default): g/(√ν+ε), this project's formula; true: g/√(ν+ε), optax's rule.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is outside its range.</exception>
    public RmsProp(double learningRate, double decay = 0.9, double eps = 1e-8, bool epsInSqrt = false)
        : base("rmsprop", learningRate, "nu")
    {
        Decay = Kernels.Checked(decay, decay >= 0 && decay < 1, nameof(decay), "decay must be in [0, 1).");
        Eps = Kernels.Checked(eps, eps >= 0 && double.IsFinite(eps), nameof(eps), "eps must be finite and ≥ 0.");
        EpsInSqrt = epsInSqrt;
    }

    /// <summary>Decay ρ of the squared-gradient average.</summary>
    public double Decay { get; }

    /// <summary>ε.</summary>
    public double Eps { get; }

    /// <summary>Whether ε is added inside the square root (optax's default) or outside.</summary>
    public bool EpsInSqrt { get; }

    /// <summary>ν ← ρ·ν + (1−ρ)·g², Δθ = −α·g/(√ν + ε) (or /√(ν + ε)).</summary>
    private protected override void ApplyBlock(ReadOnlySpan<float> g, Span<float> v, Span<float> unused, Span<float> u, Span<float> s, long t)
    {
        float rho = (float)Decay, c = (float)(1 - Decay), eps = (float)Eps, negLr = (float)-LearningRate;
        TP.Multiply(g, g, s);
        TP.Multiply(v, rho, v);
        TP.MultiplyAdd(s, c, v, v);       // ν = (1−ρ)·g² + ρ·ν
        if (EpsInSqrt)
        {
            TP.Add(v, eps, s);
            TP.Sqrt(s, s);                // √(ν + ε)
        }
        else
        {
            TP.Sqrt(v, s);
            TP.Add(s, eps, s);            // √ν + ε
        }
        TP.Divide(g, s, u);               // u may alias g: each element reads g before writing
        TP.Multiply(u, negLr, u);
    }
}
