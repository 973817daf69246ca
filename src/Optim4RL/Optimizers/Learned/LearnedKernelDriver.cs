using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static Optim4RL.Optimizers.Learned.LearnedSimd;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// How a learned-optimizer kernel runs its calls: the most threads one call may use and the SIMD
/// width. Every call reads it once, at its start (<see cref="Snapshot"/>); results are bitwise
/// identical for every thread count.
/// </summary>
internal sealed class KernelExecution
{
    /// <summary>The most threads one call may use; null: the default scheduler (all cores).</summary>
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
internal static unsafe class LearnedKernelDriver
{
    /// <summary>The most coordinates of one chunk (a multiple of every SIMD width).</summary>
    internal const int ChunkSize = 4096;

    /// <summary>Checks the spans of a step; <paramref name="groupSize"/> must divide N = grads.Length.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or the grouping does not fit.</exception>
    internal static void CheckStep(int paramCount, int units, ReadOnlySpan<float> phi, ReadOnlySpan<float> state, ReadOnlySpan<float> grads,
        ReadOnlySpan<float> updates, int groupSize)
    {
        int n = grads.Length;
        CheckPhi(paramCount, phi);
        CheckState(units, state.Length, n, nameof(state));
        if (updates.Length != n) throw new ArgumentException($"updates must have N = {n} elements, got {updates.Length}.", nameof(updates));
        CheckGroups(n, groupSize);
    }

    /// <summary>Checks the spans of a meta-gradient; <paramref name="groupSize"/> must divide N = adjoint.Length.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, steps is negative, or the grouping does not fit.</exception>
    internal static void CheckMeta(int paramCount, int units, ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
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
    /// coordinates grouped into parameter vectors of <paramref name="groupSize"/>: updates the state
    /// in place and writes Δ (which may alias the gradients).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="CheckStep"/>.</exception>
    internal static void Step<TBlocks>(KernelExecution execution, ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads,
        Span<float> updates, float alpha, int groupSize) where TBlocks : struct, ICoordinatewiseBlocks
    {
        CheckStep(TBlocks.ParamCount, TBlocks.StateUnits, phi, state, grads, updates, groupSize);
        int n = grads.Length;
        if (n == 0) return;
        var pass = new CoordinatewiseStep<TBlocks>(alpha);
        fixed (float* pPhi = phi, pState = state, pGrads = grads, pUpd = updates)
            Run(in pass, execution.Snapshot(), new ChunkPlan(n, groupSize), pPhi, pState, pGrads, pUpd, null, null);
    }

    /// <summary>
    /// The meta-gradient of K steps of a coordinate-wise kernel (<typeparamref name="TBlocks"/>):
    /// per chunk, ∂L/∂φ in per-lane accumulators; then metaGrad[p] += the chunks' sums in chunk order.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="CheckMeta"/>.</exception>
    internal static void MetaGradient<TBlocks>(KernelExecution execution, ReadOnlySpan<float> phi, ReadOnlySpan<float> state0,
        ReadOnlySpan<float> grads, int steps, ReadOnlySpan<float> adjoint, float alpha, Span<float> metaGrad, int groupSize)
        where TBlocks : struct, ICoordinatewiseBlocks
    {
        int count = TBlocks.ParamCount;
        CheckMeta(count, TBlocks.StateUnits, phi, state0, grads, steps, adjoint, metaGrad, groupSize);
        int n = adjoint.Length;
        if (n == 0 || steps == 0) return;
        var pass = new CoordinatewiseMeta<TBlocks>(steps, alpha);
        var plan = new ChunkPlan(n, groupSize);
        double[] partials = RentPartials(plan.Count, count);
        try
        {
            fixed (float* pPhi = phi, pState = state0, pGrads = grads, pAdj = adjoint)
            fixed (double* pp = partials)
            {
                Run(in pass, execution.Snapshot(), plan, pPhi, pState, pGrads, null, pAdj, pp);
                AddChunkSums(pp, count, 0, plan.Count, 0, count, metaGrad);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
        }
    }

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
    /// go to partials[chunk·Sums …].
    /// </summary>
    internal static void Run<TPass>(in TPass pass, KernelRun run, ChunkPlan plan, float* phi, float* state, float* grads, float* updates,
        float* adjoint, double* partials) where TPass : struct, IBlockPass
    {
        if (run.Width is not (16 or 8 or 4)) throw new InvalidOperationException($"Unsupported SIMD width {run.Width}.");
        var job = new Job<TPass>(pass, plan, run.Width, phi, state, grads, updates, adjoint, partials);
        if (plan.Count == 1 || plan.N <= ChunkSize || run.Threads == 1)
            for (int c = 0; c < plan.Count; c++) job.RunChunk(c);
        else
            RunParallel(job, run.Threads);
    }

    // Kept apart from Run so that the closure is allocated only on the parallel path.
    private static void RunParallel<TPass>(Job<TPass> job, int? threads) where TPass : struct, IBlockPass =>
        Parallel.For(0, job.Plan.Count, new ParallelOptions { MaxDegreeOfParallelism = threads ?? -1 }, c => job.RunChunk(c));

    /// <summary>Everything one call's chunks read: the pass, the chunking, the width and the call's buffers.</summary>
    private readonly struct Job<TPass>(TPass pass, ChunkPlan plan, int width, float* phi, float* state, float* grads, float* updates,
        float* adjoint, double* partials) where TPass : struct, IBlockPass
    {
        public readonly TPass Pass = pass;
        public readonly ChunkPlan Plan = plan;
        public readonly float* Phi = phi, State = state, Grads = grads, Updates = updates, Adjoint = adjoint;
        public readonly double* Partials = partials;

        public void RunChunk(int chunk)
        {
            switch (width)
            {
                case 16: Chunk<Vector512<float>, TPass>(in this, chunk); break;
                case 8: Chunk<Vector256<float>, TPass>(in this, chunk); break;
                default: Chunk<Vector128<float>, TPass>(in this, chunk); break;
            }
        }
    }

    // Per-thread scratch of one chunk, in vectors of W floats (W = lanes):
    //   acc  [Sums]                     the pass's per-lane accumulators
    //   work [WorkVectors]              the pass's own work area
    //   tail [units + rows + 2]         zero-padded copies for a partial vector: state, g, λ, Δ
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Chunk<TV, TPass>(in Job<TPass> job, int chunk) where TV : struct where TPass : struct, IBlockPass
    {
        TPass pass = job.Pass; // a local copy: no defensive copies in the loop
        int w = Count<TV>();
        var (start, end) = job.Plan.Range(chunk);
        int group = job.Plan.GroupOf(chunk);
        nint n = job.Plan.N;
        int sums = pass.Sums, units = pass.StateUnits, rows = pass.GradRows;
        float* acc = KernelScratch<TPass>.ForCurrentThread((sums + pass.WorkVectors + units + rows + 2) * w);
        float* work = acc + sums * w;
        float* tail = work + pass.WorkVectors * w;
        if (sums > 0) new Span<float>(acc, sums * w).Clear();
        float* phi = job.Phi, state = job.State, grads = job.Grads, updates = job.Updates, adjoint = job.Adjoint;
        TV ones = Bcast<TV>(1f);

        int fullEnd = start + (end - start) / w * w;
        for (int i = start; i < fullEnd; i += w)
            pass.Block(phi, state + i, n, grads + i, updates == null ? null : updates + i, adjoint == null ? null : adjoint + i, ones, group, acc, work);

        if (fullEnd < end)
        {
            // A partial vector, zero-padded: the passes keep the unused lanes out of every sum (λ = 0
            // there, or the mask), and their Δ and state are not copied back.
            int rem = end - fullEnd;
            float* tState = tail, tGrads = tail + units * w, tAdj = tGrads + rows * w, tUpd = tAdj + w;
            new Span<float>(tail, (units + rows + 2) * w).Clear();
            Gather(state + fullEnd, n, tState, w, units, rem);
            Gather(grads + fullEnd, n, tGrads, w, rows, rem);
            if (adjoint != null) Gather(adjoint + fullEnd, 0, tAdj, 0, 1, rem);
            pass.Block(phi, tState, w, tGrads, updates == null ? null : tUpd, adjoint == null ? null : tAdj, LaneMask<TV>(rem), group, acc, work);
            if (pass.WritesState) Gather(tState, w, state + fullEnd, n, units, rem);
            if (updates != null) Gather(tUpd, 0, updates + fullEnd, 0, 1, rem);
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
