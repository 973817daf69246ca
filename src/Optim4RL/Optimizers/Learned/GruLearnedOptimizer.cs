using Optim4RL.Tensors;

namespace Optim4RL.Optimizers.Learned;

/// <summary>The width- and head-independent surface of <see cref="GruCellKernel{THead}"/>, so the public optimizers share one body.</summary>
internal interface IGruCellKernel
{
    MetaParamLayout Layout { get; }

    int MaxDegreeOfParallelism { get; set; }

    int VectorWidthOverride { get; set; }

    int VectorWidth { get; }

    void InitMetaParams(ref Rng rng, Span<float> phi);

    void Step(ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads, Span<float> updates, float learningRate);

    void MetaGradient(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad);
}

/// <summary>
/// A learned optimizer made of one coordinate-wise GRU cell (flax convention, hidden size 8) and a
/// dense head, run by the fused SIMD kernel <see cref="GruCellKernel{THead}"/> (fixed chunks under
/// Parallel.For, rational tanh/σ, K-step recompute and reverse sweep for the meta-gradient,
/// chunk-ordered reduction: bitwise identical results for any thread count). The subclasses
/// (<see cref="LinearOptimOptimizer"/>, <see cref="L2LGD2Optimizer"/>) differ only in the cell's input and the head.
/// One instance may be used by one thread at a time (it is internally parallel).
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

    /// <summary>Test knob: the maximum number of threads (−1: the default scheduler); results are identical for every value.</summary>
    internal int MaxDegreeOfParallelism { get => _kernel.MaxDegreeOfParallelism; set => _kernel.MaxDegreeOfParallelism = value; }

    /// <summary>Test knob: force a SIMD width of 16, 8 or 4 lanes (0: the widest accelerated one).</summary>
    internal int VectorWidthOverride { get => _kernel.VectorWidthOverride; set => _kernel.VectorWidthOverride = value; }

    /// <summary>The SIMD width (lanes) in use.</summary>
    internal int VectorWidth => _kernel.VectorWidth;

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
        _kernel.Step(phi, state, grads, updates, learningRate);

    /// <summary>Accumulates Σₖ (∂Δₖ/∂φ)ᵀ λ over K = <paramref name="steps"/> steps; see <see cref="ILearnedOptimizer.MetaGradient"/>.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or <paramref name="steps"/> is negative.</exception>
    public void MetaGradient(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad) =>
        _kernel.MetaGradient(phi, state0, grads, steps, adjoint, learningRate, metaGrad);
}
