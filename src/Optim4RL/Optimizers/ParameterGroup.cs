using System.Runtime.InteropServices;
using System.Numerics.Tensors;

namespace Optim4RL.Optimizers;

/// <summary>
/// One parameter tensor of a <see cref="ParameterGroup"/>: its values θ and the buffer its gradient is
/// written to (torch's <c>p</c> and <c>p.grad</c>), both kept where the caller keeps them (a
/// <see cref="float"/> array, a <see cref="Memory{T}"/> slice, or a dense <see cref="Tensor{T}"/>).
/// </summary>
public sealed class Parameter
{
    private readonly Memory<float> _value, _grad;
    private readonly Tensor<float>? _valueTensor, _gradTensor;

    internal Parameter(string name, Memory<float> value, Memory<float> grad)
    {
        Name = name;
        _value = value;
        _grad = grad;
        Length = value.Length;
    }

    internal Parameter(string name, Tensor<float> value, Tensor<float> grad)
    {
        Name = name;
        _valueTensor = value;
        _gradTensor = grad;
        Length = checked((int)value.FlattenedLength);
    }

    /// <summary>The parameter's name, unique within its group.</summary>
    public string Name { get; }

    /// <summary>Number of coordinates.</summary>
    public int Length { get; }

    /// <summary>
    /// Index of the parameter's first coordinate in the θ that a <see cref="GroupedOptimizer"/> steps (the
    /// concatenation of its groups' parameters in order); −1 until the group is given to one. The inner
    /// optimizer's per-coordinate state for this parameter is at the same offsets: coordinates
    /// [Offset, Offset + Length) of each [P] buffer (Adam's <c>mu</c>, <c>nu</c>), and of each row of a
    /// [k, P] buffer (the learned optimizer's recurrent <c>state</c>).
    /// </summary>
    public int Offset { get; internal set; } = -1;

    /// <summary>The values θ (the caller's memory, not a copy).</summary>
    public Span<float> Value => _valueTensor is null ? _value.Span : SpanOf(_valueTensor);

    /// <summary>The gradient buffer (the caller's memory, not a copy).</summary>
    public Span<float> Grad => _gradTensor is null ? _grad.Span : SpanOf(_gradTensor);

    private static Span<float> SpanOf(Tensor<float> t) => MemoryMarshal.CreateSpan(ref t.GetPinnableReference(), checked((int)t.FlattenedLength));
}

/// <summary>
/// A named group of parameter tensors with its own learning-rate scale, like one entry of torch.optim's
/// <c>param_groups</c>. Give one or more groups to a <see cref="GroupedOptimizer"/>.
/// </summary>
/// <example>
/// <code>
/// var body = new ParameterGroup("body").Add("w1", w1, gw1).Add("b1", b1, gb1);
/// var head = new ParameterGroup("head", learningRateScale: 0.1f).Add("w2", w2, gw2);
/// var opt = new GroupedOptimizer(Optax.Adam(1e-3), body, head);
/// </code>
/// </example>
public sealed class ParameterGroup
{
    private readonly List<Parameter> _parameters = [];
    private float _scale;

    /// <summary>Creates an empty group.</summary>
    /// <param name="name">The group's name, unique within a <see cref="GroupedOptimizer"/>.</param>
    /// <param name="learningRateScale">s, multiplying this group's Δθ (see <see cref="LearningRateScale"/>).</param>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The scale is negative or not finite.</exception>
    public ParameterGroup(string name, float learningRateScale = 1f)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        LearningRateScale = learningRateScale;
    }

    /// <summary>The group's name.</summary>
    public string Name { get; }

    /// <summary>
    /// s ≥ 0: the inner optimizer's update Δθ of this group's coordinates is multiplied by s before
    /// θ ← θ + s·Δθ. The optimizer's state (moments, recurrent state, step count) does not see s, so for
    /// Adam, RMSProp, SGD and Lion (whose Δθ is α times a function of the gradients alone) a scale s is
    /// the same as giving this group the learning rate s·α, as a torch.optim param group's <c>lr</c> does
    /// (equal up to float rounding: (α·x)·s instead of (s·α)·x). For the learned optimizer, Δθ = α·f(φ; h, g)
    /// and the recurrent state h is driven by g alone, so s again acts as the group's α: s·α. For a
    /// transformation whose state depends on α, s scales the final Δθ only. s = 1 (the default) gives
    /// θ ← θ + Δθ exactly as the flat-span API does; s = 0 freezes the group (its state still advances).
    /// May be changed between steps (a schedule).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative or not finite.</exception>
    public float LearningRateScale
    {
        get => _scale;
        set
        {
            if (!(value >= 0f) || !float.IsFinite(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "A group's learning-rate scale must be finite and ≥ 0.");
            _scale = value;
        }
    }

    /// <summary>The group's parameters, in the order added.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Total coordinates of the group's parameters.</summary>
    public int Count { get; private set; }

    /// <summary>True once a <see cref="GroupedOptimizer"/> holds the group; no parameter can be added then.</summary>
    public bool IsFrozen { get; internal set; }

    /// <summary>Adds a parameter kept in arrays (values and gradient of the same length).</summary>
    /// <returns>This group, for chaining.</returns>
    /// <exception cref="ArgumentException">Empty or duplicate name, empty or mismatched arrays.</exception>
    /// <exception cref="InvalidOperationException">The group already belongs to an optimizer.</exception>
    public ParameterGroup Add(string name, float[] value, float[] grad)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(grad);
        return Add(name, value.AsMemory(), grad.AsMemory());
    }

    /// <summary>Adds a parameter kept in memory slices (e.g. views into one flat θ and one flat gradient).</summary>
    /// <returns>This group, for chaining.</returns>
    /// <exception cref="ArgumentException">Empty or duplicate name, empty or mismatched slices.</exception>
    /// <exception cref="InvalidOperationException">The group already belongs to an optimizer.</exception>
    public ParameterGroup Add(string name, Memory<float> value, Memory<float> grad)
    {
        CheckName(name);
        if (value.Length == 0) throw new ArgumentException($"Parameter '{name}' has no values.", nameof(value));
        if (grad.Length != value.Length)
            throw new ArgumentException($"Parameter '{name}' has {value.Length} values but its gradient buffer has {grad.Length}.", nameof(grad));
        return Append(new Parameter(name, value, grad));
    }

    /// <summary>
    /// Adds a parameter kept as <see cref="Tensor{T}"/> values and gradient of the same shape. Both must be
    /// dense (contiguous, row-major, no broadcast strides); their memory is used in place.
    /// </summary>
    /// <returns>This group, for chaining.</returns>
    /// <exception cref="ArgumentException">Empty or duplicate name, an empty or non-dense tensor, or different shapes.</exception>
    /// <exception cref="InvalidOperationException">The group already belongs to an optimizer.</exception>
    public ParameterGroup Add(string name, Tensor<float> value, Tensor<float> grad)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(grad);
        CheckName(name);
        if (value.FlattenedLength == 0) throw new ArgumentException($"Parameter '{name}' has no values.", nameof(value));
        if (value.FlattenedLength > Array.MaxLength) throw new ArgumentException($"Parameter '{name}' has more than {Array.MaxLength} values.", nameof(value));
        if (!value.IsDense) throw new ArgumentException($"Parameter '{name}': the value tensor is not dense (contiguous); pass a dense tensor, e.g. ToDenseTensor().", nameof(value));
        if (!grad.IsDense) throw new ArgumentException($"Parameter '{name}': the gradient tensor is not dense (contiguous).", nameof(grad));
        if (!value.Lengths.SequenceEqual(grad.Lengths))
            throw new ArgumentException($"Parameter '{name}': value shape [{string.Join(", ", value.Lengths.ToArray())}] and gradient shape [{string.Join(", ", grad.Lengths.ToArray())}] differ.", nameof(grad));
        return Append(new Parameter(name, value, grad));
    }

    private void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (IsFrozen) throw new InvalidOperationException($"Group '{Name}' already belongs to an optimizer; create the optimizer after adding every parameter.");
        if (_parameters.Any(p => p.Name == name)) throw new ArgumentException($"Group '{Name}' already has a parameter named '{name}'.", nameof(name));
    }

    private ParameterGroup Append(Parameter p)
    {
        if ((long)Count + p.Length > Array.MaxLength) throw new ArgumentException($"Group '{Name}' would hold more than {Array.MaxLength} coordinates.");
        _parameters.Add(p);
        Count += p.Length;
        return this;
    }
}
