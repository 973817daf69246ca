using System.Numerics;
using Optim4RL.Autodiff;
using Optim4RL.Tensors;

namespace Optim4RL.Nn;

/// <summary>
/// The actor-critic networks of the discrete tasks, with all parameters in one flat vector θ
/// (<see cref="Layout"/>, so <c>Layout.Count</c> is P):
/// <list type="bullet">
/// <item><c>catch</c>: flatten → Dense 256, ReLU;</item>
/// <item><c>small_*</c> gridworlds: flatten → Dense 32, ReLU;</item>
/// <item><c>big_*</c> gridworlds: Conv 16 filters 2×2, stride 1, same padding (one zero row/column
/// after: bottom, right), ReLU → flatten → Dense 32, ReLU;</item>
/// </list>
/// then an actor head Dense(|A|) (logits) and a critic head Dense(1), LeCun-normal kernels and
/// zero biases.
/// <para>
/// <b>Convolution layouts.</b> Gridworld observations are channels-last [H, W, C] (H rows, W
/// columns, C = objects + 1 binary maps), and <see cref="ConvLayout"/> says how the conv reads them:
/// <list type="bullet">
/// <item><see cref="ConvLayout.Reference"/> (default): the observation is permuted to [C, H, W] and
/// the convolution's two spatial axes are (C, H) with the W columns as its input channels, which
/// is what the reference implementation computes when it feeds its channels-first tensor to a
/// channels-last convolution. Kernel [2, 2, W, F]; output [C, H, F], flattened row-major
/// (index (c·H + h)·F + f) into C·H·F features. Padding is after, along C and along H.
/// For the paper's big gridworlds P = 39,482 (big_dense_long), 29,498 (big_dense_short),
/// 31,994 (big_sparse_short), 36,986 (big_sparse_long).</item>
/// <item><see cref="ConvLayout.RowsCols"/>: the convolution slides over rows × columns with the
/// C object maps as input channels. Kernel [2, 2, C, F]; output [H, W, F], flattened row-major
/// (index (h·W + w)·F + f) into H·W·F features; P = 85,178 (big_dense_*) or 86,714 (big_sparse_*).</item>
/// </list>
/// </para>
/// </summary>
/// <remarks>
/// θ layout, in order: <c>torso/conv/kernel</c> [2, 2, Cin, F] and <c>torso/conv/bias</c> [F] (conv
/// networks only; Cin = W for <see cref="ConvLayout.Reference"/>, C for <see cref="ConvLayout.RowsCols"/>),
/// <c>torso/dense/kernel</c> [D, Z] and <c>torso/dense/bias</c> [Z] (Z = <see cref="HiddenSize"/>; D the
/// flattened torso input: C·H·F, H·W·F, or the observation size without a conv), <c>actor/kernel</c>
/// [Z, |A|], <c>actor/bias</c> [|A|], <c>critic/kernel</c> [Z, 1], <c>critic/bias</c> [1].
/// <see cref="InitParams{T}"/> draws the kernels in this order (the conv kernel's fan-in is 4·Cin).
/// </remarks>
public sealed class NetworkSpec
{
    private readonly DenseLayer torso, actor, critic;

    /// <summary>
    /// A network of this family with explicit sizes (for tests and new tasks):
    /// optional 2×2 conv with <paramref name="convFilters"/> filters (0 = none; requires an
    /// [H, W, C] observation) laid out as <paramref name="convLayout"/>, then flatten → Dense
    /// <paramref name="hiddenSize"/>, ReLU, then the heads.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive, a conv is asked for with an observation not of rank 3, or the layout is undefined.</exception>
    public NetworkSpec(IReadOnlyList<int> observationShape, int actionCount, int hiddenSize, int convFilters = 0, ConvLayout convLayout = ConvLayout.Reference)
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

        if (!Enum.IsDefined(convLayout)) throw new ArgumentException($"Unknown convolution layout {convLayout}.", nameof(convLayout));

        int[] obsShape = observationShape.ToArray();
        ObservationShape = obsShape;
        ActionCount = actionCount;
        HiddenSize = hiddenSize;
        ConvFilters = convFilters;
        ConvLayout = convLayout;
        Layout = new ParameterLayout();
        int flat = Tensor.ElementCount(obsShape);
        if (convFilters > 0)
        {
            // Both layouts convolve an [A, B, Cin] sample; flat = A·B·F.
            var (a, b, cin) = ConvInput;
            ConvKernelOffset = Layout.Add("torso/conv/kernel", 2, 2, cin, convFilters);
            ConvBiasOffset = Layout.Add("torso/conv/bias", convFilters);
            flat = a * b * convFilters;
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

    /// <summary>
    /// How the conv reads the [H, W, C] observation (see the class remarks); it changes nothing
    /// when the torso has no convolution.
    /// </summary>
    public ConvLayout ConvLayout { get; }

    /// <summary>Where θ's blocks are; <c>Layout.Count</c> is the parameter count P.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>
    /// The per-sample input of the conv, as its (spatial 1, spatial 2, input channels):
    /// (C, H, W) for <see cref="ConvLayout.Reference"/>, (H, W, C) for <see cref="ConvLayout.RowsCols"/>.
    /// </summary>
    private (int A, int B, int Channels) ConvInput => ConvLayout == ConvLayout.Reference
        ? (ObservationShape[2], ObservationShape[0], ObservationShape[1])
        : (ObservationShape[0], ObservationShape[1], ObservationShape[2]);

    private int ConvKernelOffset { get; }

    private int ConvBiasOffset { get; }

    /// <summary>
    /// The network for a task: <c>catch</c>; names starting with <c>small_</c> (or the
    /// abbreviations sss/ssl/sds/sdl); names starting with <c>big_</c> (or bss/bsl/bds/bdl), whose
    /// conv is laid out as <paramref name="convLayout"/> (ignored by the other tasks); and tasks of your
    /// own registered with <c>EnvRegistry.RegisterDiscrete</c>, with the sizes given there (checked first).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown task name, or an observation shape the network cannot take.</exception>
    public static NetworkSpec ForTask(string taskName, IReadOnlyList<int> observationShape, int actionCount, ConvLayout convLayout = ConvLayout.Reference)
    {
        ArgumentNullException.ThrowIfNull(taskName);
        string t = taskName.ToLowerInvariant();
        lock (CustomTasks)
        {
            if (CustomTasks.TryGetValue(t, out var custom)) return new NetworkSpec(observationShape, actionCount, custom.HiddenSize, custom.ConvFilters, convLayout);
        }

        if (t == "catch") return new NetworkSpec(observationShape, actionCount, 256);
        if (t.StartsWith("small_", StringComparison.Ordinal) || t is "sss" or "ssl" or "sds" or "sdl")
        {
            return new NetworkSpec(observationShape, actionCount, 32);
        }

        if (t.StartsWith("big_", StringComparison.Ordinal) || t is "bss" or "bsl" or "bds" or "bdl")
        {
            return new NetworkSpec(observationShape, actionCount, 32, 16, convLayout);
        }

        throw new ArgumentException($"No network is defined for task '{taskName}' (expected catch, small_*, big_*).", nameof(taskName));
    }

    /// <summary>Networks of tasks registered with <c>EnvRegistry.RegisterDiscrete</c>, by lower-case name.</summary>
    private static readonly Dictionary<string, (int HiddenSize, int ConvFilters)> CustomTasks = new(StringComparer.Ordinal);

    /// <summary>
    /// Makes <see cref="ForTask"/> build, for <paramref name="taskName"/> (any letter case), a network of this
    /// family with a Dense torso of <paramref name="hiddenSize"/> units after an optional 2×2 conv of
    /// <paramref name="convFilters"/> filters. Called by <c>EnvRegistry.RegisterDiscrete</c>; a second call for
    /// the same name replaces the first.
    /// </summary>
    internal static void RegisterTask(string taskName, int hiddenSize, int convFilters)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegative(convFilters);
        lock (CustomTasks) CustomTasks[taskName.ToLowerInvariant()] = (hiddenSize, convFilters);
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
            int cin = ConvInput.Channels;
            Init.LeCunNormal(theta.Slice(ConvKernelOffset, 4 * cin * ConvFilters), 4 * cin, ref rng);
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
            int cin = ConvInput.Channels;
            Node<T> k = g.Parameter(theta, grad, offset + ConvKernelOffset, 2, 2, cin, ConvFilters);
            Node<T> b = g.Parameter(theta, grad, offset + ConvBiasOffset, ConvFilters);
            // Reference: [N, H, W, C] → [N, C, H, W], so (C, H) are the conv's spatial axes and W its channels.
            if (ConvLayout == ConvLayout.Reference) h = g.Permute(h, 0, 3, 1, 2);
            h = g.Relu(g.Conv2x2Same(h, k, b));
        }

        h = g.Flatten(h);
        h = g.Relu(torso.Build(g, h, theta, grad, offset));
        return (actor.Build(g, h, theta, grad, offset), critic.Build(g, h, theta, grad, offset));
    }
}
