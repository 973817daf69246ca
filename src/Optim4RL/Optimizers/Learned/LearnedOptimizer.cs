namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// A learned optimizer with fixed meta-parameters φ, as an ordinary <see cref="IOptimizer"/>
/// (docs/algorithms.md, "Learned optimizers"): g is clipped elementwise to [−c, c] when <see cref="GradClip"/> c &gt; 0, then
/// Δθ = α·f(φ; h, g) through the coordinate-wise kernel, which also advances the per-coordinate
/// recurrent state. So a plain A2C agent can use a (trained or untrained) learned optimizer just
/// like Adam.
/// </summary>
/// <remarks>
/// State buffers: <c>state</c> [StateSize·P] (the kernel's [StateSize, P] structure-of-arrays,
/// zero at init) and <c>clipped_grad</c> [P] (the clipped copy of the last gradient, written only
/// when clipping is on). <see cref="Update"/> allocates nothing.
/// </remarks>
public sealed class LearnedOptimizer : IOptimizer
{
    private readonly float[] _phi;

    /// <summary>Wraps <paramref name="kernel"/> with a private copy of <paramref name="metaParams"/>.</summary>
    /// <param name="kernel">The coordinate-wise learned optimizer.</param>
    /// <param name="metaParams">φ, length <c>kernel.Layout.Count</c>; copied.</param>
    /// <param name="learningRate">α, multiplying the kernel's output.</param>
    /// <param name="gradClip">Elementwise gradient clip c; ≤ 0 disables clipping.</param>
    /// <exception cref="ArgumentNullException"><paramref name="kernel"/> or <paramref name="metaParams"/> is null.</exception>
    /// <exception cref="ArgumentException">φ has the wrong length.</exception>
    public LearnedOptimizer(ILearnedOptimizer kernel, float[] metaParams, float learningRate, float gradClip = 0f)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(metaParams);
        if (metaParams.Length != kernel.Layout.Count)
            throw new ArgumentException($"{kernel.Name} needs {kernel.Layout.Count} meta-parameters, got {metaParams.Length}.", nameof(metaParams));
        Kernel = kernel;
        _phi = (float[])metaParams.Clone();
        LearningRate = learningRate;
        GradClip = gradClip;
    }

    /// <summary>
    /// A ready optimizer from a φ file or a pretrained φ, in one call: the file names its
    /// architecture and hidden size, so the kernel is built to match.
    /// </summary>
    /// <param name="pathOrPretrainedName">A φ file (<c>param.json</c> of a meta-training run), or the name of a
    /// shipped φ (<see cref="PretrainedOptimizers.Names"/>, with or without the <c>pretrained:</c> prefix).</param>
    /// <param name="learningRate">α; null takes the file's recommendation (its "meta" entry <c>learning_rate</c>).</param>
    /// <param name="gradClip">Elementwise gradient clip; null takes the file's <c>grad_clip</c> entry, or none.</param>
    /// <exception cref="FileNotFoundException">No such file or pretrained φ (the message lists the pretrained ones).</exception>
    /// <exception cref="MetaParamsFileException">The file is damaged, of an unknown architecture, or does not match it.</exception>
    /// <exception cref="ArgumentException">No α was given and the file recommends none, or α is not positive and finite.</exception>
    public static LearnedOptimizer Load(string pathOrPretrainedName, double? learningRate = null, double? gradClip = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrPretrainedName);
        var (architecture, _, meta) = MetaParamsFile.Describe(pathOrPretrainedName);
        ILearnedOptimizer kernel;
        try
        {
            kernel = LearnedOptimizers.Create(architecture);
        }
        catch (ArgumentException e)
        {
            throw new MetaParamsFileException(pathOrPretrainedName, $"'{pathOrPretrainedName}' names learned optimizer '{architecture}', which this build does not have: {e.Message}");
        }

        float[] phi = MetaParamsFile.Load(pathOrPretrainedName, kernel);
        double alpha = learningRate ?? (meta.TryGetValue("learning_rate", out string? a) && double.TryParse(a, System.Globalization.CultureInfo.InvariantCulture, out double v)
            ? v
            : throw new ArgumentException($"'{pathOrPretrainedName}' recommends no learning rate; pass learningRate (α).", nameof(learningRate)));
        if (!(alpha > 0) || !double.IsFinite(alpha)) throw new ArgumentException($"The learning rate α must be positive and finite; got {alpha}.", nameof(learningRate));
        double clip = gradClip ?? (meta.TryGetValue("grad_clip", out string? c) && double.TryParse(c, System.Globalization.CultureInfo.InvariantCulture, out double cv) ? cv : 0);
        return new LearnedOptimizer(kernel, phi, (float)alpha, (float)clip);
    }

    /// <summary>The kernel's architecture name, e.g. <c>Optim4RL</c>.</summary>
    public string Name => Kernel.Name;

    /// <summary>The coordinate-wise kernel.</summary>
    public ILearnedOptimizer Kernel { get; }

    /// <summary>The fixed meta-parameters φ (length <c>Kernel.Layout.Count</c>).</summary>
    public ReadOnlySpan<float> MetaParams => _phi;

    /// <summary>α.</summary>
    public float LearningRate { get; }

    /// <summary>The elementwise gradient clip c (≤ 0: none).</summary>
    public float GradClip { get; }

    /// <summary>Zero recurrent state <c>state</c> [StateSize·P] and a <c>clipped_grad</c> [P] buffer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    public OptimizerState Init(int paramCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(paramCount);
        return new OptimizerState(paramCount, ["state", "clipped_grad"],
            [new float[(long)Kernel.StateSize * paramCount], new float[paramCount]]);
    }

    /// <summary>
    /// Clips g (when <see cref="GradClip"/> &gt; 0) into the state's <c>clipped_grad</c>, runs one
    /// kernel step writing Δθ to <paramref name="updates"/> (which may alias
    /// <paramref name="grads"/>), and increments the state's count.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ from the state's parameter count, or the state was not made by <see cref="Init"/>.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        ArgumentNullException.ThrowIfNull(state);
        int p = state.ParamCount;
        if (grads.Length != p || updates.Length != p)
            throw new ArgumentException($"grads and updates must have {p} elements, got {grads.Length} and {updates.Length}.");
        if (state.Buffers.Length != 2 || state.Names[0] != "state" || state.Names[1] != "clipped_grad"
            || state.Buffers[0].Length != (long)Kernel.StateSize * p || state.Buffers[1].Length != p)
            throw new ArgumentException("The optimizer state was not created by this optimizer's Init.", nameof(state));

        ReadOnlySpan<float> g = grads;
        float c = GradClip;
        if (c > 0f)
        {
            float[] clipped = state.Buffers[1];
            ClipElementwise.Into(grads, clipped, c);
            g = clipped;
        }
        Kernel.Step(_phi, state.Buffers[0], g, updates, LearningRate);
        state.Count++;
    }
}
