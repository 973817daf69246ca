using System.Numerics;
using System.Runtime.InteropServices;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Autodiff;

/// <summary>The elementwise functions of one input, y = f(x).</summary>
internal enum UnaryKind
{
    Relu,
    Tanh,
    Sigmoid,
    Exp,
    Silu,
    Softplus,
    Square,
    Scale,
    AddScalar,
}

/// <summary>y = f(x) elementwise; derivatives from the stored x or y (and σ(x) for SiLU).</summary>
internal sealed class UnaryOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Node<T> x;
    private readonly UnaryKind kind;
    private readonly T c;
    private readonly T[]? scratch;

    public UnaryOp(Node<T> x, UnaryKind kind, T c)
    {
        this.x = x;
        this.kind = kind;
        this.c = c;
        if (kind == UnaryKind.Silu) scratch = new T[x.Value.Length];
    }

    public override string Name => kind.ToString();

    public override void Forward() => Compute(x.Value.Span, Out.Value.Span, scratch);

    public override bool RowSeparable => true;

    public override void ForwardRows(int start, int count)
    {
        int row = Out.Value.Length / Out.Shape[0];
        Compute(x.Value.Span.Slice(start * row, count * row), Out.Value.Span.Slice(start * row, count * row),
            scratch is null ? null : scratch.AsSpan(start * row, count * row));
    }

    private void Compute(ReadOnlySpan<T> xs, Span<T> y, Span<T> scratch)
    {
        switch (kind)
        {
            case UnaryKind.Relu:
                TP.Max(xs, T.Zero, y);
                break;
            case UnaryKind.Tanh:
                TP.Tanh(xs, y);
                break;
            case UnaryKind.Sigmoid:
                TP.Sigmoid(xs, y);
                break;
            case UnaryKind.Exp:
                TP.Exp(xs, y);
                break;
            case UnaryKind.Silu:
                TP.Sigmoid(xs, scratch);
                TP.Multiply(xs, scratch, y);
                break;
            case UnaryKind.Softplus:
                for (int i = 0; i < xs.Length; i++)
                {
                    T v = xs[i];
                    y[i] = T.Max(v, T.Zero) + T.LogP1(T.Exp(-T.Abs(v)));
                }

                break;
            case UnaryKind.Square:
                TP.Multiply(xs, xs, y);
                break;
            case UnaryKind.Scale:
                TP.Multiply(xs, c, y);
                break;
            case UnaryKind.AddScalar:
                TP.Add(xs, c, y);
                break;
        }
    }

    public override void Backward()
    {
        if (x.Grad is not { } dxT) return;
        Span<T> dx = dxT.Span;
        ReadOnlySpan<T> dy = Out.Grad!.Span;
        ReadOnlySpan<T> y = Out.Value.Span;
        ReadOnlySpan<T> xs = x.Value.Span;
        T one = T.One;
        switch (kind)
        {
            case UnaryKind.Relu:
                ReluBackward(y, dy, dx);
                break;
            case UnaryKind.Tanh:
                for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * (one - y[i] * y[i]);
                break;
            case UnaryKind.Sigmoid:
                for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * y[i] * (one - y[i]);
                break;
            case UnaryKind.Exp:
                TP.MultiplyAdd(dy, y, dx, dx);
                break;
            case UnaryKind.Silu:
                {
                    ReadOnlySpan<T> s = scratch;
                    for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * (s[i] + xs[i] * s[i] * (one - s[i]));
                    break;
                }

            case UnaryKind.Softplus:
                for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] / (one + T.Exp(-xs[i]));
                break;
            case UnaryKind.Square:
                for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * (xs[i] + xs[i]);
                break;
            case UnaryKind.Scale:
                TP.MultiplyAdd(dy, c, dx, dx);
                break;
            case UnaryKind.AddScalar:
                TP.Add(dx, dy, dx);
                break;
        }
    }

    /// <summary>dx += dy where y &gt; 0 (vectorised with a mask).</summary>
    private static void ReluBackward(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            ref T yr = ref MemoryMarshal.GetReference(y);
            ref T dyr = ref MemoryMarshal.GetReference(dy);
            ref T dxr = ref MemoryMarshal.GetReference(dx);
            for (; i + Vector<T>.Count <= dx.Length; i += Vector<T>.Count)
            {
                Vector<T> mask = Vector.GreaterThan(Vector.LoadUnsafe(ref yr, (nuint)i), Vector<T>.Zero);
                Vector<T> g = Vector.ConditionalSelect(mask, Vector.LoadUnsafe(ref dyr, (nuint)i), Vector<T>.Zero);
                Vector.StoreUnsafe(Vector.LoadUnsafe(ref dxr, (nuint)i) + g, ref dxr, (nuint)i);
            }
        }

        for (; i < dx.Length; i++)
        {
            if (y[i] > T.Zero) dx[i] += dy[i];
        }
    }
}

/// <summary>The elementwise functions of two same-shape inputs.</summary>
internal enum BinaryKind
{
    Add,
    Sub,
    Mul,
}

/// <summary>y = a ∘ b elementwise for ∘ ∈ {+, −, ×}.</summary>
internal sealed class BinaryOp<T>(Node<T> a, Node<T> b, BinaryKind kind) : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => kind.ToString();

    public override void Forward() => Compute(a.Value.Span, b.Value.Span, Out.Value.Span);

    public override bool RowSeparable => true;

    public override void ForwardRows(int start, int count)
    {
        int row = Out.Value.Length / Out.Shape[0];
        Compute(a.Value.Span.Slice(start * row, count * row), b.Value.Span.Slice(start * row, count * row), Out.Value.Span.Slice(start * row, count * row));
    }

    private void Compute(ReadOnlySpan<T> av, ReadOnlySpan<T> bv, Span<T> y)
    {
        switch (kind)
        {
            case BinaryKind.Add:
                TP.Add(av, bv, y);
                break;
            case BinaryKind.Sub:
                TP.Subtract(av, bv, y);
                break;
            case BinaryKind.Mul:
                TP.Multiply(av, bv, y);
                break;
        }
    }

    public override void Backward()
    {
        ReadOnlySpan<T> dy = Out.Grad!.Span;
        switch (kind)
        {
            case BinaryKind.Add:
                if (a.Grad is { } da) TP.Add(da.Span, dy, da.Span);
                if (b.Grad is { } db) TP.Add(db.Span, dy, db.Span);
                break;
            case BinaryKind.Sub:
                if (a.Grad is { } da2) TP.Add(da2.Span, dy, da2.Span);
                if (b.Grad is { } db2) TP.Subtract(db2.Span, dy, db2.Span);
                break;
            case BinaryKind.Mul:
                if (a.Grad is { } da3) TP.MultiplyAdd(dy, b.Value.Span, da3.Span, da3.Span);
                if (b.Grad is { } db3) TP.MultiplyAdd(dy, a.Value.Span, db3.Span, db3.Span);
                break;
        }
    }
}
