using Optim4RL.Tensors;

namespace Optim4RL.Nn;

/// <summary>
/// Named views into one flat parameter vector θ: each <see cref="Add"/> reserves the next
/// contiguous block for a tensor of the given shape (row-major). Hand-designed optimizers
/// update θ in one pass; coordinate-wise learned optimizers see exactly this vector.
/// </summary>
public sealed class ParameterLayout
{
    private readonly List<Entry> entries = [];
    private readonly Dictionary<string, Entry> byName = new(StringComparer.Ordinal);

    /// <summary>One named block of θ.</summary>
    /// <param name="Name">Unique name, e.g. <c>torso/dense/kernel</c>.</param>
    /// <param name="Offset">Index of the block's first coordinate in θ.</param>
    /// <param name="Shape">The tensor's shape (row-major).</param>
    public sealed record Entry(string Name, int Offset, int[] Shape)
    {
        /// <summary>Number of coordinates (the product of the shape).</summary>
        public int Length => Tensor.ElementCount(Shape);
    }

    /// <summary>Total number of coordinates P.</summary>
    public int Count { get; private set; }

    /// <summary>The blocks in order of addition (increasing offsets, no gaps).</summary>
    public IReadOnlyList<Entry> Entries => entries;

    /// <summary>Reserves the next block for a tensor named <paramref name="name"/> and returns its offset.</summary>
    /// <exception cref="ArgumentException">The name is already used or a dimension is negative.</exception>
    public int Add(string name, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (byName.ContainsKey(name)) throw new ArgumentException($"Parameter '{name}' is already in the layout.", nameof(name));
        int length = Tensor.ElementCount(shape);
        var e = new Entry(name, Count, (int[])shape.Clone());
        entries.Add(e);
        byName.Add(name, e);
        Count = checked(Count + length);
        return e.Offset;
    }

    /// <summary>The block named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such name.</exception>
    public Entry this[string name] => byName.TryGetValue(name, out Entry? e) ? e : throw new KeyNotFoundException($"No parameter '{name}' in the layout.");

    /// <summary>The offset of the block named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such name.</exception>
    public int OffsetOf(string name) => this[name].Offset;
}
