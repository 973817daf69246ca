using System.Numerics;
using Optim4RL.Autodiff;
using Optim4RL.Tensors;

namespace Optim4RL.Nn;

/// <summary>
/// The actor-critic networks of spec §3, with all parameters in one flat vector θ
/// (<see cref="Layout"/>, so <c>Layout.Count</c> is P):
/// <list type="bullet">
/// <item><c>catch</c>: flatten → Dense 256, ReLU;</item>
/// <item><c>small_*</c> gridworlds: flatten → Dense 32, ReLU;</item>
/// <item><c>big_*</c> gridworlds: Conv 16 filters 2×2, stride 1, same padding (one zero row/column
/// after: bottom, right), ReLU → flatten → Dense 32, ReLU;</item>
/// </list>
/// then an actor head Dense(|A|) (logits) and a critic head Dense(1), LeCun-normal kernels and
/// zero biases. Gridworld observations are channels-last [H, W, C] with the object maps as
/// channels, and the convolution slides over rows × columns. (The reference feeds a (C, H, W)
/// tensor to a channels-last convolution, so its kernel slides over the channel axis and the
/// rows; we do the convolution as intended, see spec §3.)
/// </summary>
/// <remarks>
/// θ layout, in order: <c>torso/conv/kernel</c> [2, 2, C, F] and <c>torso/conv/bias</c> [F] (conv
/// networks only), <c>torso/dense/kernel</c> [D, H] and <c>torso/dense/bias</c> [H],
/// <c>actor/kernel</c> [H, |A|], <c>actor/bias</c> [|A|], <c>critic/kernel</c> [H, 1],
/// <c>critic/bias</c> [1]. <see cref="InitParams{T}"/> draws the kernels in this order.
/// </remarks>
public sealed class NetworkSpec
{
    private readonly DenseLayer torso, actor, critic;

    /// <summary>
    /// A network of this family with explicit sizes (for tests and new tasks):
    /// optional 2×2 conv with <paramref name="convFilters"/> filters (0 = none; requires an
    /// [H, W, C] observation), then flatten → Dense <paramref name="hiddenSize"/>, ReLU, then the heads.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive, or a conv is asked for with an observation not of rank 3.</exception>
    public NetworkSpec(IReadOnlyList<int> observationShape, int actionCount, int hiddenSize, int convFilters = 0)
    {
        ArgumentNullException.ThrowIfNull(observationShape);
        if (observationShape.Count == 0 || observationShape.Any(d => d <= 0))
        {
            throw new ArgumentException($"Observation shape {Tensor.ShapeString(observationShape.ToArray())} must have positive dimensions.", nameof(observationShape));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(actionCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegative(convFilters);
        if (convFilters > 0 && observationShape.Count != 3)
        {
            throw new ArgumentException($"A conv torso needs a channels-last [H, W, C] observation; got {Tensor.ShapeString(observationShape.ToArray())}.", nameof(observationShape));
        }

        int[] obsShape = observationShape.ToArray();
        ObservationShape = obsShape;
        ActionCount = actionCount;
        HiddenSize = hiddenSize;
        ConvFilters = convFilters;
        Layout = new ParameterLayout();
        int flat = Tensor.ElementCount(obsShape);
        if (convFilters > 0)
        {
            int c = ObservationShape[2];
            ConvKernelOffset = Layout.Add("torso/conv/kernel", 2, 2, c, convFilters);
            ConvBiasOffset = Layout.Add("torso/conv/bias", convFilters);
            flat = ObservationShape[0] * ObservationShape[1] * convFilters;
        }

        torso = new DenseLayer(Layout, "torso/dense", flat, hiddenSize);
        actor = new DenseLayer(Layout, "actor", hiddenSize, actionCount);
        critic = new DenseLayer(Layout, "critic", hiddenSize, 1);
    }

    /// <summary>The shape of one observation (without the batch axis).</summary>
    public IReadOnlyList<int> ObservationShape { get; }

    /// <summary>Number of discrete actions |A| (logits per observation).</summary>
    public int ActionCount { get; }

    /// <summary>Width of the torso's Dense layer.</summary>
    public int HiddenSize { get; }

    /// <summary>Number of conv filters, 0 when the torso has no convolution.</summary>
    public int ConvFilters { get; }

    /// <summary>Where θ's blocks are; <c>Layout.Count</c> is the parameter count P.</summary>
    public ParameterLayout Layout { get; }

    private int ConvKernelOffset { get; }

    private int ConvBiasOffset { get; }

    /// <summary>
    /// The spec §3 network for a task: <c>catch</c>; names starting with <c>small_</c> (or the
    /// abbreviations sss/ssl/sds/sdl); names starting with <c>big_</c> (or bss/bsl/bds/bdl).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown task name, or an observation shape the network cannot take.</exception>
    public static NetworkSpec ForTask(string taskName, IReadOnlyList<int> observationShape, int actionCount)
    {
        ArgumentNullException.ThrowIfNull(taskName);
        string t = taskName.ToLowerInvariant();
        if (t == "catch") return new NetworkSpec(observationShape, actionCount, 256);
        if (t.StartsWith("small_", StringComparison.Ordinal) || t is "sss" or "ssl" or "sds" or "sdl")
        {
            return new NetworkSpec(observationShape, actionCount, 32);
        }

        if (t.StartsWith("big_", StringComparison.Ordinal) || t is "bss" or "bsl" or "bds" or "bdl")
        {
            return new NetworkSpec(observationShape, actionCount, 32, 16);
        }

        throw new ArgumentException($"No network is defined for task '{taskName}' (expected catch, small_*, big_*).", nameof(taskName));
    }

    /// <summary>Initialises θ (length ≥ <c>Layout.Count</c>): LeCun-normal kernels in layout order, zero biases.</summary>
    public void InitParams(Span<float> theta, ref Rng rng) => InitParams<float>(theta, ref rng);

    /// <summary>Initialises θ (length ≥ <c>Layout.Count</c>): LeCun-normal kernels in layout order, zero biases.</summary>
    /// <exception cref="ArgumentException">θ is shorter than the layout.</exception>
    public void InitParams<T>(Span<T> theta, ref Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (theta.Length < Layout.Count) throw new ArgumentException($"θ has {theta.Length} coordinates; the network needs {Layout.Count}.", nameof(theta));
        if (ConvFilters > 0)
        {
            int c = ObservationShape[2];
            Init.LeCunNormal(theta.Slice(ConvKernelOffset, 4 * c * ConvFilters), 4 * c, ref rng);
            theta.Slice(ConvBiasOffset, ConvFilters).Clear();
        }

        torso.InitParams(theta, ref rng);
        actor.InitParams(theta, ref rng);
        critic.InitParams(theta, ref rng);
    }

    /// <summary>
    /// Adds the network to a graph. <paramref name="obs"/> is [N, ...ObservationShape]; returns
    /// the actor's logits [N, |A|] and the critic's values [N, 1]. Parameters are views of
    /// <paramref name="theta"/>/<paramref name="grad"/> starting at <paramref name="offset"/>
    /// (so several agents' graphs can share one big θ array).
    /// </summary>
    /// <exception cref="ArgumentException">The observation node's shape does not match (the message names both shapes).</exception>
    public (Node<T> Logits, Node<T> Value) Build<T>(Graph<T> g, Node<T> obs, T[] theta, T[] grad, int offset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(obs);
        if (obs.Shape.Length != ObservationShape.Count + 1 || !obs.Shape.AsSpan(1).SequenceEqual(ObservationShape.ToArray()))
        {
            throw new ArgumentException(
                $"Observations must be [N, {string.Join(", ", ObservationShape)}]; got {Tensor.ShapeString(obs.Shape)}.", nameof(obs));
        }

        Node<T> h = obs;
        if (ConvFilters > 0)
        {
            int c = ObservationShape[2];
            Node<T> k = g.Parameter(theta, grad, offset + ConvKernelOffset, 2, 2, c, ConvFilters);
            Node<T> b = g.Parameter(theta, grad, offset + ConvBiasOffset, ConvFilters);
            h = g.Relu(g.Conv2x2Same(h, k, b));
        }

        h = g.Flatten(h);
        h = g.Relu(torso.Build(g, h, theta, grad, offset));
        return (actor.Build(g, h, theta, grad, offset), critic.Build(g, h, theta, grad, offset));
    }
}
