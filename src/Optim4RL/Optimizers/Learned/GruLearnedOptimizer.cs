using Optim4RL.Tensors;

namespace Optim4RL.Optimizers.Learned;

/// <summary>The head-independent surface of <see cref="GruCellKernel{THead}"/>, so the public optimizers share one body.</summary>
internal interface IGruCellKernel
{
    MetaParamLayout Layout { get; }

    void InitMetaParams(ref Rng rng, Span<float> phi);

    void Step(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates,
        float learningRate, int groupSize);

    void Update(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, float gradClip,
        Span<float> clippedGrads, Span<float> theta, float learningRate, int groupSize);

    void MetaGradient(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize);

    void MetaGradientPartials(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<double> partials, int groupSize);
}

/// <summary>
/// A learned optimizer made of one coordinate-wise GRU cell (flax convention, hidden size 8) and a
/// dense head, run by the fused SIMD kernel <see cref="GruCellKernel{THead}"/> through
/// <see cref="LearnedKernelDriver"/> (agent-aligned chunks under Parallel.For, rational tanh/σ,
/// K-step recompute and reverse sweep for the meta-gradient, chunk-ordered reduction: bitwise
/// identical results for any thread count). The subclasses (<see cref="LinearOptimOptimizer"/>,
/// <see cref="L2LGD2Optimizer"/>) differ only in the cell's input and the head. One instance may
/// serve several threads at once.
/// </summary>
public abstract class GruLearnedOptimizer : ILearnedOptimizer
{
    private readonly IGruCellKernel _kernel;

    private protected GruLearnedOptimizer(string name, IGruCellKernel kernel)
    {
        Name = name;
        _kernel = kernel;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int HiddenSize => 8;

    /// <summary>8 floats per coordinate: the cell's h, zero at init.</summary>
    public int StateSize => 8;

    /// <inheritdoc />
    public MetaParamLayout Layout => _kernel.Layout;

    /// <inheritdoc />
    public int? MaxDegreeOfParallelism { get => Execution.MaxDegreeOfParallelism; set => Execution.MaxDegreeOfParallelism = value; }

    /// <summary>The thread cap and SIMD width every call reads at its start.</summary>
    internal KernelExecution Execution { get; } = new();

    /// <summary>
    /// flax's initialisers: input kernels and the head kernel LeCun normal (fan_in = the cell's input size, and 8),
    /// recurrent kernels orthogonal, biases zero.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="phi"/> is not <c>Layout.Count</c> long.</exception>
    public void InitMetaParams(ref Rng rng, Span<float> phi) => _kernel.InitMetaParams(ref rng, phi);

    /// <summary>One step over N = <c>grads.Length</c> coordinates; <paramref name="updates"/> may alias <paramref name="grads"/>.</summary>
    /// <param name="phi">φ, length <c>Layout.Count</c>.</param>
    /// <param name="state">Recurrent state [8, N], updated in place.</param>
    /// <param name="grads">Gradients [N], already clipped by the caller.</param>
    /// <param name="updates">Receives Δθ [N].</param>
    /// <param name="learningRate">α.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Step(ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads, Span<float> updates, float learningRate) =>
        StepGrouped(phi, state, grads, updates, learningRate, Math.Max(grads.Length, 1));

    /// <summary>As <see cref="Step"/>, with N / <paramref name="groupSize"/> parameter vectors; see <see cref="ILearnedOptimizer.StepGrouped(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, Span{float}, float, int)"/>.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or N is not a multiple of a positive <paramref name="groupSize"/>.</exception>
    public void StepGrouped(ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads, Span<float> updates, float learningRate, int groupSize) =>
        _kernel.Step(Execution, phi, new StateSpan(state), new StateSpan(state), grads, updates, learningRate, groupSize);

    /// <summary>Float32 and bfloat16 states are both supported.</summary>
    public bool Supports(StateDtype dtype) => dtype is StateDtype.Float32 or StateDtype.BFloat16;

    /// <inheritdoc />
    public void StepGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates, float learningRate, int groupSize) =>
        _kernel.Step(Execution, phi, from, to, grads, updates, learningRate, groupSize);

    /// <inheritdoc />
    public void UpdateGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, float gradClip, Span<float> clippedGrads,
        Span<float> theta, float learningRate, int groupSize) =>
        _kernel.Update(Execution, phi, from, to, grads, gradClip, clippedGrads, theta, learningRate, groupSize);

    /// <summary>Accumulates Σₖ (∂Δₖ/∂φ)ᵀ λ over K = <paramref name="steps"/> steps; see <see cref="ILearnedOptimizer.MetaGradient"/>.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or <paramref name="steps"/> is negative.</exception>
    public void MetaGradient(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad) =>
        MetaGradientGrouped(phi, state0, grads, steps, adjoint, learningRate, metaGrad, Math.Max(adjoint.Length, 1));

    /// <summary>As <see cref="MetaGradient"/>, with N / <paramref name="groupSize"/> parameter vectors; see <see cref="ILearnedOptimizer.MetaGradientGrouped(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, int, ReadOnlySpan{float}, float, Span{float}, int)"/>.</summary>
    /// <exception cref="ArgumentException">As <see cref="MetaGradient"/>, or N is not a multiple of a positive <paramref name="groupSize"/>.</exception>
    public void MetaGradientGrouped(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize) =>
        _kernel.MetaGradient(Execution, phi, StateSpan.ReadOnly(state0), grads, steps, adjoint, learningRate, metaGrad, groupSize);

    /// <inheritdoc />
    public void MetaGradientGrouped(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize) =>
        _kernel.MetaGradient(Execution, phi, state0, grads, steps, adjoint, learningRate, metaGrad, groupSize);

    /// <inheritdoc />
    public bool HasChunkPartials => true;

    /// <inheritdoc />
    public void MetaGradientPartials(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<double> partials, int groupSize) =>
        _kernel.MetaGradientPartials(Execution, phi, state0, grads, steps, adjoint, learningRate, partials, groupSize);
}
