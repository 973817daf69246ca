namespace Optim4RL.Optimizers;

/// <summary>
/// A hand-designed optimizer that keeps moment buffers per coordinate (<see cref="Adam"/>, <see cref="RmsProp"/>,
/// <see cref="Lion"/>): a finite step size α, named buffers [P] that are zero at init, and an update that checks
/// the state, takes the optimizer's step and counts it (optax's <c>count</c>).
/// </summary>
public abstract class MomentOptimizer : IOptimizer
{
    private readonly string[] _buffers;

    /// <summary>Checks α and names the optimizer <c>optaxName(lr=α)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite.</exception>
    private protected MomentOptimizer(string optaxName, double learningRate, params string[] buffers)
    {
        LearningRate = Kernels.Checked(learningRate, double.IsFinite(learningRate), nameof(learningRate), "The learning rate must be finite.");
        Name = $"{optaxName}(lr={Kernels.Format(learningRate)})";
        _buffers = buffers;
    }

    /// <summary>Step size α.</summary>
    public double LearningRate { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates the state: the optimizer's buffers (e.g. <c>mu</c>, <c>nu</c>), each [P] and zero; count 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    public OptimizerState Init(int paramCount)
    {
        Kernels.CheckParamCount(paramCount);
        return new OptimizerState(paramCount, (string[])_buffers.Clone(), Array.ConvertAll(_buffers, _ => new float[paramCount]));
    }

    /// <summary>
    /// Advances the buffers with gradient <paramref name="grads"/> [P], writes Δθ [P] into <paramref name="updates"/>
    /// (which may alias <paramref name="grads"/>) and counts the step. Runs in blocks of 1024 coordinates with
    /// scratch on the stack, so it allocates nothing and each block's passes stay in L1 cache.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length differs from the state's parameter count, or the state is not this optimizer's.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        Kernels.CheckUpdate(Name, grads, state, updates, bufferCount: _buffers.Length);
        long t = state.Count + 1;
        Span<float> first = state.Buffers[0], second = _buffers.Length > 1 ? state.Buffers[1] : [];
        Span<float> scratch = stackalloc float[Kernels.BlockSize];
        for (int start = 0; start < grads.Length; start += Kernels.BlockSize)
        {
            int n = Math.Min(Kernels.BlockSize, grads.Length - start);
            ApplyBlock(grads.Slice(start, n), first.Slice(start, n), second.IsEmpty ? [] : second.Slice(start, n), updates.Slice(start, n), scratch[..n], t);
        }
        state.Count = t;
    }

    /// <summary>
    /// One block of step <paramref name="t"/> (1-based): reads <paramref name="g"/>, advances the first and second
    /// buffers' block (<paramref name="second"/> is empty for a one-buffer optimizer) and writes Δθ to <paramref name="u"/>,
    /// which may alias <paramref name="g"/>; <paramref name="scratch"/> is free space of the same length.
    /// </summary>
    private protected abstract void ApplyBlock(ReadOnlySpan<float> g, Span<float> first, Span<float> second, Span<float> u, Span<float> scratch, long t);
}
