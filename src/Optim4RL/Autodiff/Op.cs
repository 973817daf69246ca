using System.Numerics;

namespace Optim4RL.Autodiff;

/// <summary>
/// One coarse operation of a <see cref="Graph{T}"/> (a Dense layer is one op). The forward pass
/// writes <see cref="Out"/>'s value from its inputs' values; the backward pass reads
/// <see cref="Out"/>'s gradient and ACCUMULATES (+=) into its inputs' gradient buffers, skipping
/// inputs whose gradient is null. Neither allocates.
/// </summary>
internal abstract class Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The node this op produces; set by the graph when the op is added.</summary>
    public Node<T> Out = null!;

    public abstract string Name { get; }

    public abstract void Forward();

    public abstract void Backward();

    /// <summary>
    /// True when the op treats the rows (first axis) of its inputs and output independently, so
    /// <see cref="ForwardRows"/> can compute a block of rows on its own (Dense, Conv2x2Same,
    /// elementwise ops, views).
    /// </summary>
    public virtual bool RowSeparable => false;

    /// <summary>Computes output rows [start, start + count) only; valid when <see cref="RowSeparable"/>.</summary>
    public virtual void ForwardRows(int start, int count) =>
        throw new NotSupportedException($"{Name} does not compute rows independently, so it cannot run on a block of rows.");
}

/// <summary>An op with nothing to compute: inputs, parameters and views (reshape, row slices).</summary>
internal sealed class NoOp<T>(string name) : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => name;

    public override void Forward()
    {
    }

    public override void Backward()
    {
    }

    public override bool RowSeparable => true;

    public override void ForwardRows(int start, int count)
    {
    }
}
