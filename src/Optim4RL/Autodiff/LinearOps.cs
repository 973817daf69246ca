using System.Numerics;
using Optim4RL.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Autodiff;

/// <summary>y[N,out] = x[N,in]·W[in,out] + b[out], one GEMM each way.</summary>
internal sealed class DenseOp<T>(Node<T> x, Node<T> w, Node<T> b) : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int n = x.Shape[0], nIn = w.Shape[0], nOut = w.Shape[1];

    public override string Name => "Dense";

    public override void Forward()
    {
        Span<T> y = Out.Value.Span;
        ReadOnlySpan<T> bias = b.Value.Span;
        for (int r = 0; r < n; r++) bias.CopyTo(y.Slice(r * nOut, nOut));
        Blas.Gemm(false, false, n, nOut, nIn, T.One, x.Value.Span, nIn, w.Value.Span, nOut, T.One, y, nOut);
    }

    public override void Backward()
    {
        ReadOnlySpan<T> dy = Out.Grad!.Span;
        if (x.Grad is { } dx)
        {
            Blas.Gemm(false, true, n, nIn, nOut, T.One, dy, nOut, w.Value.Span, nOut, T.One, dx.Span, nIn);
        }

        if (w.Grad is { } dw)
        {
            Blas.Gemm(true, false, nIn, nOut, n, T.One, x.Value.Span, nIn, dy, nOut, T.One, dw.Span, nOut);
        }

        if (b.Grad is { } db)
        {
            Span<T> g = db.Span;
            for (int r = 0; r < n; r++) TP.Add(g, dy.Slice(r * nOut, nOut), g);
        }
    }
}

/// <summary>
/// 2×2 convolution, stride 1, "same" padding with the single padding row/column after (bottom,
/// right): y[n,i,j,f] = b[f] + Σ_{di,dj∈{0,1}} Σ_c x[n,i+di,j+dj,c]·k[di,dj,c,f], x = 0 outside.
/// im2col into [N·H·W, 4C] (column index (di·2+dj)·C + c, matching k's row-major layout as a
/// [4C, F] matrix), then one GEMM.
/// </summary>
internal sealed class Conv2x2SameOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Node<T> x, k, b;
    private readonly int n, h, w, c, f, rows, cols;
    private readonly T[] col;
    private readonly T[]? dcol;

    public Conv2x2SameOp(Node<T> x, Node<T> k, Node<T> b)
    {
        this.x = x;
        this.k = k;
        this.b = b;
        (n, h, w, c) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
        f = k.Shape[3];
        rows = n * h * w;
        cols = 4 * c;
        col = new T[rows * cols];
        if (x.Grad != null) dcol = new T[rows * cols];
    }

    public override string Name => "Conv2x2Same";

    public override void Forward()
    {
        ReadOnlySpan<T> xs = x.Value.Span;
        Span<T> cs = col;
        for (int bn = 0; bn < n; bn++)
        {
            for (int i = 0; i < h; i++)
            {
                for (int j = 0; j < w; j++)
                {
                    Span<T> row = cs.Slice(((bn * h + i) * w + j) * cols, cols);
                    for (int di = 0; di < 2; di++)
                    {
                        for (int dj = 0; dj < 2; dj++)
                        {
                            Span<T> dst = row.Slice((di * 2 + dj) * c, c);
                            if (i + di < h && j + dj < w) xs.Slice(((bn * h + i + di) * w + j + dj) * c, c).CopyTo(dst);
                            else dst.Clear();
                        }
                    }
                }
            }
        }

        Span<T> y = Out.Value.Span;
        ReadOnlySpan<T> bias = b.Value.Span;
        for (int r = 0; r < rows; r++) bias.CopyTo(y.Slice(r * f, f));
        Blas.Gemm(false, false, rows, f, cols, T.One, col, cols, k.Value.Span, f, T.One, y, f);
    }

    public override void Backward()
    {
        ReadOnlySpan<T> dy = Out.Grad!.Span;
        if (k.Grad is { } dk)
        {
            Blas.Gemm(true, false, cols, f, rows, T.One, col, cols, dy, f, T.One, dk.Span, f);
        }

        if (b.Grad is { } db)
        {
            Span<T> g = db.Span;
            for (int r = 0; r < rows; r++) TP.Add(g, dy.Slice(r * f, f), g);
        }

        if (x.Grad is { } dxT)
        {
            Span<T> dc = dcol;
            Blas.Gemm(false, true, rows, cols, f, T.One, dy, f, k.Value.Span, f, T.Zero, dc, cols);
            Span<T> dx = dxT.Span;
            for (int bn = 0; bn < n; bn++)
            {
                for (int i = 0; i < h; i++)
                {
                    for (int j = 0; j < w; j++)
                    {
                        ReadOnlySpan<T> row = dc.Slice(((bn * h + i) * w + j) * cols, cols);
                        for (int di = 0; di < 2 && i + di < h; di++)
                        {
                            for (int dj = 0; dj < 2 && j + dj < w; dj++)
                            {
                                Span<T> dst = dx.Slice(((bn * h + i + di) * w + j + dj) * c, c);
                                TP.Add(dst, row.Slice((di * 2 + dj) * c, c), dst);
                            }
                        }
                    }
                }
            }
        }
    }
}
