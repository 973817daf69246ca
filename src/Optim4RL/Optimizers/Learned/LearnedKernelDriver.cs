using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static Optim4RL.Optimizers.Learned.LearnedSimd;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// How a learned-optimizer kernel runs its calls: the most threads one call may use and the SIMD
/// width. Every call reads it once, at its start (<see cref="Snapshot"/>); results are bitwise
/// identical for every thread count.
/// </summary>
internal sealed class KernelExecution
{
    /// <summary>The most threads one call may use; null: one per core.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value below 1.</exception>
    public int? MaxDegreeOfParallelism
    {
        get;
        set => field = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxDegreeOfParallelism must be null (all cores) or ≥ 1.");
    }

    /// <summary>Test knob: force a SIMD width of 16, 8 or 4 lanes (0: the widest accelerated one).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 0, 4, 8 or 16.</exception>
    public int VectorWidthOverride
    {
        get;
        set => field = value is 0 or 4 or 8 or 16 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The SIMD width must be 0 (widest), 4, 8 or 16.");
    }

    /// <summary>The SIMD width (lanes) a call uses.</summary>
    public int VectorWidth => VectorWidthOverride != 0 ? VectorWidthOverride : WidestWidth;

    /// <summary>The settings of one call.</summary>
    public KernelRun Snapshot() => new(VectorWidth, MaxDegreeOfParallelism);
}

/// <summary>The settings one call runs with, read once from <see cref="KernelExecution"/>.</summary>
internal readonly record struct KernelRun(int Width, int? Threads);

/// <summary>
/// The fixed chunks of a call over N coordinates made of N / <see cref="GroupSize"/> parameter
/// vectors (agents) of <see cref="GroupSize"/> coordinates each: every vector is split at offsets
/// 0, <see cref="LearnedKernelDriver.ChunkSize"/>, 2·ChunkSize, … from its own start, so a chunk
/// never straddles two vectors and the boundaries depend on the group size alone. Chunks are
/// numbered vector by vector, so per-chunk partial sums summed in chunk order give the same value
/// wherever the chunks were computed.
/// </summary>
internal readonly struct ChunkPlan
{
    /// <param name="n">N, a multiple of <paramref name="groupSize"/>.</param>
    /// <param name="groupSize">Coordinates per parameter vector, ≥ 1.</param>
    public ChunkPlan(int n, int groupSize)
    {
        N = n;
        GroupSize = groupSize;
        ChunksPerGroup = (groupSize + LearnedKernelDriver.ChunkSize - 1) / LearnedKernelDriver.ChunkSize;
        Count = n / groupSize * ChunksPerGroup;
    }

    public int N { get; }

    public int GroupSize { get; }

    public int Groups => N / GroupSize;

    /// <summary>Chunks per parameter vector, ⌈GroupSize / ChunkSize⌉.</summary>
    public int ChunksPerGroup { get; }

    /// <summary>All chunks.</summary>
    public int Count { get; }

    /// <summary>The parameter vector chunk <paramref name="chunk"/> belongs to.</summary>
    public int GroupOf(int chunk) => chunk / ChunksPerGroup;

    /// <summary>The coordinates [Start, End) of chunk <paramref name="chunk"/>.</summary>
    public (int Start, int End) Range(int chunk)
    {
        int group = chunk / ChunksPerGroup;
        int groupStart = group * GroupSize;
        int start = groupStart + (chunk - group * ChunksPerGroup) * LearnedKernelDriver.ChunkSize;
        return (start, Math.Min(start + LearnedKernelDriver.ChunkSize, groupStart + GroupSize));
    }
}

/// <summary>
/// One pass of a learned-optimizer kernel over the coordinates, run by <see cref="LearnedKernelDriver"/>:
/// what the driver needs to know about it, and the architecture's code for one SIMD vector of
/// coordinates. Implemented by readonly structs that carry the call's constants (α, K, …), so the
/// JIT specialises the driver for each pass and inlines <see cref="Block{TV}"/>.
/// </summary>
internal unsafe interface IBlockPass
{
    /// <summary>State units per coordinate (rows of the [units, N] state).</summary>
    int StateUnits { get; }

    /// <summary>Gradient rows read per coordinate (K, or 1 for a step).</summary>
    int GradRows { get; }

    /// <summary>Whether the pass updates the state in place.</summary>
    bool WritesState { get; }

    /// <summary>
    /// Per-lane float accumulators at the start of the per-thread scratch: cleared at the start of
    /// every chunk, and their lane sums (in double) are the chunk's partial sums.
    /// </summary>
    int Sums { get; }

    /// <summary>Further scratch vectors the pass uses, after the accumulators.</summary>
    int WorkVectors { get; }

    /// <summary>
    /// One vector of coordinates. State unit u and gradient row s are at state + u·stride and
    /// grads + s·stride; <paramref name="updates"/> and <paramref name="adjoint"/> are null when the
    /// call has none. <paramref name="mask"/> is 1 in the lanes that hold coordinates and 0 in the
    /// zero-padded lanes of a partial vector; <paramref name="group"/> is the parameter vector.
    /// </summary>
    void Block<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float* adjoint, TV mask, int group,
        float* acc, float* work) where TV : struct;
}

/// <summary>
/// The per-vector code of a kernel that treats every coordinate on its own (a recurrent cell per
/// coordinate): one step, and the recompute-and-reverse-sweep meta-gradient of K steps. Implemented
/// by empty structs, so <see cref="LearnedKernelDriver.Step{TBlocks}"/> and
/// <see cref="LearnedKernelDriver.MetaGradient{TBlocks}"/> are specialised for each architecture.
/// </summary>
internal unsafe interface ICoordinatewiseBlocks
{
    /// <summary>Length of φ.</summary>
    static abstract int ParamCount { get; }

    /// <summary>State units per coordinate.</summary>
    static abstract int StateUnits { get; }

    /// <summary>Scratch vectors <see cref="MetaBlock{TV}"/> needs for K = <paramref name="k"/> steps.</summary>
    static abstract int MetaWorkVectors(int k);

    /// <summary>One step for one vector of coordinates: state (unit u at state + u·stride) updated in place, Δ to <paramref name="updates"/>.</summary>
    static abstract void StepBlock<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float alpha) where TV : struct;

    /// <summary>Recomputes K steps for one vector of coordinates, runs the reverse sweep with λ, adds the per-lane ∂L/∂φ to <paramref name="acc"/>.</summary>
    static abstract void MetaBlock<TV>(float* phi, float* state0, nint stride, float* grads, int k, float* adjoint, float alpha, float* work, float* acc)
        where TV : struct;
}

/// <summary>
/// The driver's entry points for one coordinate-wise architecture, behind an interface, so that
/// <see cref="CoordinatewiseLearnedOptimizer"/> need not be generic over its blocks.
/// </summary>
internal interface ICoordinatewiseDriver
{
    /// <summary><see cref="LearnedKernelDriver.Step{TBlocks}"/>.</summary>
    void Step(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates,
        float learningRate, int groupSize);

    /// <summary><see cref="LearnedKernelDriver.Update{TBlocks}"/>.</summary>
    void Update(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, float gradClip,
        Span<float> clippedGrads, Span<float> theta, float learningRate, int groupSize);

    /// <summary><see cref="LearnedKernelDriver.MetaGradient{TBlocks}"/>.</summary>
    void MetaGradient(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize);

    /// <summary><see cref="LearnedKernelDriver.MetaGradientPartials{TBlocks}"/>.</summary>
    void MetaGradientPartials(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<double> partials, int groupSize);
}

/// <summary>The driver's entry points specialised for the blocks <typeparamref name="TBlocks"/>.</summary>
internal sealed class CoordinatewiseDriver<TBlocks> : ICoordinatewiseDriver where TBlocks : struct, ICoordinatewiseBlocks
{
    /// <summary>The one instance (it holds nothing).</summary>
    public static CoordinatewiseDriver<TBlocks> Instance { get; } = new();

    public void Step(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates,
        float learningRate, int groupSize) =>
        LearnedKernelDriver.Step<TBlocks>(execution, phi, from, to, grads, updates, learningRate, groupSize);

    public void Update(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, float gradClip,
        Span<float> clippedGrads, Span<float> theta, float learningRate, int groupSize) =>
        LearnedKernelDriver.Update<TBlocks>(execution, phi, from, to, grads, gradClip, clippedGrads, theta, learningRate, groupSize);

    public void MetaGradient(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize) =>
        LearnedKernelDriver.MetaGradient<TBlocks>(execution, phi, state0, grads, steps, adjoint, learningRate, metaGrad, groupSize);

    public void MetaGradientPartials(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<double> partials, int groupSize) =>
        LearnedKernelDriver.MetaGradientPartials<TBlocks>(execution, phi, state0, grads, steps, adjoint, learningRate, partials, groupSize);
}

/// <summary>The step pass of a coordinate-wise kernel.</summary>
internal readonly unsafe struct CoordinatewiseStep<TBlocks>(float alpha) : IBlockPass where TBlocks : struct, ICoordinatewiseBlocks
{
    public int StateUnits => TBlocks.StateUnits;

    public int GradRows => 1;

    public bool WritesState => true;

    public int Sums => 0;

    public int WorkVectors => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Block<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float* adjoint, TV mask, int group, float* acc, float* work)
        where TV : struct => TBlocks.StepBlock<TV>(phi, state, stride, grads, updates, alpha);
}

/// <summary>The meta-gradient pass of a coordinate-wise kernel: its accumulators are ∂L/∂φ.</summary>
internal readonly unsafe struct CoordinatewiseMeta<TBlocks>(int k, float alpha) : IBlockPass where TBlocks : struct, ICoordinatewiseBlocks
{
    public int StateUnits => TBlocks.StateUnits;

    public int GradRows => k;

    public bool WritesState => false;

    public int Sums => TBlocks.ParamCount;

    public int WorkVectors => TBlocks.MetaWorkVectors(k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Block<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float* adjoint, TV mask, int group, float* acc, float* work)
        where TV : struct => TBlocks.MetaBlock<TV>(phi, state, stride, grads, k, adjoint, alpha, work, acc);
}

/// <summary>
/// The one driver of every learned-optimizer kernel (Optim4RL, LinearOptim, L2LGD2, STAR): argument checks, the
/// agent-aligned chunking (<see cref="ChunkPlan"/>), the parallel loop over chunks, SIMD width
/// selection, zero-padded partial vectors and chunk-ordered reductions. A call keeps everything
/// it needs in locals and in a per-call struct captured by the parallel loop, so one kernel
/// instance may serve any number of threads at once; per-chunk partial sums are reduced in chunk
/// order in double, so results are bitwise identical for any thread count.
/// </summary>
/// <remarks>
/// The driver also owns how the state is stored (<see cref="IStateAccess"/>): a float32 state read
/// and written where it lies (in place), or staged one SIMD vector at a time through a per-thread
/// tile, for a step that reads one buffer and writes another and for a bfloat16 state (widened
/// exactly into the tile, rounded to nearest even when written back). The passes see float32 rows
/// at a stride either way, so every architecture gets both without code of its own, and a
/// coordinate's arithmetic is the same on every path. With a <see cref="Fusion"/>, a step pass
/// also clips its chunk's gradients before and adds its Δ to θ after, while the chunk is in cache.
/// </remarks>
internal static unsafe class LearnedKernelDriver
{
    /// <summary>The most coordinates of one chunk (a multiple of every SIMD width).</summary>
    internal const int ChunkSize = 4096;

    /// <summary>Checks the spans of a step; <paramref name="groupSize"/> must divide N = grads.Length.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, the grouping does not fit, or the two states differ in type or partly overlap.</exception>
    internal static void CheckStep(int paramCount, int units, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads,
        ReadOnlySpan<float> updates, int groupSize)
    {
        int n = grads.Length;
        CheckPhi(paramCount, phi);
        CheckStates(units, from, to, n);
        if (updates.Length != n) throw new ArgumentException($"updates must have N = {n} elements, got {updates.Length}.", nameof(updates));
        CheckGroups(n, groupSize);
    }

    /// <summary>Checks the spans of a fused update (<see cref="Update{TBlocks}"/>).</summary>
    /// <exception cref="ArgumentException">As <see cref="CheckStep"/>, or θ or the clipped gradients have the wrong length or overlap another buffer.</exception>
    internal static void CheckUpdate(int paramCount, int units, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads,
        ReadOnlySpan<float> clipped, ReadOnlySpan<float> theta, int groupSize)
    {
        int n = grads.Length;
        CheckPhi(paramCount, phi);
        CheckStates(units, from, to, n);
        if (clipped.Length != n) throw new ArgumentException($"clippedGrads must have N = {n} elements, got {clipped.Length}.", nameof(clipped));
        if (theta.Length != n) throw new ArgumentException($"theta must have N = {n} elements, got {theta.Length}.", nameof(theta));
        if (clipped.Overlaps(grads, out int offset) && offset != 0)
            throw new ArgumentException("clippedGrads must be the gradients themselves or not overlap them.", nameof(clipped));
        if (theta.Overlaps(grads) || theta.Overlaps(clipped) || from.Overlaps(theta) || to.Overlaps(theta) || from.Overlaps(clipped) || to.Overlaps(clipped))
            throw new ArgumentException("theta and clippedGrads must not overlap the states, and theta not the gradients.", nameof(theta));
        CheckGroups(n, groupSize);
    }

    /// <summary>Checks the spans of a meta-gradient; <paramref name="groupSize"/> must divide N = adjoint.Length.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, steps is negative, or the grouping does not fit.</exception>
    internal static void CheckMeta(int paramCount, int units, ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, ReadOnlySpan<float> metaGrad, int groupSize)
    {
        int n = adjoint.Length;
        if (steps < 0) throw new ArgumentException("steps must be ≥ 0.", nameof(steps));
        CheckPhi(paramCount, phi);
        if (metaGrad.Length != paramCount) throw new ArgumentException($"metaGrad must have {paramCount} elements, got {metaGrad.Length}.", nameof(metaGrad));
        CheckState(units, state0.Length, n, nameof(state0));
        if (grads.Length != (long)steps * n) throw new ArgumentException($"grads must have K·N = {(long)steps * n} elements, got {grads.Length}.", nameof(grads));
        CheckGroups(n, groupSize);
    }

    private static void CheckStates(int units, StateSpan from, StateSpan to, int n)
    {
        CheckState(units, from.Length, n, from.SameAs(to) ? "state" : nameof(from));
        CheckState(units, to.Length, n, nameof(to));
        if (from.Dtype != to.Dtype)
            throw new ArgumentException($"from ({from.Dtype.Name()}) and to ({to.Dtype.Name()}) must have the same storage type.", nameof(to));
        if (!from.SameAs(to) && from.Overlaps(to))
            throw new ArgumentException("from and to must be the same state (a step in place) or not overlap.", nameof(to));
    }

    /// <exception cref="ArgumentException"><paramref name="phi"/> is not <paramref name="paramCount"/> long.</exception>
    internal static void CheckPhi(int paramCount, ReadOnlySpan<float> phi)
    {
        if (phi.Length != paramCount) throw new ArgumentException($"φ must have {paramCount} elements, got {phi.Length}.", nameof(phi));
    }

    private static void CheckState(int units, int length, int n, string name)
    {
        if (length != units * (long)n) throw new ArgumentException($"{name} must have {units}·N = {units * (long)n} elements, got {length}.", name);
    }

    private static void CheckGroups(int n, int groupSize)
    {
        if (groupSize <= 0 || n % groupSize != 0)
            throw new ArgumentException($"N = {n} coordinates cannot be split into parameter vectors of groupSize = {groupSize}; N must be a multiple of a positive groupSize.", nameof(groupSize));
    }

    /// <summary>
    /// One step of a coordinate-wise kernel (<typeparamref name="TBlocks"/>) over N = grads.Length
    /// coordinates grouped into parameter vectors of <paramref name="groupSize"/>: reads the state
    /// from <paramref name="from"/>, writes the new state to <paramref name="to"/> (the same state for
    /// a step in place) and Δ to <paramref name="updates"/> (which may alias the gradients).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="CheckStep"/>.</exception>
    internal static void Step<TBlocks>(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads,
        Span<float> updates, float alpha, int groupSize) where TBlocks : struct, ICoordinatewiseBlocks
    {
        CheckStep(TBlocks.ParamCount, TBlocks.StateUnits, phi, from, to, grads, updates, groupSize);
        int n = grads.Length;
        if (n == 0) return;
        var pass = new CoordinatewiseStep<TBlocks>(alpha);
        fixed (float* pPhi = phi, pGrads = grads, pUpd = updates)
        fixed (byte* pFrom = from, pTo = to)
            Run(in pass, execution.Snapshot(), new ChunkPlan(n, groupSize), pPhi, new StateRef(pFrom, pTo, from.Dtype), pGrads, pUpd, null, null);
    }

    /// <summary>
    /// One inner update of meta-training in one pass over memory: per chunk, g = clip(raw, ±c) (c ≤ 0:
    /// a copy) into <paramref name="clipped"/>, one step of <typeparamref name="TBlocks"/> from
    /// <paramref name="from"/> to <paramref name="to"/>, and θ += Δ. Bit-identical to the clip, the
    /// step and the add run one after the other over all N coordinates.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="CheckUpdate"/>.</exception>
    internal static void Update<TBlocks>(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads,
        float clip, Span<float> clipped, Span<float> theta, float alpha, int groupSize) where TBlocks : struct, ICoordinatewiseBlocks
    {
        CheckUpdate(TBlocks.ParamCount, TBlocks.StateUnits, phi, from, to, grads, clipped, theta, groupSize);
        int n = grads.Length;
        if (n == 0) return;
        var pass = new CoordinatewiseStep<TBlocks>(alpha);
        fixed (float* pPhi = phi, pRaw = grads, pClipped = clipped, pTheta = theta)
        fixed (byte* pFrom = from, pTo = to)
            Run(in pass, execution.Snapshot(), new ChunkPlan(n, groupSize), pPhi, new StateRef(pFrom, pTo, from.Dtype), pClipped, null, null, null,
                new Fusion(pRaw, clip, pTheta));
    }

    /// <summary>
    /// The meta-gradient of K steps of a coordinate-wise kernel (<typeparamref name="TBlocks"/>):
    /// per chunk, ∂L/∂φ in per-lane accumulators; then metaGrad[p] += the chunks' sums in chunk order.
    /// A bfloat16 <paramref name="state0"/> is widened exactly and the K steps are recomputed in
    /// float32 from it (the rounding of the states after each forward step is not repeated).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="CheckMeta"/>.</exception>
    internal static void MetaGradient<TBlocks>(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0,
        ReadOnlySpan<float> grads, int steps, ReadOnlySpan<float> adjoint, float alpha, Span<float> metaGrad, int groupSize)
        where TBlocks : struct, ICoordinatewiseBlocks
    {
        int count = TBlocks.ParamCount;
        CheckMeta(count, TBlocks.StateUnits, phi, state0, grads, steps, adjoint, metaGrad, groupSize);
        int n = adjoint.Length;
        if (n == 0 || steps == 0) return;
        var plan = new ChunkPlan(n, groupSize);
        double[] partials = RentPartials(plan.Count, count);
        try
        {
            RunMeta<TBlocks>(execution, plan, phi, state0, grads, steps, adjoint, alpha, partials);
            fixed (double* pp = partials) AddChunkSums(pp, count, 0, plan.Count, 0, count, metaGrad);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
        }
    }

    /// <summary>
    /// As <see cref="MetaGradient{TBlocks}"/>, without the final reduction: chunk c's partial sums go to
    /// partials[c·ParamCount …], for every chunk of the agent-aligned plan (<see cref="ChunkPlan"/>). Summed
    /// in chunk order in double and rounded to float, they are what <see cref="MetaGradient{TBlocks}"/> adds,
    /// so ranks that each hold a contiguous run of whole agents can reproduce the one-process sum.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="CheckMeta"/>, or partials is not chunks × ParamCount long.</exception>
    internal static void MetaGradientPartials<TBlocks>(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0,
        ReadOnlySpan<float> grads, int steps, ReadOnlySpan<float> adjoint, float alpha, Span<double> partials, int groupSize)
        where TBlocks : struct, ICoordinatewiseBlocks
    {
        int count = TBlocks.ParamCount;
        CheckMeta(count, TBlocks.StateUnits, phi, state0, grads, steps, adjoint, new float[count], groupSize);
        var plan = new ChunkPlan(adjoint.Length, groupSize);
        if (partials.Length != (long)plan.Count * count)
            throw new ArgumentException($"partials must have chunks × |φ| = {(long)plan.Count * count} elements, got {partials.Length}.", nameof(partials));
        partials.Clear();
        if (adjoint.Length == 0 || steps == 0) return;
        RunMeta<TBlocks>(execution, plan, phi, state0, grads, steps, adjoint, alpha, partials);
    }

    private static void RunMeta<TBlocks>(KernelExecution execution, ChunkPlan plan, ReadOnlySpan<float> phi, StateSpan state0,
        ReadOnlySpan<float> grads, int steps, ReadOnlySpan<float> adjoint, float alpha, Span<double> partials)
        where TBlocks : struct, ICoordinatewiseBlocks
    {
        var pass = new CoordinatewiseMeta<TBlocks>(steps, alpha);
        fixed (float* pPhi = phi, pGrads = grads, pAdj = adjoint)
        fixed (byte* pState = state0)
        fixed (double* pp = partials)
            Run(in pass, execution.Snapshot(), plan, pPhi, new StateRef(pState, pState, state0.Dtype), pGrads, null, pAdj, pp);
    }

    /// <summary>Chunks of the agent-aligned plan for N = <paramref name="n"/> coordinates in vectors of <paramref name="groupSize"/>.</summary>
    internal static int ChunkCount(int n, int groupSize) => new ChunkPlan(n, groupSize).Count;

    /// <summary>A buffer for <paramref name="chunks"/> × <paramref name="sums"/> partial sums (return it to <see cref="ArrayPool{T}.Shared"/>).</summary>
    internal static double[] RentPartials(int chunks, int sums) => ArrayPool<double>.Shared.Rent(Math.Max(1, checked(chunks * sums)));

    /// <summary>Σ of partials[c·sums + index] over chunks c ∈ [first, end), in chunk order, in double.</summary>
    internal static double SumChunks(double* partials, int sums, int first, int end, int index)
    {
        double s = 0;
        for (int c = first; c < end; c++) s += partials[(long)c * sums + index];
        return s;
    }

    /// <summary>dest[p − from] += (float)Σ of partials[c·sums + p] over chunks c ∈ [first, end), for p ∈ [from, to).</summary>
    internal static void AddChunkSums(double* partials, int sums, int first, int end, int from, int to, Span<float> dest)
    {
        for (int p = from; p < to; p++) dest[p - from] += (float)SumChunks(partials, sums, first, end, p);
    }

    /// <summary>
    /// Runs <paramref name="pass"/> over every chunk of <paramref name="plan"/>, in parallel when
    /// there is more than one chunk's worth of coordinates and more than one thread is allowed. With
    /// <paramref name="partials"/> (≥ plan.Count·Sums doubles) the chunk's accumulator lane sums
    /// go to partials[chunk·Sums …]. The pass reads the state from <c>state.From</c> and, when it
    /// writes the state, writes it to <c>state.To</c>; with an active <paramref name="fusion"/>
    /// (a step pass only), the chunk's gradients are first clipped from <c>fusion.Raw</c> into
    /// <paramref name="grads"/>, and its Δ is added to <c>fusion.Theta</c> instead of being written
    /// to <paramref name="updates"/>.
    /// </summary>
    internal static void Run<TPass>(in TPass pass, KernelRun run, ChunkPlan plan, float* phi, StateRef state, float* grads, float* updates,
        float* adjoint, double* partials, Fusion fusion = default) where TPass : struct, IBlockPass
    {
        if (run.Width is not (16 or 8 or 4)) throw new InvalidOperationException($"Unsupported SIMD width {run.Width}.");
        if (fusion.Active && (pass.GradRows != 1 || !pass.WritesState || pass.Sums != 0))
            throw new InvalidOperationException("Only a step pass can be fused with the clip and θ += Δ.");
        var mode = state.Dtype == StateDtype.BFloat16 ? StateMode.BFloat16
            : state.From == state.To || !pass.WritesState ? StateMode.Direct : StateMode.Staged;
        var job = new Job<TPass>(pass, plan, run.Width, mode, phi, state, grads, updates, adjoint, partials, fusion);
        if (plan.Count == 1 || plan.N <= ChunkSize || run.Threads == 1)
            for (int c = 0; c < plan.Count; c++) job.RunChunk(c);
        else
            RunParallel(job, run.Threads);
    }

    // Kept apart from Run so that the closure is allocated only on the parallel path.
    private static void RunParallel<TPass>(Job<TPass> job, int? threads) where TPass : struct, IBlockPass =>
        Parallel.For(0, job.Plan.Count, Tensors.Threads.Options(threads), c => job.RunChunk(c));

    private enum StateMode
    {
        /// <summary>float32, in place (or read only): the pass reads and writes the state where it lies.</summary>
        Direct,

        /// <summary>float32, from one buffer to another: staged through a per-thread tile.</summary>
        Staged,

        /// <summary>bfloat16: widened into a per-thread tile, rounded back from it.</summary>
        BFloat16,
    }

    /// <summary>Everything one call's chunks read: the pass, the chunking, the width and the call's buffers.</summary>
    private readonly struct Job<TPass>(TPass pass, ChunkPlan plan, int width, StateMode mode, float* phi, StateRef state, float* grads,
        float* updates, float* adjoint, double* partials, Fusion fusion) where TPass : struct, IBlockPass
    {
        public readonly TPass Pass = pass;
        public readonly ChunkPlan Plan = plan;
        public readonly StateRef State = state;
        public readonly Fusion Fusion = fusion;
        public readonly float* Phi = phi, Grads = grads, Updates = updates, Adjoint = adjoint;
        public readonly double* Partials = partials;

        public void RunChunk(int chunk)
        {
            switch (width)
            {
                case 16: ForWidth<Vector512<float>>(chunk); break;
                case 8: ForWidth<Vector256<float>>(chunk); break;
                default: ForWidth<Vector128<float>>(chunk); break;
            }
        }

        private void ForWidth<TV>(int chunk) where TV : struct
        {
            if (Fusion.Active) ForMode<TV, Fused>(chunk);
            else ForMode<TV, Unfused>(chunk);
        }

        private void ForMode<TV, TFuse>(int chunk) where TV : struct where TFuse : struct
        {
            switch (mode)
            {
                case StateMode.Direct: Chunk<TV, TPass, DirectFloat32, TFuse>(in this, chunk); break;
                case StateMode.Staged: Chunk<TV, TPass, StagedFloat32, TFuse>(in this, chunk); break;
                default: Chunk<TV, TPass, StagedBFloat16, TFuse>(in this, chunk); break;
            }
        }
    }

    private struct Fused;

    private struct Unfused;

    // Per-thread scratch of one chunk, in vectors of W floats (W = lanes):
    //   acc  [Sums]                     the pass's per-lane accumulators
    //   work [WorkVectors]              the pass's own work area
    //   tail [units + rows + 2]         the staged state and gradient rows of one vector, and for a
    //                                   partial vector zero-padded copies of the state, g, λ and Δ
    // then, for a fused update, the chunk's Δ [ChunkSize floats].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Chunk<TV, TPass, TState, TFuse>(in Job<TPass> job, int chunk)
        where TV : struct where TPass : struct, IBlockPass where TState : struct, IStateAccess where TFuse : struct
    {
        TPass pass = job.Pass; // a local copy: no defensive copies in the loop
        bool fused = typeof(TFuse) == typeof(Fused);
        int w = Count<TV>();
        var (start, end) = job.Plan.Range(chunk);
        int group = job.Plan.GroupOf(chunk);
        nint n = job.Plan.N;
        int sums = pass.Sums, units = pass.StateUnits, rows = pass.GradRows;
        bool writes = pass.WritesState;
        int tailFloats = (units + rows + 2) * w;
        float* acc = KernelScratch<TPass>.ForCurrentThread((sums + pass.WorkVectors) * w + tailFloats + (fused ? ChunkSize : 0));
        float* work = acc + sums * w;
        float* tail = work + pass.WorkVectors * w;
        if (sums > 0) new Span<float>(acc, sums * w).Clear();
        float* phi = job.Phi, grads = job.Grads, adjoint = job.Adjoint;
        void* from = job.State.From, to = job.State.To;
        float* deltas = tail + tailFloats; // fused: the chunk's Δ, deltas[i − start] for coordinate i
        float* updates = fused ? deltas - start : job.Updates;
        if (fused) ClipElementwise.Into(new ReadOnlySpan<float>(job.Fusion.Raw + start, end - start), new Span<float>(grads + start, end - start), job.Fusion.Clip);
        TV ones = Bcast<TV>(1f);

        int fullEnd = start + (end - start) / w * w;
        for (int i = start; i < fullEnd; i += w)
        {
            float* state = (float*)from + i, g = grads + i;
            nint stride = n;
            if (TState.Staged)
            {
                // The pass reads state and gradient rows at one stride: stage both (one gradient row needs no stride).
                TState.Load<TV>(from, i, n, tail, units);
                state = tail;
                stride = w;
                if (rows > 1)
                {
                    g = tail + units * w;
                    StagedFloat32.Load<TV>(grads, i, n, g, rows);
                }
            }
            pass.Block(phi, state, stride, g, updates == null ? null : updates + i, adjoint == null ? null : adjoint + i, ones, group, acc, work);
            if (TState.Staged && writes) TState.Store<TV>(tail, to, i, n, units);
        }

        if (fullEnd < end)
        {
            // A partial vector, zero-padded: the passes keep the unused lanes out of every sum (λ = 0
            // there, or the mask), and their Δ and state are not copied back.
            int rem = end - fullEnd;
            float* tState = tail, tGrads = tail + units * w, tAdj = tGrads + rows * w, tUpd = tAdj + w;
            new Span<float>(tail, tailFloats).Clear();
            TState.LoadPartial(from, fullEnd, n, tState, w, units, rem);
            Gather(grads + fullEnd, n, tGrads, w, rows, rem);
            if (adjoint != null) Gather(adjoint + fullEnd, 0, tAdj, 0, 1, rem);
            pass.Block(phi, tState, w, tGrads, updates == null ? null : tUpd, adjoint == null ? null : tAdj, LaneMask<TV>(rem), group, acc, work);
            if (writes) TState.StorePartial(tState, w, to, fullEnd, n, units, rem);
            if (updates != null) Gather(tUpd, 0, updates + fullEnd, 0, 1, rem);
        }

        if (fused)
        {
            var theta = new Span<float>(job.Fusion.Theta + start, end - start);
            TP.Add(theta, new ReadOnlySpan<float>(deltas, end - start), theta);
        }

        if (sums > 0)
        {
            double* pp = job.Partials + (long)chunk * sums;
            for (int i = 0; i < sums; i++) pp[i] = Sum(Load<TV>(acc + i * w));
        }
    }

    /// <summary>Copies <paramref name="count"/> floats of each of <paramref name="rows"/> rows from stride <paramref name="fromStride"/> to stride <paramref name="toStride"/>.</summary>
    private static void Gather(float* from, nint fromStride, float* to, nint toStride, int rows, int count)
    {
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<float>(from + r * fromStride, count).CopyTo(new Span<float>(to + r * toStride, count));
    }
}

/// <summary>Where a pass reads (<see cref="From"/>) and writes (<see cref="To"/>) the state [units, N], and its storage type.</summary>
internal readonly unsafe struct StateRef(void* from, void* to, StateDtype dtype)
{
    public readonly void* From = from, To = to;
    public readonly StateDtype Dtype = dtype;

    /// <summary>A float32 state read and written in place.</summary>
    public static StateRef InPlace(float* state) => new(state, state, StateDtype.Float32);
}

/// <summary>
/// The fused inner update of <see cref="LearnedKernelDriver.Update{TBlocks}"/>: the raw gradients
/// clipped to ±<see cref="Clip"/> (≤ 0: copied) into the pass's gradient row, and θ += Δ.
/// Inactive (default) for every other call.
/// </summary>
internal readonly unsafe struct Fusion(float* raw, float clip, float* theta)
{
    public readonly float* Raw = raw, Theta = theta;
    public readonly float Clip = clip;

    public bool Active => Raw != null;
}

/// <summary>
/// How the driver moves the state of one vector of coordinates between memory and the pass: the
/// pass reads float32 rows at a stride, either where they lie (<see cref="DirectFloat32"/>) or from a
/// per-thread tile of W-lane rows that <see cref="Load{TV}"/> fills and <see cref="Store{TV}"/> writes back.
/// </summary>
internal unsafe interface IStateAccess
{
    /// <summary>Whether full vectors go through the tile.</summary>
    static abstract bool Staged { get; }

    /// <summary>Units rows of W coordinates from coordinate <paramref name="index"/> of the state at <paramref name="state"/> (row stride N) into the tile (row stride W).</summary>
    static abstract void Load<TV>(void* state, nint index, nint n, float* tile, int units) where TV : struct;

    /// <summary>The tile's rows back to coordinate <paramref name="index"/> of the state.</summary>
    static abstract void Store<TV>(float* tile, void* state, nint index, nint n, int units) where TV : struct;

    /// <summary>As <see cref="Load{TV}"/> for <paramref name="count"/> coordinates into rows of stride <paramref name="tileStride"/>.</summary>
    static abstract void LoadPartial(void* state, nint index, nint n, float* tile, nint tileStride, int units, int count);

    /// <summary>As <see cref="Store{TV}"/> for <paramref name="count"/> coordinates.</summary>
    static abstract void StorePartial(float* tile, nint tileStride, void* state, nint index, nint n, int units, int count);
}

/// <summary>float32 rows, staged through the tile (a step from one buffer to another).</summary>
internal unsafe struct StagedFloat32 : IStateAccess
{
    public static bool Staged => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TV>(void* state, nint index, nint n, float* tile, int units) where TV : struct
    {
        float* p = (float*)state + index;
        int w = Count<TV>();
        for (int u = 0; u < units; u++) LearnedSimd.Store(tile + u * w, LearnedSimd.Load<TV>(p + u * n));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TV>(float* tile, void* state, nint index, nint n, int units) where TV : struct
    {
        float* p = (float*)state + index;
        int w = Count<TV>();
        for (int u = 0; u < units; u++) LearnedSimd.Store(p + u * n, LearnedSimd.Load<TV>(tile + u * w));
    }

    public static void LoadPartial(void* state, nint index, nint n, float* tile, nint tileStride, int units, int count)
    {
        float* p = (float*)state + index;
        for (int u = 0; u < units; u++) new ReadOnlySpan<float>(p + u * n, count).CopyTo(new Span<float>(tile + u * tileStride, count));
    }

    public static void StorePartial(float* tile, nint tileStride, void* state, nint index, nint n, int units, int count)
    {
        float* p = (float*)state + index;
        for (int u = 0; u < units; u++) new ReadOnlySpan<float>(tile + u * tileStride, count).CopyTo(new Span<float>(p + u * n, count));
    }
}

/// <summary>float32 rows read and written where they lie (in place, or read only).</summary>
internal unsafe struct DirectFloat32 : IStateAccess
{
    public static bool Staged => false;

    public static void Load<TV>(void* state, nint index, nint n, float* tile, int units) where TV : struct =>
        StagedFloat32.Load<TV>(state, index, n, tile, units);

    public static void Store<TV>(float* tile, void* state, nint index, nint n, int units) where TV : struct =>
        StagedFloat32.Store<TV>(tile, state, index, n, units);

    public static void LoadPartial(void* state, nint index, nint n, float* tile, nint tileStride, int units, int count) =>
        StagedFloat32.LoadPartial(state, index, n, tile, tileStride, units, count);

    public static void StorePartial(float* tile, nint tileStride, void* state, nint index, nint n, int units, int count) =>
        StagedFloat32.StorePartial(tile, tileStride, state, index, n, units, count);
}

/// <summary>bfloat16 rows: widened exactly into the tile, rounded to nearest even when stored.</summary>
internal unsafe struct StagedBFloat16 : IStateAccess
{
    public static bool Staged => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TV>(void* state, nint index, nint n, float* tile, int units) where TV : struct
    {
        ushort* p = (ushort*)state + index;
        int w = Count<TV>();
        for (int u = 0; u < units; u++) LearnedSimd.Store(tile + u * w, LoadBf16<TV>(p + u * n));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TV>(float* tile, void* state, nint index, nint n, int units) where TV : struct
    {
        ushort* p = (ushort*)state + index;
        int w = Count<TV>();
        for (int u = 0; u < units; u++) StoreBf16(p + u * n, LearnedSimd.Load<TV>(tile + u * w));
    }

    public static void LoadPartial(void* state, nint index, nint n, float* tile, nint tileStride, int units, int count)
    {
        ushort* p = (ushort*)state + index;
        for (int u = 0; u < units; u++)
            for (int i = 0; i < count; i++) tile[u * tileStride + i] = BFloat16Bits.ToSingle(p[u * n + i]);
    }

    public static void StorePartial(float* tile, nint tileStride, void* state, nint index, nint n, int units, int count)
    {
        ushort* p = (ushort*)state + index;
        for (int u = 0; u < units; u++)
            for (int i = 0; i < count; i++) p[u * n + i] = BFloat16Bits.FromSingle(tile[u * tileStride + i]);
    }
}

/// <summary>
/// A per-thread, 64-byte-aligned float scratch area of its own for each kernel pass type
/// <typeparamref name="TOwner"/> (a static field of a generic class exists once per closed type),
/// grown on demand and then reused, so the kernels allocate nothing in the steady state and a
/// worker thread's buffer for one pass is never regrown by another's different size. A thread runs
/// one chunk at a time, so concurrent calls never share a buffer.
/// </summary>
internal static unsafe class KernelScratch<TOwner>
{
    [ThreadStatic] private static float[]? t_array;
    [ThreadStatic] private static nint t_base;
    [ThreadStatic] private static int t_capacity;

    /// <summary>The calling thread's scratch with room for at least <paramref name="floats"/> floats.</summary>
    internal static float* ForCurrentThread(int floats)
    {
        if (t_array is null || t_capacity < floats)
        {
            // Pinned (POH) so the aligned base pointer stays valid for the array's life.
            t_array = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
            nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_array));
            t_base = (p + 63) & ~(nint)63;
            t_capacity = floats;
        }
        return (float*)t_base;
    }
}
