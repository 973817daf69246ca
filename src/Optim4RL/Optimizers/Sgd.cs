using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// Stochastic gradient descent without momentum: Δθ = −α·g (docs/algorithms.md; optax <c>sgd(learning_rate)</c>,
/// i.e. <c>scale_by_learning_rate</c> = <c>scale(−α)</c>).
/// </summary>
/// <remarks>The state has no buffers; only <see cref="OptimizerState.Count"/> advances.</remarks>
public sealed class Sgd : IOptimizer
{
    /// <summary>Creates SGD with step size <paramref name="learningRate"/> (α).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite.</exception>
    public Sgd(double learningRate)
    {
        if (!double.IsFinite(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite.");
        LearningRate = learningRate;
        Name = $"sgd(lr={Kernels.Format(LearningRate)})";
    }

    /// <summary>The step size α.</summary>
    public double LearningRate { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates the (buffer-less) state for <paramref name="paramCount"/> coordinates.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramCount"/> is negative.</exception>
    public OptimizerState Init(int paramCount)
    {
        Kernels.CheckParamCount(paramCount);
        return new OptimizerState(paramCount, [], []);
    }

    /// <summary>Writes Δθ = −α·g (shape [P]) into <paramref name="updates"/>, which may alias <paramref name="grads"/>.</summary>
    /// <exception cref="ArgumentException">A span's length differs from the state's parameter count, or the state is not an SGD state.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        Kernels.CheckUpdate(Name, grads, state, updates, bufferCount: 0);
        TP.Multiply(grads, (float)-LearningRate, updates);
        state.Count++;
    }
}
