namespace Optim4RL.Agents;

/// <summary>
/// The tanh-squashed Gaussian policy of Brax (<c>NormalTanhDistribution</c>; docs/algorithms.md, "PPO"), per action
/// dimension. The policy network emits 2·A values per observation: loc (first A) and a raw scale
/// (last A), with scale = softplus(raw) + <see cref="MinStd"/>. A raw action u ~ N(loc, scale²) is
/// squashed to the environment's action a = tanh(u) ∈ (−1, 1).
/// </summary>
/// <remarks>
/// <para>log π(a) is computed on the raw action u with the change-of-variables correction:
/// log N(u; loc, scale) − log|da/du|, log|da/du| = log(1 − tanh²u) = 2(log 2 − u − softplus(−2u))
/// (<see cref="LogDetJacobian"/>, the stable form Brax's <c>TanhBijector</c> uses).</para>
/// <para>Entropy, as Brax estimates it: the Gaussian's entropy plus the log-Jacobian at one
/// reparameterised sample z = loc + scale·ε, ε ~ N(0, 1) (<see cref="EntropyEstimate"/>), summed
/// over action dimensions. Its gradient flows through loc and scale (via z).</para>
/// <para>The mode (deterministic action) is tanh(loc).</para>
/// </remarks>
internal static class TanhNormal
{
    /// <summary>The minimum standard deviation added to softplus(raw) (Brax <c>min_std</c>).</summary>
    public const double MinStd = 0.001;

    /// <summary>½·log(2π).</summary>
    public static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    private static readonly double Ln2 = Math.Log(2.0);

    /// <summary>softplus(x) = log(1 + eˣ), computed stably.</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + double.LogP1(Math.Exp(-Math.Abs(x)));

    /// <summary>σ(x) = 1 / (1 + e^−x), the derivative of softplus.</summary>
    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>scale = softplus(raw) + <see cref="MinStd"/>.</summary>
    public static double Scale(double rawScale) => Softplus(rawScale) + MinStd;

    /// <summary>log|d tanh(u)/du| = 2(log 2 − u − softplus(−2u)).</summary>
    public static double LogDetJacobian(double u) => 2 * (Ln2 - u - Softplus(-2 * u));

    /// <summary>log π of the squashed action tanh(u) for one dimension: log N(u; loc, scale) − log|d tanh(u)/du|.</summary>
    public static double LogProb(double u, double loc, double scale)
    {
        double z = (u - loc) / scale;
        return -0.5 * z * z - Math.Log(scale) - HalfLog2Pi - LogDetJacobian(u);
    }

    /// <summary>Brax's per-dimension entropy estimate: ½ + ½log 2π + log scale + log|d tanh/du| at z = loc + scale·ε.</summary>
    public static double EntropyEstimate(double loc, double scale, double noise) =>
        0.5 + HalfLog2Pi + Math.Log(scale) + LogDetJacobian(loc + scale * noise);

    /// <summary>
    /// Samples every dimension of one observation's policy: u = loc + scale·ε with ε from
    /// <paramref name="rng"/>, writes tanh(u) to <paramref name="actions"/> and u to
    /// <paramref name="rawActions"/>, and returns log π summed over dimensions.
    /// </summary>
    /// <param name="output">The policy network's 2·A outputs (loc, then raw scale).</param>
    /// <param name="rng">Noise stream (A standard normals are drawn, in dimension order).</param>
    /// <param name="actions">Receives A squashed actions.</param>
    /// <param name="rawActions">Receives A raw (pre-tanh) actions.</param>
    public static double Sample<T>(ReadOnlySpan<T> output, ref Tensors.Rng rng, Span<float> actions, Span<float> rawActions)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int a = actions.Length;
        double logp = 0;
        for (int i = 0; i < a; i++)
        {
            double loc = double.CreateChecked(output[i]);
            double scale = Scale(double.CreateChecked(output[a + i]));
            // Round the raw action to float first, so log π is that of the stored value.
            float u = (float)(loc + scale * rng.NextNormal());
            rawActions[i] = u;
            actions[i] = MathF.Tanh(u);
            logp += LogProb(u, loc, scale);
        }
        return logp;
    }

    /// <summary>Writes the mode tanh(loc) of every dimension of one observation's policy.</summary>
    public static void Mode<T>(ReadOnlySpan<T> output, Span<float> actions)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        for (int i = 0; i < actions.Length; i++) actions[i] = (float)Math.Tanh(double.CreateChecked(output[i]));
    }
}
