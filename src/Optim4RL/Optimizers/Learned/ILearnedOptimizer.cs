using Optim4RL.Tensors;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// A coordinate-wise learned optimizer (docs/algorithms.md, "Learned optimizers"): one small network with meta-parameters φ
/// runs independently on every coordinate of θ, each coordinate keeping its own recurrent
/// state. This is the kernel interface used by meta-training; agents use it through
/// <c>LearnedOptimizer</c>, an ordinary <see cref="IOptimizer"/>.
/// </summary>
/// <remarks>
/// <para>Layout: a batch of N coordinates (all agents' θ of one task, concatenated). The
/// recurrent state is structure-of-arrays, shape [<see cref="StateSize"/>, N]: state unit s of
/// coordinate n is at <c>state[s·N + n]</c>, so SIMD runs over contiguous coordinates.</para>
/// <para>The gradient g is a constant with respect to φ, and callers clip it (grad_clip)
/// before the call. Δθ = α · f(φ; h, g).</para>
/// <para>The overloads taking a <see cref="StateSpan"/> accept the state in another storage type
/// (<see cref="Supports"/>: bfloat16 for the GRU-based kernels) and can read the state from one
/// buffer and write it to another, which lets meta-training keep h_0 without copying it.</para>
/// </remarks>
public interface ILearnedOptimizer
{
    /// <summary>The architecture's name as written in configs and φ files, e.g. <c>Optim4RL</c>.</summary>
    string Name { get; }

    /// <summary>Recurrent hidden size H of each cell (8 in the paper); for an MLP optimizer (STAR), its hidden width.</summary>
    int HiddenSize { get; }

    /// <summary>Floats of recurrent state per coordinate (2·H for Optim4RL); zero at init, as after a pipeline reset.</summary>
    int StateSize { get; }

    /// <summary>The names and shapes of the arrays packed into φ, in packing order.</summary>
    MetaParamLayout Layout { get; }

    /// <summary>
    /// The most threads one call may use (null: all cores), read at the start of every call. The
    /// CLI's <c>--threads</c> reaches every kernel through this property. Results are bitwise
    /// identical for every value, and one instance may serve several threads at once.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value below 1.</exception>
    int? MaxDegreeOfParallelism { get; set; }

    /// <summary>Fills <paramref name="phi"/> (length <c>Layout.Count</c>) with the architecture's initial values.</summary>
    void InitMetaParams(ref Rng rng, Span<float> phi);

    /// <summary>
    /// One optimizer step over N coordinates: reads g (shape [N]) and the state (shape
    /// [StateSize, N]), writes Δθ (shape [N]) and the new state in place. Allocates nothing.
    /// </summary>
    void Step(ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads, Span<float> updates, float learningRate);

    /// <summary>
    /// The meta-gradient of K consecutive steps (docs/algorithms.md, "The meta-gradient without
    /// second-order derivatives"): with the same adjoint λ = ∂L/∂θ_K applied to every step's
    /// output Δ_k, accumulates Σ_k (dΔ_k/dφ)ᵀ λ — through the recurrent states — into
    /// <paramref name="metaGrad"/> (added to, not overwritten).
    /// </summary>
    /// <param name="phi">φ, length Layout.Count.</param>
    /// <param name="state0">The state before step 0, shape [StateSize, N]; not modified.</param>
    /// <param name="grads">The K gradients fed to the steps, shape [K, N].</param>
    /// <param name="steps">K, the number of consecutive steps.</param>
    /// <param name="adjoint">λ, shape [N].</param>
    /// <param name="learningRate">α used in the forward steps.</param>
    /// <param name="metaGrad">Accumulates dL/dφ, length Layout.Count.</param>
    void MetaGradient(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad);

    /// <summary>
    /// As <see cref="Step"/>, for N coordinates that are N / <paramref name="groupSize"/>
    /// consecutive parameter vectors of <paramref name="groupSize"/> coordinates each (one agent's θ
    /// each, as MetaA2C lays out a task's agents); <see cref="Step"/> treats all N coordinates as one
    /// vector. Architectures whose update couples the coordinates of one parameter vector (STAR
    /// normalises its input features over it) compute with the grouping; for all, the kernel's
    /// chunks never straddle two vectors (each vector is split at fixed offsets 0, 4096, … from its
    /// own start), so per-chunk partial sums belong to one agent and are combined in a fixed order.
    /// Throws <see cref="ArgumentException"/> when a span has the wrong length or N is not a
    /// multiple of a positive <paramref name="groupSize"/>. This default implementation, for
    /// architectures without a grouped kernel, ignores the grouping.
    /// </summary>
    void StepGrouped(ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads, Span<float> updates, float learningRate, int groupSize) =>
        Step(phi, state, grads, updates, learningRate);

    /// <summary>
    /// As <see cref="MetaGradient"/>, with the N coordinates grouped into parameter vectors of
    /// <paramref name="groupSize"/> coordinates as in <see cref="StepGrouped(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, Span{float}, float, int)"/> (so its chunks, and
    /// the order of its sums, are agent-aligned). Throws <see cref="ArgumentException"/> as
    /// <see cref="MetaGradient"/> does and when N is not a multiple of a positive
    /// <paramref name="groupSize"/>. This default implementation ignores the grouping.
    /// </summary>
    void MetaGradientGrouped(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize) =>
        MetaGradient(phi, state0, grads, steps, adjoint, learningRate, metaGrad);

    /// <summary>Whether the state-generic calls accept a state stored as <paramref name="dtype"/> (float32: always).</summary>
    bool Supports(StateDtype dtype) => dtype == StateDtype.Float32;

    /// <summary>
    /// As <see cref="StepGrouped(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, Span{float}, float, int)"/>,
    /// reading the state from <paramref name="from"/> and writing the new state to <paramref name="to"/>:
    /// the same state for a step in place, or a buffer that does not overlap it (then
    /// <paramref name="from"/> is left unchanged). Both have one storage type (<see cref="Supports"/>);
    /// a bfloat16 state is widened exactly, the step computed in float32 and the new state rounded to
    /// nearest, ties to even, so the step equals the float32 step applied to the widened state, with
    /// its new state rounded.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length, the grouping does not fit, or the states differ in type or partly overlap.</exception>
    /// <exception cref="NotSupportedException">The storage type is not supported.</exception>
    void StepGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates, float learningRate, int groupSize);

    /// <summary>
    /// One inner update of meta-training: g = clip(<paramref name="grads"/>, −c, c) for
    /// c = <paramref name="gradClip"/> &gt; 0 (else g = the gradients) written to
    /// <paramref name="clippedGrads"/> (which may be the gradients themselves), one step from
    /// <paramref name="from"/> to <paramref name="to"/> as in
    /// <see cref="StepGrouped(ReadOnlySpan{float}, StateSpan, StateSpan, ReadOnlySpan{float}, Span{float}, float, int)"/>,
    /// and θ += Δ into <paramref name="theta"/>. The coordinate-wise kernels do all three in one pass
    /// over memory; the results are bit-identical to the three run one after the other, as this
    /// default implementation does.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length or overlaps another, or the grouping does not fit.</exception>
    /// <exception cref="NotSupportedException">The storage type is not supported.</exception>
    void UpdateGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, float gradClip, Span<float> clippedGrads,
        Span<float> theta, float learningRate, int groupSize)
    {
        if (clippedGrads.Length != grads.Length || theta.Length != grads.Length)
            throw new ArgumentException($"clippedGrads and theta must have N = {grads.Length} elements, got {clippedGrads.Length} and {theta.Length}.", nameof(theta));
        ClipElementwise.Into(grads, clippedGrads, gradClip);
        float[] updates = System.Buffers.ArrayPool<float>.Shared.Rent(grads.Length);
        try
        {
            var u = updates.AsSpan(0, grads.Length);
            StepGrouped(phi, from, to, clippedGrads, u, learningRate, groupSize);
            System.Numerics.Tensors.TensorPrimitives.Add(theta, u, theta);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(updates);
        }
    }

    /// <summary>
    /// As <see cref="MetaGradientGrouped(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, int, ReadOnlySpan{float}, float, Span{float}, int)"/>
    /// with the state before step 0 in either storage type (<see cref="Supports"/>). A bfloat16
    /// state0 is widened exactly and the K steps are recomputed from it in float32; the rounding of
    /// the state after each forward step is not repeated (its derivative is taken as 1), so the result
    /// is the exact meta-gradient of the float32 trajectory that starts from the stored state0.
    /// </summary>
    /// <exception cref="ArgumentException">As the float32 overload.</exception>
    /// <exception cref="NotSupportedException">The storage type is not supported.</exception>
    void MetaGradientGrouped(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize);

    /// <summary>
    /// Whether <see cref="MetaGradientPartials"/> is implemented: the meta-gradient is a chunk-ordered sum of
    /// per-chunk partial sums that can be computed apart (the coordinate-wise architectures; not STAR, whose
    /// statistics span a whole parameter vector).
    /// </summary>
    bool HasChunkPartials => false;

    /// <summary>
    /// The per-chunk partial sums of
    /// <see cref="MetaGradientGrouped(ReadOnlySpan{float}, StateSpan, ReadOnlySpan{float}, int, ReadOnlySpan{float}, float, Span{float}, int)"/>
    /// before their reduction: <paramref name="partials"/> [chunks × |φ|], chunk c at c·|φ|, the chunks agent-aligned
    /// (each vector of <paramref name="groupSize"/> split at 0, 4096, … from its own start). Their sum in chunk order, in
    /// double, rounded to float, is the meta-gradient; so ranks holding contiguous runs of whole vectors reproduce it.
    /// </summary>
    /// <exception cref="ArgumentException">As the grouped meta-gradient, or partials has the wrong length.</exception>
    /// <exception cref="NotSupportedException">The architecture has no separable partials (<see cref="HasChunkPartials"/> is false).</exception>
    void MetaGradientPartials(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<double> partials, int groupSize) =>
        throw new NotSupportedException($"{Name} cannot split its meta-gradient into per-chunk partial sums, so it is not meta-trained over MPI ranks; run it without mpiexec.");
}

/// <summary>Names, shapes and offsets of the arrays packed, in order, into one φ vector.</summary>
public sealed class MetaParamLayout
{
    private readonly List<(string Name, int[] Shape, int Offset, int Length)> _entries = new();

    /// <summary>Total number of meta-parameters.</summary>
    public int Count { get; private set; }

    /// <summary>The arrays in packing order.</summary>
    public IReadOnlyList<(string Name, int[] Shape, int Offset, int Length)> Entries => _entries;

    /// <summary>Appends an array; returns its offset in φ.</summary>
    public int Add(string name, params int[] shape)
    {
        int length = 1;
        foreach (int d in shape) length *= d;
        _entries.Add((name, shape, Count, length));
        Count += length;
        return Count - length;
    }

    /// <summary>The entry called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such array.</exception>
    public (string Name, int[] Shape, int Offset, int Length) this[string name] =>
        _entries.FirstOrDefault(e => e.Name == name) is { Name: not null } e ? e : throw new KeyNotFoundException($"No meta-parameter array named '{name}'.");
}
