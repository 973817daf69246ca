using System.Numerics;
using Optim4RL.Autodiff;
using Optim4RL.Tensors;

namespace Optim4RL.Nn;

/// <summary>
/// A multi-layer perceptron x [N, in] → [N, out]: hidden Dense layers each followed by the
/// activation, then a linear output layer (activated too only with <c>activateFinal</c>), as
/// Brax's <c>networks.MLP</c>. Parameters are named <c>{name}/dense{i}/kernel|bias</c>.
/// </summary>
public sealed class Mlp
{
    private readonly DenseLayer[] layers;

    /// <summary>
    /// Creates the MLP and reserves its parameters in <paramref name="layout"/> (a fresh layout when null).
    /// Example: PPO's policy <c>new Mlp(obs, [32, 32, 32, 32], 2·act, Activation.Silu)</c>, value
    /// <c>new Mlp(obs, [64, 64, 64, 64, 64], 1, Activation.Silu)</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Mlp(int inputSize, IReadOnlyList<int> hiddenSizes, int outputSize, Activation activation,
        ParameterLayout? layout = null, string name = "mlp", KernelInit init = KernelInit.LeCunNormal, bool activateFinal = false)
    {
        Layout = layout ?? new ParameterLayout();
        InputSize = inputSize;
        OutputSize = outputSize;
        Activation = activation;
        KernelInit = init;
        ActivateFinal = activateFinal;
        int[] hidden = hiddenSizes.ToArray();
        HiddenSizes = hidden;
        layers = new DenseLayer[hidden.Length + 1];
        int fan = inputSize;
        for (int i = 0; i <= hidden.Length; i++)
        {
            int size = i < hidden.Length ? hidden[i] : outputSize;
            layers[i] = new DenseLayer(Layout, $"{name}/dense{i}", fan, size);
            fan = size;
        }
    }

    /// <summary>The layout the parameters live in (possibly shared with other modules).</summary>
    public ParameterLayout Layout { get; }

    /// <summary>Input width.</summary>
    public int InputSize { get; }

    /// <summary>Output width.</summary>
    public int OutputSize { get; }

    /// <summary>Hidden layer widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>The hidden activation.</summary>
    public Activation Activation { get; }

    /// <summary>The kernel initialiser.</summary>
    public KernelInit KernelInit { get; }

    /// <summary>Whether the output layer is activated too.</summary>
    public bool ActivateFinal { get; }

    /// <summary>The Dense layers in order (hidden…, output).</summary>
    public IReadOnlyList<DenseLayer> Layers => layers;

    /// <summary>Initialises this MLP's kernels and zeroes its biases in θ (the layout's whole vector), layer by layer.</summary>
    public void InitParams<T>(Span<T> theta, ref Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (DenseLayer l in layers) l.InitParams(theta, ref rng, KernelInit);
    }

    /// <summary>
    /// Adds the MLP to the graph: x [N, in] → [N, out], parameters viewed in θ and its gradient at
    /// <paramref name="offset"/> (where the layout's vector starts).
    /// </summary>
    /// <exception cref="ArgumentException">x is not [N, in].</exception>
    public Node<T> Build<T>(Graph<T> g, Node<T> x, T[] theta, T[] grad, int offset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Shape.Length != 2 || x.Shape[1] != InputSize)
        {
            throw new ArgumentException($"The MLP expects [N, {InputSize}]; got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        }

        Node<T> h = x;
        for (int i = 0; i < layers.Length; i++)
        {
            h = layers[i].Build(g, h, theta, grad, offset);
            if (i < layers.Length - 1 || ActivateFinal) h = Activate(g, h, Activation);
        }

        return h;
    }

    /// <summary>Applies an activation as a graph op.</summary>
    public static Node<T> Activate<T>(Graph<T> g, Node<T> x, Activation activation) where T : unmanaged, IFloatingPointIeee754<T> =>
        activation switch
        {
            Activation.Relu => g.Relu(x),
            Activation.Silu => g.Silu(x),
            Activation.Tanh => g.Tanh(x),
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
        };
}
