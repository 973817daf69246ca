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
public sealed class RmsProp : IOptimizer
{
    /// <summary>Creates RMSProp.</summary>
    /// <param name="learningRate">Step size α (finite).</param>
    /// <param name="decay">Decay ρ of the squared-gradient average, in [0, 1).</param>
    /// <param name="eps">ε (≥ 0).</param>
    /// <param name="epsInSqrt">false (default): g/(√ν+ε), this project's formula; true: g/√(ν+ε), optax's rule.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is outside its range.</exception>
    public RmsProp(double learningRate, double decay = 0.9, double eps = 1e-8, bool epsInSqrt = false)
    {
        if (!double.IsFinite(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite.");
        if (!(decay >= 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "decay must be in [0, 1).");
        if (!(eps >= 0 && double.IsFinite(eps))) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be finite and ≥ 0.");
        LearningRate = learningRate;
        Decay = decay;
        Eps = eps;
        EpsInSqrt = epsInSqrt;
        Name = $"rmsprop(lr={Kernels.Format(LearningRate)})";
    }

    /// <summary>Step size α.</summary>
    public double LearningRate { get; }

    /// <summary>Decay ρ of the squared-gradient average.</summary>
    public double Decay { get; }

    /// <summary>ε.</summary>
    public double Eps { get; }

    /// <summary>Whether ε is added inside the square root (optax's default) or outside.</summary>
    public bool EpsInSqrt { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates the state: buffer <c>nu</c> [P], zero; count 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    public OptimizerState Init(int paramCount)
    {
        Kernels.CheckParamCount(paramCount);
        return new OptimizerState(paramCount, ["nu"], [new float[paramCount]]);
    }

    /// <summary>
    /// Advances ν with gradient <paramref name="grads"/> [P] and writes Δθ [P] into
    /// <paramref name="updates"/>, which may alias <paramref name="grads"/>. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length differs from the state's parameter count, or the state is not an RMSProp state.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        Kernels.CheckUpdate(Name, grads, state, updates, bufferCount: 1);
        float rho = (float)Decay, c = (float)(1 - Decay), eps = (float)Eps, negLr = (float)-LearningRate;
        Span<float> nu = state.Buffers[0];
        Span<float> tmp = stackalloc float[Kernels.BlockSize];

        for (int start = 0; start < grads.Length; start += Kernels.BlockSize)
        {
            int n = Math.Min(Kernels.BlockSize, grads.Length - start);
            var g = grads.Slice(start, n);
            var v = nu.Slice(start, n);
            var u = updates.Slice(start, n);
            var s = tmp[..n];
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
        state.Count++;
    }
}
