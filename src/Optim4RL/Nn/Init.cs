using System.Numerics;
using Optim4RL.Tensors;

namespace Optim4RL.Nn;

/// <summary>Weight initialisers (flax/JAX semantics).</summary>
public static class Init
{
    /// <summary>
    /// The standard deviation of a standard normal truncated to [−2, 2]; flax divides by it so the
    /// truncated draw has the intended variance.
    /// </summary>
    public const double TruncatedNormalStd = 0.87962566103423978;

    /// <summary>
    /// flax's <c>lecun_normal</c>: variance_scaling(1, "fan_in", "truncated_normal"), i.e. each
    /// weight = z · sqrt(1/fanIn) / 0.8796…, z a standard normal truncated to [−2, 2]
    /// (<see cref="Rng.NextTruncatedNormal"/>). Draws in span order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fanIn"/> is not positive.</exception>
    public static void LeCunNormal<T>(Span<T> w, int fanIn, ref Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanIn);
        double std = Math.Sqrt(1.0 / fanIn) / TruncatedNormalStd;
        for (int i = 0; i < w.Length; i++) w[i] = T.CreateChecked(rng.NextTruncatedNormal() * std);
    }

    /// <summary>
    /// JAX's <c>lecun_uniform</c> (Brax's MLP default): U(−sqrt(3/fanIn), sqrt(3/fanIn)). Draws in span order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fanIn"/> is not positive.</exception>
    public static void LeCunUniform<T>(Span<T> w, int fanIn, ref Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanIn);
        double limit = Math.Sqrt(3.0 / fanIn);
        for (int i = 0; i < w.Length; i++) w[i] = T.CreateChecked((2.0 * rng.NextDouble() - 1.0) * limit);
    }
}

/// <summary>Kernel initialiser choice for <see cref="Mlp"/>.</summary>
public enum KernelInit
{
    /// <summary>flax <c>lecun_normal</c> (truncated normal), see <see cref="Init.LeCunNormal{T}"/>.</summary>
    LeCunNormal,

    /// <summary>JAX <c>lecun_uniform</c>, see <see cref="Init.LeCunUniform{T}"/>.</summary>
    LeCunUniform,
}

/// <summary>Hidden-layer activation functions.</summary>
public enum Activation
{
    /// <summary>max(x, 0).</summary>
    Relu,

    /// <summary>x·σ(x) (swish), Brax's default.</summary>
    Silu,

    /// <summary>tanh(x).</summary>
    Tanh,
}
