using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Optim4RL.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Autodiff;

/// <summary>y[N,out] = x[N,in]·W[in,out] + b[out], one GEMM each way.</summary>
internal sealed class DenseOp<T>(Node<T> x, Node<T> w, Node<T> b) : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int n = x.Shape[0], nIn = w.Shape[0], nOut = w.Shape[1];
    private readonly T[] biasScratch = ColumnSums.Scratch<T>(x.Shape[0], w.Shape[1]);

    public override string Name => "Dense";

    public override void Forward() => ForwardRows(0, n);

    public override bool RowSeparable => true;

    public override void ForwardRows(int start, int count)
    {
        Span<T> y = Out.Value.Span.Slice(start * nOut, count * nOut);
        ColumnSums.BroadcastRows(b.Value.Span, y, count);
        Blas.Gemm(false, false, count, nOut, nIn, T.One, x.Value.Span.Slice(start * nIn, count * nIn), nIn, w.Value.Span, nOut, T.One, y, nOut);
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

        if (b.Grad is { } db) ColumnSums.Accumulate(dy, n, nOut, db.Span, biasScratch);
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
    private readonly T[] biasScratch;

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
        biasScratch = ColumnSums.Scratch<T>(rows, f);
    }

    public override string Name => "Conv2x2Same";

    public override void Forward() => ForwardRows(0, n);

    public override bool RowSeparable => true;

    /// <summary>Samples [start, start + count): their im2col rows, then one GEMM over them.</summary>
    public override void ForwardRows(int start, int count)
    {
        // im2col: row (n,i,j) = [x[n,i,j,:], x[n,i,j+1,:], x[n,i+1,j,:], x[n,i+1,j+1,:]], zeros past the edge.
        ref T xr = ref MemoryMarshal.GetReference(x.Value.Span);
        ref T cr = ref MemoryMarshal.GetArrayDataReference(col);
        int r = start * h * w;
        for (int bn = start; bn < start + count; bn++)
        {
            for (int i = 0; i < h; i++)
            {
                for (int j = 0; j < w; j++, r++)
                {
                    ref T dst = ref Unsafe.Add(ref cr, r * cols);
                    for (int di = 0; di < 2; di++)
                    {
                        ref T d = ref Unsafe.Add(ref dst, di * 2 * c);
                        if (i + di >= h)
                        {
                            for (int q = 0; q < 2 * c; q++) Unsafe.Add(ref d, q) = T.Zero;
                            continue;
                        }

                        // x[n,i+di,j,:] and x[n,i+di,j+1,:] are adjacent in memory.
                        ref T src = ref Unsafe.Add(ref xr, ((bn * h + i + di) * w + j) * c);
                        int len = j + 1 < w ? 2 * c : c;
                        for (int q = 0; q < len; q++) Unsafe.Add(ref d, q) = Unsafe.Add(ref src, q);
                        for (int q = len; q < 2 * c; q++) Unsafe.Add(ref d, q) = T.Zero;
                    }
                }
            }
        }

        int first = start * h * w, blockRows = count * h * w;
        Span<T> y = Out.Value.Span.Slice(first * f, blockRows * f);
        ColumnSums.BroadcastRows(b.Value.Span, y, blockRows);
        Blas.Gemm(false, false, blockRows, f, cols, T.One, col.AsSpan(first * cols, blockRows * cols), cols, k.Value.Span, f, T.One, y, f);
    }

    public override void Backward()
    {
        ReadOnlySpan<T> dy = Out.Grad!.Span;
        if (k.Grad is { } dk)
        {
            Blas.Gemm(true, false, cols, f, rows, T.One, col, cols, dy, f, T.One, dk.Span, f);
        }

        if (b.Grad is { } db) ColumnSums.Accumulate(dy, rows, f, db.Span, biasScratch);

        if (x.Grad is { } dxT)
        {
            Span<T> dc = dcol;
            Blas.Gemm(false, true, rows, cols, f, T.One, dy, f, k.Value.Span, f, T.Zero, dc, cols);
            ref T dxr = ref MemoryMarshal.GetReference(dxT.Span);
            ref T dr = ref MemoryMarshal.GetArrayDataReference(dcol!);
            int r = 0;
            for (int bn = 0; bn < n; bn++)
            {
                for (int i = 0; i < h; i++)
                {
                    for (int j = 0; j < w; j++, r++)
                    {
                        ref T row = ref Unsafe.Add(ref dr, r * cols);
                        for (int di = 0; di < 2 && i + di < h; di++)
                        {
                            ref T src = ref Unsafe.Add(ref row, di * 2 * c);
                            ref T dst = ref Unsafe.Add(ref dxr, ((bn * h + i + di) * w + j) * c);
                            int len = j + 1 < w ? 2 * c : c;
                            for (int q = 0; q < len; q++) Unsafe.Add(ref dst, q) += Unsafe.Add(ref src, q);
                        }
                    }
                }
            }
        }
    }
}

/// <summary>
/// Axis permutation that keeps the first axis: y[n, …] = x[n, …] with the per-sample axes
/// reordered (output axis i is input axis axes[i]). A precomputed gather map of one sample's
/// length S gives, for each output position, its input position, so the forward pass is a
/// gather and the backward pass the matching scatter-add.
/// </summary>
internal sealed class PermuteOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Node<T> x;
    private readonly int n, sample;
    private readonly int[] source;

    public PermuteOp(Node<T> x, int[] axes)
    {
        this.x = x;
        int rank = x.Shape.Length;
        n = x.Shape[0];
        sample = 1;
        for (int i = 1; i < rank; i++) sample *= x.Shape[i];

        // Row-major strides of the input, then walk the output positions in order.
        int[] inStride = new int[rank];
        int stride = 1;
        for (int i = rank - 1; i >= 1; i--)
        {
            inStride[i] = stride;
            stride *= x.Shape[i];
        }

        int[] outShape = new int[rank];
        for (int i = 0; i < rank; i++) outShape[i] = x.Shape[axes[i]];
        int[] coord = new int[rank];
        source = new int[sample];
        for (int o = 0; o < sample; o++)
        {
            int src = 0;
            for (int i = 1; i < rank; i++) src += coord[i] * inStride[axes[i]];
            source[o] = src;
            for (int i = rank - 1; i >= 1; i--)
            {
                if (++coord[i] < outShape[i]) break;
                coord[i] = 0;
            }
        }
    }

    public override string Name => "Permute";

    public override void Forward() => ForwardRows(0, n);

    public override bool RowSeparable => true;

    public override void ForwardRows(int start, int count)
    {
        ReadOnlySpan<T> xs = x.Value.Span;
        Span<T> ys = Out.Value.Span;
        int[] map = source;
        for (int bn = start; bn < start + count; bn++)
        {
            ReadOnlySpan<T> xi = xs.Slice(bn * sample, sample);
            Span<T> yi = ys.Slice(bn * sample, sample);
            for (int o = 0; o < yi.Length; o++) yi[o] = xi[map[o]];
        }
    }

    public override void Backward()
    {
        if (x.Grad is not { } dxT) return;
        ReadOnlySpan<T> dy = Out.Grad!.Span;
        Span<T> dx = dxT.Span;
        int[] map = source;
        for (int bn = 0; bn < n; bn++)
        {
            ReadOnlySpan<T> dyi = dy.Slice(bn * sample, sample);
            Span<T> dxi = dx.Slice(bn * sample, sample);
            for (int o = 0; o < dyi.Length; o++) dxi[map[o]] += dyi[o];
        }
    }
}

/// <summary>db[j] += Σ_r dy[r, j], vectorised over blocks of rows.</summary>
internal static class ColumnSums
{
    private const int BlockRows = 64;

    /// <summary>A scratch buffer for <see cref="Accumulate{T}"/> (BlockRows·cols, or empty when rows are few).</summary>
    public static T[] Scratch<T>(int rows, int cols) => rows >= 2 * BlockRows ? new T[BlockRows * cols] : [];

    /// <summary>Fills each of the <paramref name="rows"/> rows of y with <paramref name="bias"/> (copy doubling).</summary>
    public static void BroadcastRows<T>(ReadOnlySpan<T> bias, Span<T> y, int rows)
    {
        int cols = bias.Length;
        if (rows == 0 || cols == 0) return;
        bias.CopyTo(y);
        int done = 1;
        while (done < rows)
        {
            int m = Math.Min(done, rows - done);
            y[..(m * cols)].CopyTo(y.Slice(done * cols, m * cols));
            done += m;
        }
    }

    public static void Accumulate<T>(ReadOnlySpan<T> dy, int rows, int cols, Span<T> db, T[] scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int r = 0;
        if (scratch.Length > 0)
        {
            // Add whole blocks of BlockRows rows elementwise, then fold the block's rows.
            int block = BlockRows * cols;
            Span<T> acc = scratch.AsSpan(0, block);
            dy[..block].CopyTo(acc);
            for (r = BlockRows; r + BlockRows <= rows; r += BlockRows) TP.Add(acc, dy.Slice(r * cols, block), acc);
            for (int q = 0; q < BlockRows; q++) TP.Add(db, acc.Slice(q * cols, cols), db);
        }

        for (; r < rows; r++) TP.Add(db, dy.Slice(r * cols, cols), db);
    }
}
