namespace Optim4RL.Tensors;

using static Optim4RL.Tensors.Tensor;

/// <summary>
/// A dense, row-major tensor: a contiguous window <c>Data[Offset .. Offset + Length)</c> of an
/// array plus a shape. Either owns its array (<see cref="Tensor{T}(int[])"/>) or is a view of
/// someone else's (<see cref="Tensor{T}(T[], int, int[])"/>), e.g. one layer's weights inside a
/// network's flat parameter vector θ. The shape and the backing array are fixed for the tensor's
/// life; only the autodiff graph may move a parameter view's window within its array
/// (<see cref="MoveTo"/>), when it retargets a graph to another agent's slice of θ.
/// </summary>
/// <typeparam name="T">Element type (<c>float</c> in production, <c>double</c> in gradient tests).</typeparam>
public sealed class Tensor<T> where T : unmanaged
{
    /// <summary>Allocates a zero-filled tensor of the given shape.</summary>
    /// <param name="shape">Dimensions, each ≥ 0; an empty shape is a scalar of one element.</param>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public Tensor(params int[] shape)
    {
        Shape = (int[])shape.Clone();
        Length = ElementCount(Shape);
        Data = new T[Length];
        Offset = 0;
    }

    /// <summary>A view of <paramref name="data"/> starting at <paramref name="offset"/> (no copy).</summary>
    /// <param name="data">The backing array, shared with the caller.</param>
    /// <param name="offset">Index of the first element in <paramref name="data"/>.</param>
    /// <param name="shape">Dimensions; the view spans their product.</param>
    /// <exception cref="ArgumentException">A dimension is negative, or the view does not fit in <paramref name="data"/>.</exception>
    public Tensor(T[] data, int offset, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        Shape = (int[])shape.Clone();
        Length = ElementCount(Shape);
        if (offset < 0 || (long)offset + Length > data.Length)
        {
            throw new ArgumentException(
                $"A view of shape {ShapeString(Shape)} ({Length} elements) at offset {offset} does not fit in an array of {data.Length}.",
                nameof(offset));
        }

        Data = data;
        Offset = offset;
    }

    /// <summary>The backing array (possibly shared with other tensors).</summary>
    public T[] Data { get; }

    /// <summary>Index of this tensor's first element in <see cref="Data"/>.</summary>
    public int Offset { get; private set; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>).</summary>
    public int Length { get; }

    /// <summary>The dimensions, outermost first (row-major). Do not modify.</summary>
    public int[] Shape { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>The elements, row-major.</summary>
    public Span<T> Span => new(Data, Offset, Length);

    /// <summary>The size of dimension <paramref name="axis"/> (negative counts from the end).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public int Dim(int axis)
    {
        int a = axis < 0 ? axis + Shape.Length : axis;
        if ((uint)a >= (uint)Shape.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Axis out of range for shape {ShapeString(Shape)}.");
        }

        return Shape[a];
    }

    /// <summary>Sets every element to zero.</summary>
    public void Clear() => Span.Clear();

    /// <summary>
    /// Moves this view's window to start at <paramref name="offset"/> in the same array (shape unchanged, nothing
    /// copied). Only for views whose owner points them at another slice, e.g. a graph's parameters moved to
    /// another agent's θ (<c>Graph.MoveParameters</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The window would not fit in <see cref="Data"/>.</exception>
    internal void MoveTo(int offset)
    {
        if (!Fits(offset))
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"A view of shape {ShapeString(Shape)} ({Length} elements) at offset {offset} does not fit in an array of {Data.Length}.");
        }

        Offset = offset;
    }

    /// <summary>Whether a window of this tensor's length starting at <paramref name="offset"/> fits in <see cref="Data"/>.</summary>
    internal bool Fits(long offset) => offset >= 0 && offset + Length <= Data.Length;

    /// <inheritdoc/>
    public override string ToString() => $"Tensor<{typeof(T).Name}>{ShapeString(Shape)}";
}

/// <summary>Shape helpers shared by <see cref="Tensor{T}"/> and the autodiff graph.</summary>
public static class Tensor
{
    /// <summary>The product of the dimensions.</summary>
    /// <exception cref="ArgumentException">A dimension is negative or the product overflows.</exception>
    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension in shape {ShapeString(shape)}.", nameof(shape));
            n *= d;
            if (n > int.MaxValue) throw new ArgumentException($"Shape {ShapeString(shape)} has too many elements.", nameof(shape));
        }

        return (int)n;
    }

    /// <summary>Formats a shape as <c>[2, 3]</c>.</summary>
    public static string ShapeString(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
