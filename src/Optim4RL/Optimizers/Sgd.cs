namespace Optim4RL.Optimizers;

/// <summary>
/// Stochastic gradient descent without momentum: Δθ = −α·g (docs/algorithms.md; optax <c>sgd(learning_rate)</c>,
/// i.e. <c>scale_by_learning_rate</c> = <c>scale(−α)</c>, which it is here).
/// </summary>
/// <remarks>The state has no buffers; only <see cref="OptimizerState.Count"/> advances.</remarks>
public sealed class Sgd : Scale
{
    /// <summary>Creates SGD with step size <paramref name="learningRate"/> (α).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite.</exception>
    public Sgd(double learningRate)
        : base($"sgd(lr={Kernels.Format(Kernels.Checked(learningRate, double.IsFinite(learningRate), nameof(learningRate), "The learning rate must be finite."))})", -learningRate) =>
        LearningRate = learningRate;

    /// <summary>The step size α.</summary>
    public double LearningRate { get; }
}
