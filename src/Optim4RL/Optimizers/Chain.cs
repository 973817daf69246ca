namespace Optim4RL.Optimizers;

/// <summary>
/// Applies transforms in sequence, each to the previous one's output (optax <c>chain(*transforms)</c>):
/// <c>new Chain(new ClipElementwise(1), new Adam(1e-3))</c> clips the gradient, then takes an Adam step.
/// </summary>
/// <remarks>
/// The chain's own state has no buffers; its <see cref="OptimizerState.Children"/> are the
/// transforms' states in chain order, so <see cref="OptimizerState.Save"/>, <see cref="OptimizerState.Load"/>
/// and <see cref="OptimizerState.Clear"/> cover them all. The intermediate results are written to
/// <c>updates</c> in place, so a chain allocates nothing per step either.
/// </remarks>
public sealed class Chain : IOptimizer
{
    private readonly IOptimizer[] _transforms;

    /// <summary>Creates the chain <paramref name="transforms"/>[0] → [1] → … .</summary>
    /// <exception cref="ArgumentException">No transforms are given, or one of them is null.</exception>
    public Chain(params IOptimizer[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        if (transforms.Length == 0) throw new ArgumentException("A chain needs at least one transform.", nameof(transforms));
        foreach (var t in transforms)
        {
            if (t is null) throw new ArgumentException("A chain's transforms must not be null.", nameof(transforms));
        }
        _transforms = (IOptimizer[])transforms.Clone();
        Name = $"chain({string.Join(", ", _transforms.Select(t => t.Name))})";
    }

    /// <summary>The transforms, in the order they are applied.</summary>
    public IReadOnlyList<IOptimizer> Transforms => _transforms;

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates a buffer-less state whose children are the transforms' fresh states, in chain order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    public OptimizerState Init(int paramCount)
    {
        Kernels.CheckParamCount(paramCount);
        var children = new OptimizerState[_transforms.Length];
        for (int i = 0; i < children.Length; i++) children[i] = _transforms[i].Init(paramCount);
        return new OptimizerState(paramCount, [], [], children);
    }

    /// <summary>
    /// Runs each transform in turn: the first reads <paramref name="grads"/> [P], the others read the
    /// previous output in <paramref name="updates"/> [P] (which may alias <paramref name="grads"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A span's length differs from the state's parameter count, or the state is not this chain's state.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        Kernels.CheckUpdate(Name, grads, state, updates, bufferCount: 0, childCount: _transforms.Length);
        _transforms[0].Update(grads, state.Children[0], updates);
        for (int i = 1; i < _transforms.Length; i++) _transforms[i].Update(updates, state.Children[i], updates);
        state.Count++;
    }
}
