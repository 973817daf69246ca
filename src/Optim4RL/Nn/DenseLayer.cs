using System.Numerics;
using Optim4RL.Autodiff;
using Optim4RL.Tensors;

namespace Optim4RL.Nn;

/// <summary>
/// A Dense layer's place in a <see cref="ParameterLayout"/>: kernel [in, out] (LeCun init) and
/// bias [out] (zeros), named <c>{name}/kernel</c> and <c>{name}/bias</c>.
/// </summary>
public sealed class DenseLayer
{
    /// <summary>Reserves the layer's kernel and bias in <paramref name="layout"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public DenseLayer(ParameterLayout layout, string name, int inputSize, int outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        Name = name;
        InputSize = inputSize;
        OutputSize = outputSize;
        KernelOffset = layout.Add(name + "/kernel", inputSize, outputSize);
        BiasOffset = layout.Add(name + "/bias", outputSize);
    }

    /// <summary>The layer's name prefix.</summary>
    public string Name { get; }

    /// <summary>Fan-in.</summary>
    public int InputSize { get; }

    /// <summary>Number of outputs.</summary>
    public int OutputSize { get; }

    /// <summary>Offset of the kernel [in, out] in the layout.</summary>
    public int KernelOffset { get; }

    /// <summary>Offset of the bias [out] in the layout.</summary>
    public int BiasOffset { get; }

    /// <summary>Initialises the kernel (fan-in = <see cref="InputSize"/>) and zeroes the bias in θ (the layout's whole vector).</summary>
    public void InitParams<T>(Span<T> theta, ref Rng rng, KernelInit init = KernelInit.LeCunNormal) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> k = theta.Slice(KernelOffset, InputSize * OutputSize);
        if (init == KernelInit.LeCunNormal) Init.LeCunNormal(k, InputSize, ref rng);
        else Init.LeCunUniform(k, InputSize, ref rng);
        theta.Slice(BiasOffset, OutputSize).Clear();
    }

    /// <summary>
    /// Adds x [N, in] → [N, out] to the graph, with parameters viewed in θ and its gradient at
    /// <paramref name="offset"/> (where the layout's vector starts).
    /// </summary>
    public Node<T> Build<T>(Graph<T> g, Node<T> x, T[] theta, T[] grad, int offset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Node<T> w = g.Parameter(theta, grad, offset + KernelOffset, InputSize, OutputSize);
        Node<T> b = g.Parameter(theta, grad, offset + BiasOffset, OutputSize);
        return g.Dense(x, w, b);
    }
}
