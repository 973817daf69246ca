using Optim4RL.Tensors;

namespace Optim4RL.Optimizers.Learned;

/// <summary>The head-independent surface of <see cref="GruCellKernel{THead}"/>, so the public optimizers share one body.</summary>
internal interface IGruCellKernel
{
    MetaParamLayout Layout { get; }

    /// <summary>The driver's entry points for this kernel's blocks.</summary>
    ICoordinatewiseDriver Driver { get; }

    void InitMetaParams(ref Rng rng, Span<float> phi);
}

/// <summary>
/// A learned optimizer made of one coordinate-wise GRU cell (flax convention, hidden size 8) and a
/// dense head, run by the fused SIMD kernel <see cref="GruCellKernel{THead}"/> through
/// <see cref="LearnedKernelDriver"/> (see <see cref="CoordinatewiseLearnedOptimizer"/>). The subclasses
/// (<see cref="LinearOptimOptimizer"/>, <see cref="L2LGD2Optimizer"/>) differ only in the cell's input and
/// the head. One instance may serve several threads at once.
/// </summary>
public abstract class GruLearnedOptimizer : CoordinatewiseLearnedOptimizer
{
    private readonly IGruCellKernel _kernel;

    private protected GruLearnedOptimizer(string name, IGruCellKernel kernel)
        : base(kernel.Driver)
    {
        Name = name;
        _kernel = kernel;
    }

    /// <inheritdoc />
    public override string Name { get; }

    /// <inheritdoc />
    public override int HiddenSize => 8;

    /// <summary>8 floats per coordinate: the cell's h, zero at init.</summary>
    public override int StateSize => 8;

    /// <inheritdoc />
    public override MetaParamLayout Layout => _kernel.Layout;

    /// <summary>
    /// flax's initialisers: input kernels and the head kernel LeCun normal (fan_in = the cell's input size, and 8),
    /// recurrent kernels orthogonal, biases zero.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="phi"/> is not <c>Layout.Count</c> long.</exception>
    public override void InitMetaParams(ref Rng rng, Span<float> phi) => _kernel.InitMetaParams(ref rng, phi);
}
