using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Optimizers;

/// <summary>
/// optax-style aliases for the hand-designed optimizers (docs/algorithms.md) and the one config-driven
/// factory of every optimizer, hand-designed or learned (<see cref="FromConfig"/>; the reference's
/// <c>set_optim</c> in sail-sg/optim4rl <c>components/optim.py</c>).
/// </summary>
/// <example><c>Optax.Chain(Optax.Clip(1), Optax.Adam(1e-3))</c>, or <c>Optax.FromConfig("Adam", 1e-3, gradClip: 1)</c>.</example>
public static class Optax
{
    /// <summary>The hand-designed optimizers' names <see cref="FromConfig"/> accepts (matched case-insensitively); it also accepts <see cref="LearnedOptimizers.Names"/>.</summary>
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
    /// Builds the optimizer a config entry names, hand-designed or learned alike, the way the reference's
    /// <c>set_optim</c> does: <c>chain(clip(grad_clip), opt)</c> when <paramref name="gradClip"/> &gt; 0,
    /// <c>chain(clip_by_global_norm(grad_norm), opt)</c> when <paramref name="gradNorm"/> &gt; 0, else <c>opt</c>
    /// alone. opt is <paramref name="name"/>(<paramref name="learningRate"/>) with that optimizer's default
    /// hyper-parameters, or for a learned optimizer (<see cref="LearnedOptimizers.Names"/>) a
    /// <see cref="LearnedOptimizer"/> of step scale α with φ read from <paramref name="paramLoadPath"/>; the
    /// clip in front of it is the same <see cref="GradientClip"/> transform.
    /// </summary>
    /// <param name="name">One of <see cref="Names"/> or <see cref="LearnedOptimizers.Names"/>, any letter case (e.g. <c>RMSProp</c>, <c>adam</c>, <c>optim4rl</c>).</param>
    /// <param name="learningRate">Step size α.</param>
    /// <param name="gradClip">Element-wise clip bound; ≤ 0 means none (the reference's −1 default).</param>
    /// <param name="gradNorm">Global-norm bound; ≤ 0 means none (the reference's −1 default).</param>
    /// <param name="paramLoadPath">A learned optimizer's φ: a <c>param.json</c> of a meta-training run, or a shipped
    /// φ (<see cref="PretrainedOptimizers.Names"/>); ignored for hand-designed optimizers.</param>
    /// <param name="threads">The most threads a learned optimizer's kernel uses per update (null: all cores).</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="name"/> is unknown (the message lists the valid names), a learned optimizer has no
    /// <paramref name="paramLoadPath"/>, or both <paramref name="gradClip"/> and <paramref name="gradNorm"/> are
    /// &gt; 0 (the reference would silently ignore grad_norm; here the config must choose one).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A numeric argument is out of range (e.g. non-finite).</exception>
    /// <exception cref="FileNotFoundException">No φ file at <paramref name="paramLoadPath"/>.</exception>
    /// <exception cref="MetaParamsFileException">The φ file is damaged or of another architecture.</exception>
    public static IOptimizer FromConfig(string name, double learningRate, double gradClip = -1, double gradNorm = -1,
        string? paramLoadPath = null, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        IOptimizer opt = IsLearned(name) ? Learned(name, learningRate, paramLoadPath, threads) : HandDesigned(name, learningRate);
        if (gradClip > 0 && gradNorm > 0)
            throw new ArgumentException($"Optimizer '{name}': grad_clip ({gradClip}) and grad_norm ({gradNorm}) are both set; set one of them to -1.", nameof(gradNorm));
        if (gradClip > 0) return Chain(Clip(gradClip), opt);
        if (gradNorm > 0) return Chain(ClipByGlobalNorm(gradNorm), opt);
        return opt;
    }

    /// <summary>Whether <paramref name="name"/> names a learned optimizer (<see cref="LearnedOptimizers.Names"/>, any letter case).</summary>
    public static bool IsLearned(string name) => LearnedOptimizers.Names.Contains(name, StringComparer.OrdinalIgnoreCase);

    private static IOptimizer HandDesigned(string name, double learningRate) => name.Trim().ToLowerInvariant() switch
    {
        "sgd" => Sgd(learningRate),
        "adam" => Adam(learningRate),
        "rmsprop" => RmsProp(learningRate),
        "lion" => Lion(learningRate),
        _ => throw new ArgumentException(
            $"Unknown optimizer '{name}'. Valid: {string.Join(", ", Names)} (hand-designed), {string.Join(", ", LearnedOptimizers.Names)} (learned)", nameof(name)),
    };

    private static LearnedOptimizer Learned(string name, double learningRate, string? paramLoadPath, int? threads)
    {
        if (string.IsNullOrWhiteSpace(paramLoadPath))
            throw new ArgumentException($"Optimizer '{name}' is a learned optimizer: give the φ file it runs with (paramLoadPath).", nameof(paramLoadPath));
        var kernel = LearnedOptimizers.Create(name);
        kernel.MaxDegreeOfParallelism = threads;
        return new LearnedOptimizer(kernel, MetaParamsFile.Load(paramLoadPath, kernel), (float)learningRate);
    }
}
