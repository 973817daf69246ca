namespace Optim4RL.Optimizers;

/// <summary>
/// optax-style aliases for the hand-designed optimizers (docs/algorithms.md) and the reference's
/// config-driven construction (<c>set_optim</c> in sail-sg/optim4rl <c>components/optim.py</c>).
/// </summary>
/// <example><c>Optax.Chain(Optax.Clip(1), Optax.Adam(1e-3))</c>, or <c>Optax.FromConfig("Adam", 1e-3, gradClip: 1)</c>.</example>
public static class Optax
{
    /// <summary>The names <see cref="FromConfig"/> accepts (matched case-insensitively).</summary>
    public static IReadOnlyList<string> Names { get; } = ["SGD", "Adam", "RMSProp", "Lion"];

    /// <summary>Adam with bias correction, β1 0.9, β2 0.999, ε 1e−8 (optax <c>adam</c>); see <see cref="Optim4RL.Optimizers.Adam"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite.</exception>
    public static Adam Adam(double learningRate) => new(learningRate);

    /// <summary>RMSProp, decay 0.9, ε 1e−8, Δθ = −α·g/(√ν + ε); see <see cref="Optim4RL.Optimizers.RmsProp"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite.</exception>
    public static RmsProp RmsProp(double learningRate) => new(learningRate);

    /// <summary>Plain SGD, Δθ = −α·g (optax <c>sgd</c>); see <see cref="Optim4RL.Optimizers.Sgd"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite.</exception>
    public static Sgd Sgd(double learningRate) => new(learningRate);

    /// <summary>Lion, β1 0.9, β2 0.99, no weight decay (optax <c>lion</c> with weight_decay 0); see <see cref="Optim4RL.Optimizers.Lion"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite.</exception>
    public static Lion Lion(double learningRate) => new(learningRate);

    /// <summary>Element-wise clip to [−c, c] (optax <c>clip</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDelta"/> is not finite and &gt; 0.</exception>
    public static ClipElementwise Clip(double maxDelta) => new(maxDelta);

    /// <summary>Global-norm clip at c (optax <c>clip_by_global_norm</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and &gt; 0.</exception>
    public static ClipByGlobalNorm ClipByGlobalNorm(double maxNorm) => new(maxNorm);

    /// <summary>Composition, first transform applied first (optax <c>chain</c>).</summary>
    /// <exception cref="ArgumentException">No transforms, or a null one.</exception>
    public static Chain Chain(params IOptimizer[] transforms) => new(transforms);

    /// <summary>
    /// Builds an optimizer from a config entry the way the reference's <c>set_optim</c> does:
    /// <c>chain(clip(grad_clip), opt)</c> when <paramref name="gradClip"/> &gt; 0,
    /// <c>chain(clip_by_global_norm(grad_norm), opt)</c> when <paramref name="gradNorm"/> &gt; 0,
    /// else <c>opt</c> alone, with opt = <paramref name="name"/>(<paramref name="learningRate"/>)
    /// and that optimizer's default hyper-parameters.
    /// </summary>
    /// <param name="name">One of <see cref="Names"/>, any letter case (e.g. <c>RMSProp</c>, <c>adam</c>).</param>
    /// <param name="learningRate">Step size α.</param>
    /// <param name="gradClip">Element-wise clip bound; ≤ 0 means none (the reference's −1 default).</param>
    /// <param name="gradNorm">Global-norm bound; ≤ 0 means none (the reference's −1 default).</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="name"/> is unknown (the message lists the valid names), or both
    /// <paramref name="gradClip"/> and <paramref name="gradNorm"/> are &gt; 0 (the reference would
    /// silently ignore grad_norm; here the config must choose one).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A numeric argument is out of range (e.g. non-finite).</exception>
    public static IOptimizer FromConfig(string name, double learningRate, double gradClip = -1, double gradNorm = -1)
    {
        ArgumentNullException.ThrowIfNull(name);
        IOptimizer opt = name.Trim().ToLowerInvariant() switch
        {
            "sgd" => Sgd(learningRate),
            "adam" => Adam(learningRate),
            "rmsprop" => RmsProp(learningRate),
            "lion" => Lion(learningRate),
            _ => throw new ArgumentException($"Unknown optimizer '{name}'. Valid: {string.Join(", ", Names)}", nameof(name)),
        };
        if (gradClip > 0 && gradNorm > 0)
            throw new ArgumentException($"Optimizer '{name}': grad_clip ({gradClip}) and grad_norm ({gradNorm}) are both set; set one of them to -1.", nameof(gradNorm));
        if (gradClip > 0) return Chain(Clip(gradClip), opt);
        if (gradNorm > 0) return Chain(ClipByGlobalNorm(gradNorm), opt);
        return opt;
    }
}
