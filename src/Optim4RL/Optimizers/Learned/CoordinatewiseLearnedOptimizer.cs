namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// A learned optimizer that treats every coordinate on its own (a recurrent cell per coordinate:
/// <see cref="Optim4RLOptimizer"/>, <see cref="LinearOptimOptimizer"/>, <see cref="L2LGD2Optimizer"/>), run by
/// <see cref="LearnedKernelDriver"/>: agent-aligned chunks under Parallel.For, rational tanh/σ, K-step recompute
/// and reverse sweep for the meta-gradient, chunk-ordered reductions (bitwise identical results for any thread
/// count), float32 or bfloat16 states, meta-training's fused inner update and per-chunk partial sums.
/// </summary>
/// <remarks>
/// It lists <see cref="ILearnedOptimizer"/> again so that its own <see cref="Supports"/>, <see cref="UpdateGrouped"/>,
/// <see cref="HasChunkPartials"/> and <see cref="MetaGradientPartials"/> replace the interface's defaults.
/// </remarks>
public abstract class CoordinatewiseLearnedOptimizer : LearnedOptimizerBase, ILearnedOptimizer
{
    private readonly ICoordinatewiseDriver _driver;

    private protected CoordinatewiseLearnedOptimizer(ICoordinatewiseDriver driver) => _driver = driver;

    /// <summary>Float32 and bfloat16 states are both supported.</summary>
    public bool Supports(StateDtype dtype) => dtype is StateDtype.Float32 or StateDtype.BFloat16;

    /// <inheritdoc />
    public override void StepGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates, float learningRate,
        int groupSize) =>
        _driver.Step(Execution, phi, from, to, grads, updates, learningRate, groupSize);

    /// <inheritdoc />
    public void UpdateGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, float gradClip, Span<float> clippedGrads,
        Span<float> theta, float learningRate, int groupSize) =>
        _driver.Update(Execution, phi, from, to, grads, gradClip, clippedGrads, theta, learningRate, groupSize);

    /// <inheritdoc />
    public override void MetaGradientGrouped(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize) =>
        _driver.MetaGradient(Execution, phi, state0, grads, steps, adjoint, learningRate, metaGrad, groupSize);

    /// <inheritdoc />
    public bool HasChunkPartials => true;

    /// <inheritdoc />
    public void MetaGradientPartials(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<double> partials, int groupSize) =>
        _driver.MetaGradientPartials(Execution, phi, state0, grads, steps, adjoint, learningRate, partials, groupSize);
}
