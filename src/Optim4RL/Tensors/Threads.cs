namespace Optim4RL.Tensors;

/// <summary>
/// Parallel-loop options with a bounded degree of parallelism. An unbounded loop (−1) over long chunks lets the
/// .NET thread pool keep injecting workers while queued chunks wait (its starvation heuristic): a paper-scale
/// meta-training on 2 cores was seen running 40 runnable workers and 2.7× slower. Every parallel loop of the
/// library therefore runs at most the requested number of threads, or one per core.
/// </summary>
internal static class Threads
{
    /// <summary>The most threads a loop uses: <paramref name="requested"/>, or the core count when it is null or −1.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="requested"/> is 0 or below −1.</exception>
    public static int Count(int? requested) => requested switch
    {
        null or -1 => Environment.ProcessorCount,
        >= 1 => requested.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(requested), requested, "A thread count must be null or −1 (all cores) or ≥ 1."),
    };

    /// <summary>Options for a loop of at most <see cref="Count"/>(<paramref name="requested"/>) threads.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="requested"/> is 0 or below −1.</exception>
    public static ParallelOptions Options(int? requested) => new() { MaxDegreeOfParallelism = Count(requested) };
}
