using System.Numerics;
using Optim4RL.Tensors;

namespace Optim4RL.Autodiff;

/// <summary>
/// One value in a <see cref="Graph{T}"/>: the output of one op (inputs and parameters are ops
/// too, with nothing to compute). Its buffers are allocated when the graph is built and reused by
/// every <see cref="Graph{T}.Forward()"/> and <see cref="Graph{T}.Backward"/>.
/// </summary>
/// <typeparam name="T"><c>float</c> in production, <c>double</c> in gradient tests.</typeparam>
public sealed class Node<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal Node(Graph<T> graph, int index, Op<T> op, Tensor<T> value, Tensor<T>? grad, bool gradIsParameter)
    {
        Graph = graph;
        Index = index;
        Op = op;
        Value = value;
        Grad = grad;
        GradIsParameter = gradIsParameter;
    }

    /// <summary>The graph this node belongs to.</summary>
    public Graph<T> Graph { get; }

    /// <summary>Position of the node's op in execution order (0 = first created).</summary>
    public int Index { get; }

    /// <summary>The node's value, valid after the forward pass has run this node's op.</summary>
    public Tensor<T> Value { get; }

    /// <summary>
    /// ∂loss/∂value after <see cref="Graph{T}.Backward"/>; null when no parameter influences this
    /// node (inputs, and ops computed only from inputs). For parameters (and views of them) it is a
    /// view of the caller's gradient vector, into which backward passes accumulate
    /// (<see cref="Graph{T}.MoveParameters"/> may move such a view and the matching value view within their arrays).
    /// </summary>
    public Tensor<T>? Grad { get; }

    /// <summary>The node's shape (same as <c>Value.Shape</c>). Do not modify.</summary>
    public int[] Shape => Value.Shape;

    /// <summary>The op's kind, e.g. <c>Dense</c> or <c>Input</c> (for diagnostics).</summary>
    public string Kind => Op.Name;

    internal Op<T> Op { get; }

    /// <summary>True when <see cref="Grad"/> views a caller-owned gradient vector that backward must not zero.</summary>
    internal bool GradIsParameter { get; }

    /// <inheritdoc/>
    public override string ToString() => $"#{Index} {Kind}{Tensor.ShapeString(Shape)}";
}
