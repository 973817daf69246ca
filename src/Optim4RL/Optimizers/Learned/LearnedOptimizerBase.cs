using Optim4RL.Tensors;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// What every learned optimizer of this library shares around <see cref="LearnedKernelDriver"/>: the thread cap
/// and SIMD width its calls read, and the convenience overloads of <see cref="ILearnedOptimizer"/> (one parameter
/// vector; a float32 state updated in place), which forward to the grouped <see cref="StateSpan"/> calls each
/// architecture implements.
/// </summary>
public abstract class LearnedOptimizerBase : ILearnedOptimizer
{
    private protected LearnedOptimizerBase()
    {
    }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract int HiddenSize { get; }

    /// <inheritdoc />
    public abstract int StateSize { get; }

    /// <inheritdoc />
    public abstract MetaParamLayout Layout { get; }

    /// <inheritdoc />
    public int? MaxDegreeOfParallelism { get => Execution.MaxDegreeOfParallelism; set => Execution.MaxDegreeOfParallelism = value; }

    /// <summary>The thread cap and SIMD width every call reads at its start.</summary>
    internal KernelExecution Execution { get; } = new();

    /// <inheritdoc />
    public abstract void InitMetaParams(ref Rng rng, Span<float> phi);

    /// <summary>One step over N = <c>grads.Length</c> coordinates taken as one parameter vector; <paramref name="updates"/> may alias <paramref name="grads"/>.</summary>
    /// <param name="phi">φ, length <c>Layout.Count</c>.</param>
    /// <param name="state">Recurrent state [StateSize, N], updated in place.</param>
    /// <param name="grads">Gradients [N], already clipped by the caller.</param>
    /// <param name="updates">Receives Δθ [N].</param>
    /// <param name="learningRate">α.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Step(ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads, Span<float> updates, float learningRate) =>
        StepGrouped(phi, state, grads, updates, learningRate, Math.Max(grads.Length, 1));

    /// <summary>As <see cref="Step"/>, with N / <paramref name="groupSize"/> parameter vectors; see <see cref="ILearnedOptimizer.StepGrouped(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, Span{float}, float, int)"/>.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or N is not a multiple of a positive <paramref name="groupSize"/>.</exception>
    public void StepGrouped(ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads, Span<float> updates, float learningRate, int groupSize) =>
        StepGrouped(phi, new StateSpan(state), new StateSpan(state), grads, updates, learningRate, groupSize);

    /// <inheritdoc />
    public abstract void StepGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates, float learningRate,
        int groupSize);

    /// <summary>Accumulates Σₖ (∂Δₖ/∂φ)ᵀ λ over K = <paramref name="steps"/> steps with all N coordinates taken as one parameter vector; see <see cref="ILearnedOptimizer.MetaGradient"/>.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or <paramref name="steps"/> is negative.</exception>
    public void MetaGradient(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad) =>
        MetaGradientGrouped(phi, state0, grads, steps, adjoint, learningRate, metaGrad, Math.Max(adjoint.Length, 1));

    /// <summary>As <see cref="MetaGradient"/>, with N / <paramref name="groupSize"/> parameter vectors; see <see cref="ILearnedOptimizer.MetaGradientGrouped(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, int, ReadOnlySpan{float}, float, Span{float}, int)"/>.</summary>
    /// <exception cref="ArgumentException">As <see cref="MetaGradient"/>, or N is not a multiple of a positive <paramref name="groupSize"/>.</exception>
    public void MetaGradientGrouped(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize) =>
        MetaGradientGrouped(phi, StateSpan.ReadOnly(state0), grads, steps, adjoint, learningRate, metaGrad, groupSize);

    /// <inheritdoc />
    public abstract void MetaGradientGrouped(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize);
}
