using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Autodiff;

/// <summary>Row-wise log-softmax of [N, A]: y = x − max − log Σ exp(x − max).</summary>
internal sealed class LogSoftmaxOp<T>(Node<T> x) : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int n = x.Shape[0], a = x.Shape[1];

    public override string Name => "LogSoftmax";

    public override void Forward()
    {
        ReadOnlySpan<T> xs = x.Value.Span;
        Span<T> ys = Out.Value.Span;
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<T> xr = xs.Slice(r * a, a);
            Span<T> yr = ys.Slice(r * a, a);
            T m = TP.Max(xr);
            TP.Subtract(xr, m, yr);
            T s = T.Zero;
            for (int i = 0; i < a; i++) s += T.Exp(yr[i]);
            TP.Subtract(yr, T.Log(s), yr);
        }
    }

    public override void Backward()
    {
        if (x.Grad is not { } dxT) return;
        Span<T> dx = dxT.Span;
        ReadOnlySpan<T> dy = Out.Grad!.Span;
        ReadOnlySpan<T> ys = Out.Value.Span;
        for (int r = 0; r < n; r++)
        {
            int o = r * a;
            T s = TP.Sum(dy.Slice(o, a));
            for (int i = o; i < o + a; i++) dx[i] += dy[i] - T.Exp(ys[i]) * s;
        }
    }
}

/// <summary>Entropy of categorical rows given log-probabilities: H[n] = −Σ_a exp(lp)·lp.</summary>
internal sealed class EntropyOp<T>(Node<T> logp) : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int n = logp.Shape[0], a = logp.Shape[1];

    public override string Name => "Entropy";

    public override void Forward()
    {
        ReadOnlySpan<T> lp = logp.Value.Span;
        Span<T> h = Out.Value.Span;
        for (int r = 0; r < n; r++)
        {
            T s = T.Zero;
            for (int i = r * a; i < (r + 1) * a; i++)
            {
                T p = T.Exp(lp[i]);
                if (p != T.Zero) s += p * lp[i];
            }

            h[r] = -s;
        }
    }

    public override void Backward()
    {
        if (logp.Grad is not { } dT) return;
        Span<T> d = dT.Span;
        ReadOnlySpan<T> lp = logp.Value.Span;
        ReadOnlySpan<T> dh = Out.Grad!.Span;
        for (int r = 0; r < n; r++)
        {
            T g = dh[r];
            for (int i = r * a; i < (r + 1) * a; i++)
            {
                T p = T.Exp(lp[i]);
                if (p != T.Zero) d[i] -= g * p * (lp[i] + T.One);
            }
        }
    }
}

/// <summary>y[n] = x[n, idx[n]] with a caller-filled index buffer.</summary>
internal sealed class GatherOp<T>(Node<T> x, int[] idx) : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int n = x.Shape[0], a = x.Shape[1];

    public override string Name => "Gather";

    public override void Forward()
    {
        ReadOnlySpan<T> xs = x.Value.Span;
        Span<T> y = Out.Value.Span;
        for (int r = 0; r < n; r++) y[r] = xs[r * a + Check(idx[r], r)];
    }

    public override void Backward()
    {
        if (x.Grad is not { } dxT) return;
        Span<T> dx = dxT.Span;
        ReadOnlySpan<T> dy = Out.Grad!.Span;
        for (int r = 0; r < n; r++) dx[r * a + Check(idx[r], r)] += dy[r];
    }

    private int Check(int i, int row)
    {
        if ((uint)i >= (uint)a) Throw(i, row);
        return i;
    }

    private void Throw(int i, int row) =>
        throw new ArgumentOutOfRangeException(nameof(idx), i, $"Gather index at row {row} is outside [0, {a}).");
}

/// <summary>y[0] = Σ x (or the mean when <c>mean</c>).</summary>
internal sealed class ReduceOp<T>(Node<T> x, bool mean) : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T scale = mean ? T.One / T.CreateChecked(Math.Max(1, x.Value.Length)) : T.One;

    public override string Name => mean ? "Mean" : "Sum";

    public override void Forward() => Out.Value.Span[0] = TP.Sum<T>(x.Value.Span) * scale;

    public override void Backward()
    {
        if (x.Grad is not { } dx) return;
        TP.Add(dx.Span, Out.Grad!.Span[0] * scale, dx.Span);
    }
}
