namespace Optim4RL.Optimizers;

/// <summary>
/// An optax-style transformation without buffers (<see cref="Sgd"/>, <see cref="Scale"/>, <see cref="ClipElementwise"/>,
/// <see cref="ClipByGlobalNorm"/>): its state holds only <see cref="OptimizerState.Count"/>, and an update maps g to u
/// coordinate-wise or by a global factor.
/// </summary>
public abstract class StatelessTransform : IOptimizer
{
    /// <summary>Sets the transform's display name, e.g. <c>clip(1)</c>.</summary>
    private protected StatelessTransform(string name) => Name = name;

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates the (buffer-less) state for <paramref name="paramCount"/> coordinates.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    public OptimizerState Init(int paramCount)
    {
        Kernels.CheckParamCount(paramCount);
        return new OptimizerState(paramCount, [], []);
    }

    /// <summary>Writes the transform of <paramref name="grads"/> (shape [P]) into <paramref name="updates"/>, which may alias it, and counts the step.</summary>
    /// <exception cref="ArgumentException">A span's length differs from the state's parameter count, or the state is not this transform's.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        Kernels.CheckUpdate(Name, grads, state, updates, bufferCount: 0);
        Apply(grads, updates);
        state.Count++;
    }

    /// <summary>u = the transform of g; both [P], possibly the same span.</summary>
    private protected abstract void Apply(ReadOnlySpan<float> grads, Span<float> updates);
}
