using System.Numerics;
using Optim4RL.Tensors;

namespace Optim4RL.Autodiff;

/// <summary>
/// A static reverse-mode computation graph: built once (every buffer allocated then), executed
/// many times by <see cref="Forward()"/> and <see cref="Backward"/> with no allocation. Ops run in
/// creation order; each node's <see cref="Node{T}.Index"/> is its op's position in that order.
/// </summary>
/// <remarks>
/// Not thread-safe and needs no locking: one thread uses a graph at a time. Graphs share no
/// mutable state with each other, although several graphs may view different slices of the same
/// θ and gradient arrays through <see cref="Parameter"/>. Callers that run many agents of one
/// network keep one graph per worker thread and point it at each agent's slice in turn
/// (<see cref="MoveParameters"/>): every buffer but the parameters is rewritten by each
/// forward/backward pass, so nothing of one agent's pass reaches the next one's results.
/// Typical use: fill <see cref="Input"/> values, <c>Forward()</c>, read outputs, zero the
/// gradient vector, <c>Backward(loss)</c>. <see cref="Forward(int, int)"/> runs a sub-range, e.g.
/// only the loss ops after filling targets computed from the network's outputs.
/// </remarks>
/// <typeparam name="T"><c>float</c> in production, <c>double</c> in gradient tests.</typeparam>
public sealed class Graph<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Op<T>> ops = [];
    private readonly List<Node<T>> nodes = [];
    private readonly List<Tensor<T>> gradsToZero = [];
    private readonly List<Tensor<T>> parameterViews = []; // values and gradients of parameters and of views of them

    /// <summary>Number of ops (= nodes), inputs and parameters included.</summary>
    public int Count => ops.Count;

    /// <summary>The nodes in execution order (<c>Nodes[i].Index == i</c>).</summary>
    public IReadOnlyList<Node<T>> Nodes => nodes;

    // ---------------------------------------------------------------- leaves

    /// <summary>
    /// A constant input of the given shape (zero-filled) that the caller writes through
    /// <c>node.Value.Span</c> before <see cref="Forward()"/>. It has no gradient.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public Node<T> Input(params int[] shape) => Add(new NoOp<T>("Input"), new Tensor<T>(shape), null, false);

    /// <summary>
    /// A trainable parameter: its value is a view of <paramref name="theta"/> and its gradient a
    /// view of <paramref name="grad"/>, both starting at <paramref name="offset"/> and spanning
    /// the shape's element count. <see cref="Backward"/> ACCUMULATES into the gradient view; the
    /// caller zeroes its gradient vector before each backward pass.
    /// </summary>
    /// <exception cref="ArgumentException">The view does not fit in <paramref name="theta"/> or <paramref name="grad"/>.</exception>
    public Node<T> Parameter(T[] theta, T[] grad, int offset, params int[] shape) =>
        Add(new NoOp<T>("Parameter"), new Tensor<T>(theta, offset, shape), new Tensor<T>(grad, offset, shape), true);

    /// <summary>An index buffer of <paramref name="length"/> ints, filled by the caller before each forward, for <see cref="Gather"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative.</exception>
    public int[] IndexInput(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new int[length];
    }

    // ---------------------------------------------------------------- layers

    /// <summary>Dense layer y = x·W + b: x [N, in], W [in, out], b [out] → [N, out] (one GEMM).</summary>
    /// <exception cref="ArgumentException">The shapes do not match (the message names them).</exception>
    public Node<T> Dense(Node<T> x, Node<T> w, Node<T> b)
    {
        Own(x, w, b);
        if (x.Shape.Length != 2 || w.Shape.Length != 2 || b.Shape.Length != 1 || x.Shape[1] != w.Shape[0] || b.Shape[0] != w.Shape[1])
        {
            throw new ArgumentException($"Dense expects x [N, in], w [in, out], b [out]; got x {S(x)}, w {S(w)}, b {S(b)}.");
        }

        return AddComputed(new DenseOp<T>(x, w, b), [x.Shape[0], w.Shape[1]], x, w, b);
    }

    /// <summary>
    /// 2×2 convolution, stride 1, "same" padding (docs/networks.md): x [N, H, W, C] (channels last),
    /// k [2, 2, C, F], b [F] → [N, H, W, F], with
    /// y[n,i,j,f] = b[f] + Σ_{di,dj∈{0,1}} Σ_c x[n,i+di,j+dj,c]·k[di,dj,c,f] and x = 0 outside the
    /// input, i.e. the one row and column of padding go after (bottom and right), as in
    /// TensorFlow/flax "SAME". Computed as im2col + GEMM.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not match (the message names them).</exception>
    public Node<T> Conv2x2Same(Node<T> x, Node<T> k, Node<T> b)
    {
        Own(x, k, b);
        if (x.Shape.Length != 4 || k.Shape.Length != 4 || b.Shape.Length != 1 || k.Shape[0] != 2 || k.Shape[1] != 2
            || k.Shape[2] != x.Shape[3] || b.Shape[0] != k.Shape[3])
        {
            throw new ArgumentException($"Conv2x2Same expects x [N, H, W, C], k [2, 2, C, F], b [F]; got x {S(x)}, k {S(k)}, b {S(b)}.");
        }

        return AddComputed(new Conv2x2SameOp<T>(x, k, b), [x.Shape[0], x.Shape[1], x.Shape[2], k.Shape[3]], x, k, b);
    }

    /// <summary>
    /// Reorders the axes after the first: output axis i is input axis <paramref name="axes"/>[i]
    /// (NumPy's transpose convention), and <c>axes[0]</c> must be 0 so each sample (row of the
    /// first axis) maps to itself and the op is row-separable. E.g. <c>Permute(x, 0, 3, 1, 2)</c>
    /// turns [N, H, W, C] into [N, C, H, W]. The values are copied (not a view); the backward pass
    /// adds the output gradient back at the source positions.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="axes"/> is not a permutation of x's axes that keeps axis 0 first.</exception>
    public Node<T> Permute(Node<T> x, params int[] axes)
    {
        Own(x);
        ArgumentNullException.ThrowIfNull(axes);
        int rank = x.Shape.Length;
        bool valid = rank > 0 && axes.Length == rank && axes[0] == 0
            && axes.All(a => a >= 0 && a < rank) && axes.Distinct().Count() == rank;
        if (!valid)
        {
            throw new ArgumentException($"Permute needs a permutation of the {rank} axes of {S(x)} that keeps axis 0 first; got ({string.Join(", ", axes)}).", nameof(axes));
        }

        int[] shape = new int[rank];
        for (int i = 0; i < rank; i++) shape[i] = x.Shape[axes[i]];
        return AddComputed(new PermuteOp<T>(x, axes), shape, x);
    }

    // ---------------------------------------------------------------- elementwise

    /// <summary>max(x, 0) elementwise (gradient 0 at x ≤ 0). Same shape as x.</summary>
    public Node<T> Relu(Node<T> x) => Unary(x, UnaryKind.Relu, T.Zero);

    /// <summary>tanh(x) elementwise. Same shape as x.</summary>
    public Node<T> Tanh(Node<T> x) => Unary(x, UnaryKind.Tanh, T.Zero);

    /// <summary>σ(x) = 1 / (1 + e^−x) elementwise. Same shape as x.</summary>
    public Node<T> Sigmoid(Node<T> x) => Unary(x, UnaryKind.Sigmoid, T.Zero);

    /// <summary>e^x elementwise. Same shape as x.</summary>
    public Node<T> Exp(Node<T> x) => Unary(x, UnaryKind.Exp, T.Zero);

    /// <summary>SiLU / swish, x·σ(x), elementwise. Same shape as x.</summary>
    public Node<T> Silu(Node<T> x) => Unary(x, UnaryKind.Silu, T.Zero);

    /// <summary>softplus(x) = log(1 + e^x), computed stably as max(x, 0) + log1p(e^−|x|). Same shape as x.</summary>
    public Node<T> Softplus(Node<T> x) => Unary(x, UnaryKind.Softplus, T.Zero);

    /// <summary>x² elementwise. Same shape as x.</summary>
    public Node<T> Square(Node<T> x) => Unary(x, UnaryKind.Square, T.Zero);

    /// <summary>c·x elementwise for a constant c fixed at build time. Same shape as x.</summary>
    public Node<T> Scale(Node<T> x, T c) => Unary(x, UnaryKind.Scale, c);

    /// <summary>x + c elementwise for a constant c fixed at build time. Same shape as x.</summary>
    public Node<T> AddScalar(Node<T> x, T c) => Unary(x, UnaryKind.AddScalar, c);

    /// <summary>a + b elementwise; a and b must have the same shape.</summary>
    /// <exception cref="ArgumentException">The shapes differ (the message names both).</exception>
    public Node<T> Add(Node<T> a, Node<T> b) => Binary(a, b, BinaryKind.Add);

    /// <summary>a − b elementwise; a and b must have the same shape.</summary>
    /// <exception cref="ArgumentException">The shapes differ (the message names both).</exception>
    public Node<T> Sub(Node<T> a, Node<T> b) => Binary(a, b, BinaryKind.Sub);

    /// <summary>a · b elementwise; a and b must have the same shape.</summary>
    /// <exception cref="ArgumentException">The shapes differ (the message names both).</exception>
    public Node<T> Mul(Node<T> a, Node<T> b) => Binary(a, b, BinaryKind.Mul);

    // ---------------------------------------------------------------- distributions and reductions

    /// <summary>Row-wise log-softmax, x [N, A] → [N, A], stable (max subtracted first).</summary>
    /// <exception cref="ArgumentException">x is not of rank 2.</exception>
    public Node<T> LogSoftmax(Node<T> x)
    {
        Own(x);
        if (x.Shape.Length != 2) throw new ArgumentException($"LogSoftmax expects [N, A]; got {S(x)}.", nameof(x));
        return AddComputed(new LogSoftmaxOp<T>(x), [x.Shape[0], x.Shape[1]], x);
    }

    /// <summary>Categorical entropy from log-probabilities: logp [N, A] → [N], H = −Σ_a e^logp · logp.</summary>
    /// <exception cref="ArgumentException">logp is not of rank 2.</exception>
    public Node<T> Entropy(Node<T> logp)
    {
        Own(logp);
        if (logp.Shape.Length != 2) throw new ArgumentException($"Entropy expects log-probabilities [N, A]; got {S(logp)}.", nameof(logp));
        return AddComputed(new EntropyOp<T>(logp), [logp.Shape[0]], logp);
    }

    /// <summary>
    /// y[n] = x[n, idx[n]]: x [N, A] → [N]. <paramref name="idx"/> (length N, from
    /// <see cref="IndexInput"/> or any array) is read at every forward/backward, so the caller
    /// refills it in place. An index outside [0, A) throws <see cref="ArgumentOutOfRangeException"/> then.
    /// </summary>
    /// <exception cref="ArgumentException">x is not of rank 2 or idx's length is not N.</exception>
    public Node<T> Gather(Node<T> x, int[] idx)
    {
        Own(x);
        ArgumentNullException.ThrowIfNull(idx);
        if (x.Shape.Length != 2 || idx.Length != x.Shape[0])
        {
            throw new ArgumentException($"Gather expects x [N, A] and N indices; got x {S(x)} and {idx.Length} indices.");
        }

        return AddComputed(new GatherOp<T>(x, idx), [x.Shape[0]], x);
    }

    /// <summary>The mean of all elements of x → [1].</summary>
    public Node<T> Mean(Node<T> x)
    {
        Own(x);
        return AddComputed(new ReduceOp<T>(x, true), [1], x);
    }

    /// <summary>The sum of all elements of x → [1].</summary>
    public Node<T> Sum(Node<T> x)
    {
        Own(x);
        return AddComputed(new ReduceOp<T>(x, false), [1], x);
    }

    // ---------------------------------------------------------------- views

    /// <summary>
    /// Rows [start, start + count) of the first axis: x [N, ...] → [count, ...]. A view sharing
    /// x's value and gradient buffers (nothing is computed or copied).
    /// </summary>
    /// <exception cref="ArgumentException">x is a scalar-shaped node or the range is outside [0, N).</exception>
    public Node<T> SliceRows(Node<T> x, int start, int count)
    {
        Own(x);
        if (x.Shape.Length == 0 || start < 0 || count < 0 || start + count > x.Shape[0])
        {
            throw new ArgumentException($"SliceRows({start}, {count}) is outside the first axis of {S(x)}.");
        }

        int[] shape = (int[])x.Shape.Clone();
        shape[0] = count;
        int rowLength = x.Shape[0] == 0 ? 0 : x.Value.Length / x.Shape[0];
        return AddView("SliceRows", x, start * rowLength, shape);
    }

    /// <summary>
    /// The same elements in a new shape (row-major order kept): a view sharing x's value and
    /// gradient buffers. One dimension may be −1, inferred from the others.
    /// </summary>
    /// <exception cref="ArgumentException">The element counts differ (the message names both shapes).</exception>
    public Node<T> Reshape(Node<T> x, params int[] shape)
    {
        Own(x);
        int[] s = (int[])shape.Clone();
        int infer = Array.IndexOf(s, -1);
        if (infer >= 0)
        {
            s[infer] = 1;
            int rest = Tensor.ElementCount(s);
            if (rest == 0 || x.Value.Length % rest != 0)
            {
                throw new ArgumentException($"Cannot reshape {S(x)} to {Tensor.ShapeString(shape)}.", nameof(shape));
            }

            s[infer] = x.Value.Length / rest;
        }

        if (Tensor.ElementCount(s) != x.Value.Length)
        {
            throw new ArgumentException($"Cannot reshape {S(x)} ({x.Value.Length} elements) to {Tensor.ShapeString(shape)}.", nameof(shape));
        }

        return AddView("Reshape", x, 0, s);
    }

    /// <summary>[N, d1, d2, …] → [N, d1·d2·…] (a <see cref="Reshape"/> view).</summary>
    /// <exception cref="ArgumentException">x has rank 0.</exception>
    public Node<T> Flatten(Node<T> x)
    {
        Own(x);
        if (x.Shape.Length == 0) throw new ArgumentException("Flatten needs a leading batch axis.", nameof(x));
        int rest = 1;
        for (int i = 1; i < x.Shape.Length; i++) rest *= x.Shape[i];
        return AddView("Flatten", x, 0, [x.Shape[0], rest]);
    }

    // ---------------------------------------------------------------- execution

    /// <summary>Runs every op's forward pass in creation order.</summary>
    public void Forward() => Forward(0, ops.Count);

    /// <summary>Runs the forward pass of the ops with <see cref="Node{T}.Index"/> in [from, to).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside [0, <see cref="Count"/>].</exception>
    public void Forward(int from, int to)
    {
        if (from < 0 || to > ops.Count || from > to) throw new ArgumentOutOfRangeException(nameof(from), $"Range [{from}, {to}) is outside [0, {ops.Count}].");
        for (int i = from; i < to; i++) ops[i].Forward();
    }

    /// <summary>
    /// Runs the forward pass of ops [from, to) for the rows [start, start + count) of the first axis
    /// only — e.g. one time step of a rollout through a network built for all T + 1 steps, so the
    /// rollout's forward passes fill the activations the loss needs. Every node in the range must
    /// share the same first axis (rows = samples), and every op must be row-separable (Dense,
    /// Conv2x2Same, Permute, elementwise ops, inputs, parameters, reshapes that keep the first axis).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The op range or the row block is out of bounds.</exception>
    /// <exception cref="NotSupportedException">An op in the range mixes rows (e.g. a reduction).</exception>
    public void ForwardRows(int from, int to, int start, int count)
    {
        if (from < 0 || to > ops.Count || from > to) throw new ArgumentOutOfRangeException(nameof(from), $"Range [{from}, {to}) is outside [0, {ops.Count}].");
        for (int i = from; i < to; i++)
        {
            Node<T> node = nodes[i];
            if (node.Kind is "Parameter" || node.Shape.Length == 0) continue;
            if (!ops[i].RowSeparable) throw new NotSupportedException($"Op {i} ({ops[i].Name}) does not compute rows independently.");
            if (start < 0 || count < 0 || start + count > node.Shape[0])
                throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside node {i} ({node.Kind}) with {node.Shape[0]} rows.");
            ops[i].ForwardRows(start, count);
        }
    }

    /// <summary>
    /// Reverse pass from a scalar loss: zeroes every non-parameter gradient buffer, sets
    /// ∂loss/∂loss = 1, and runs the ops up to the loss's in reverse order. Parameter gradients
    /// ACCUMULATE into the caller's gradient vector. Needs the forward values of those ops.
    /// </summary>
    /// <exception cref="ArgumentException">The loss is not of shape [1], belongs to another graph, or depends on no parameter.</exception>
    public void Backward(Node<T> loss)
    {
        Own(loss);
        if (loss.Shape.Length != 1 || loss.Shape[0] != 1) throw new ArgumentException($"The loss must have shape [1]; got {S(loss)}.", nameof(loss));
        if (loss.Grad is null) throw new ArgumentException("The loss depends on no parameter, so it has no gradient.", nameof(loss));
        foreach (Tensor<T> g in gradsToZero) g.Span.Clear();
        loss.Grad.Span[0] = T.One;
        for (int i = loss.Index; i >= 0; i--)
        {
            if (nodes[i].Grad != null) ops[i].Backward();
        }
    }

    /// <summary>
    /// Moves every parameter's value and gradient views (and every view of them, e.g. a reshaped parameter)
    /// by <paramref name="delta"/> elements within their θ and gradient arrays: the graph then computes with
    /// the parameters at the new place, e.g. another agent's slice of one shared [B·P] θ. All other buffers
    /// stay as they are; each forward and backward pass rewrites them. Costs O(number of parameters), not of elements.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A moved view would leave its array; nothing is moved then.</exception>
    internal void MoveParameters(int delta)
    {
        if (delta == 0) return;
        foreach (Tensor<T> t in parameterViews)
        {
            if (!t.Fits((long)t.Offset + delta))
            {
                throw new ArgumentOutOfRangeException(nameof(delta), delta,
                    $"Moving the parameters by {delta} puts a view of {t.Length} elements at offset {(long)t.Offset + delta}, outside its array of {t.Data.Length}.");
            }
        }

        foreach (Tensor<T> t in parameterViews) t.MoveTo(t.Offset + delta);
    }

    // ---------------------------------------------------------------- helpers

    private Node<T> Unary(Node<T> x, UnaryKind kind, T c)
    {
        Own(x);
        return AddComputed(new UnaryOp<T>(x, kind, c), (int[])x.Shape.Clone(), x);
    }

    private Node<T> Binary(Node<T> a, Node<T> b, BinaryKind kind)
    {
        Own(a, b);
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape))
        {
            throw new ArgumentException($"{kind} expects two tensors of the same shape; got {S(a)} and {S(b)}.");
        }

        return AddComputed(new BinaryOp<T>(a, b, kind), (int[])a.Shape.Clone(), a, b);
    }

    private Node<T> AddComputed(Op<T> op, int[] shape, params Node<T>[] inputs)
    {
        bool needsGrad = false;
        foreach (Node<T> i in inputs) needsGrad |= i.Grad != null;
        return Add(op, new Tensor<T>(shape), needsGrad ? new Tensor<T>(shape) : null, false);
    }

    private Node<T> AddView(string name, Node<T> x, int offset, int[] shape)
    {
        var value = new Tensor<T>(x.Value.Data, x.Value.Offset + offset, shape);
        Tensor<T>? grad = x.Grad is null ? null : new Tensor<T>(x.Grad.Data, x.Grad.Offset + offset, shape);
        return Add(new NoOp<T>(name), value, grad, x.GradIsParameter);
    }

    private Node<T> Add(Op<T> op, Tensor<T> value, Tensor<T>? grad, bool gradIsParameter)
    {
        var node = new Node<T>(this, ops.Count, op, value, grad, gradIsParameter);
        op.Out = node;
        ops.Add(op);
        nodes.Add(node);
        if (grad != null && !gradIsParameter) gradsToZero.Add(grad);
        if (gradIsParameter)
        {
            // A parameter or a view of one: its value views θ and its gradient ∇θ.
            parameterViews.Add(value);
            parameterViews.Add(grad!);
        }

        return node;
    }

    private void Own(params ReadOnlySpan<Node<T>> xs)
    {
        foreach (Node<T> x in xs)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (x.Graph != this) throw new ArgumentException($"Node {x} belongs to another graph.");
        }
    }

    private static string S(Node<T> x) => Tensor.ShapeString(x.Shape);
}
