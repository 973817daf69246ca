namespace Optim4RL.Distributed;

/// <summary>
/// Splits work over ranks from sizes alone (never from timing), so every rank computes the same
/// split without talking to the others and a run's numbers cannot depend on how fast a machine was.
/// Every split is into contiguous ranges in rank order: rank r's items all come before rank r + 1's,
/// which is what lets <see cref="Communicator.OrderedSum"/> reproduce the single-process order.
/// </summary>
internal static class StaticPartition
{
    /// <summary>
    /// The contiguous range of <paramref name="items"/> equal-cost items that <paramref name="rank"/> of
    /// <paramref name="ranks"/> owns: each rank gets ⌊items / ranks⌋ items and the first items mod ranks
    /// ranks one more (so sizes differ by at most one; a rank gets none when ranks &gt; items).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">items &lt; 0, ranks &lt; 1, or rank outside [0, ranks).</exception>
    public static (int Start, int Count) Even(int items, int ranks, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, ranks);
        int size = items / ranks, extra = items % ranks;
        return (rank * size + Math.Min(rank, extra), size + (rank < extra ? 1 : 0));
    }

    /// <summary>
    /// Contiguous ranges of items with the given non-negative <paramref name="costs"/> (any unit, e.g.
    /// parameters per agent): returns <paramref name="ranks"/> + 1 boundaries b, rank r owning items
    /// [b[r], b[r + 1]). Boundary r is the item index whose cost prefix is nearest to r / ranks of the
    /// total (ties go to the lower index), so each rank's cost is within one item's cost of an equal share.
    /// Exact integer arithmetic: the same costs give the same boundaries on every machine.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">ranks &lt; 1 or a negative cost.</exception>
    public static int[] Weighted(ReadOnlySpan<long> costs, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        var prefix = new Int128[costs.Length + 1];
        for (int i = 0; i < costs.Length; i++)
        {
            if (costs[i] < 0) throw new ArgumentOutOfRangeException(nameof(costs), $"cost {i} is {costs[i]}; costs must be ≥ 0.");
            prefix[i + 1] = prefix[i] + costs[i];
        }
        Int128 total = prefix[^1];
        var bounds = new int[ranks + 1];
        bounds[ranks] = costs.Length;
        int at = 0;
        for (int r = 1; r < ranks; r++)
        {
            // Compare prefix·ranks with r·total instead of dividing, so no rounding enters.
            Int128 target = r * total;
            while (at < costs.Length && prefix[at + 1] * ranks <= target) at++;
            // prefix[at]·ranks ≤ target < prefix[at + 1]·ranks (or at is the end): take the nearer side.
            if (at < costs.Length && prefix[at + 1] * ranks - target < target - prefix[at] * ranks) at++;
            bounds[r] = Math.Max(at, bounds[r - 1]);
        }
        return bounds;
    }

    /// <summary>
    /// Spreads the agents of several tasks over ranks, agents laid out task after task and each agent
    /// of task t costing <c>tasks[t].CostPerAgent</c> (its parameter count P, say, so a task costs B·P).
    /// Returns, for each rank, the slices of tasks it owns as (task, first agent, agent count), in
    /// global order; a task may be split between consecutive ranks.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">ranks &lt; 1, or a negative agent count or cost.</exception>
    public static IReadOnlyList<(int Task, int FirstAgent, int Agents)>[] TasksAndAgents(IReadOnlyList<(int Agents, long CostPerAgent)> tasks, int ranks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        var costs = new List<long>();
        foreach (var (agents, cost) in tasks)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(agents);
            for (int a = 0; a < agents; a++) costs.Add(cost);
        }
        int[] bounds = Weighted(costs.ToArray(), ranks);
        var slices = new IReadOnlyList<(int, int, int)>[ranks];
        for (int r = 0; r < ranks; r++)
        {
            var own = new List<(int, int, int)>();
            int item = 0;
            for (int t = 0; t < tasks.Count; t++)
            {
                int lo = Math.Max(bounds[r], item), hi = Math.Min(bounds[r + 1], item + tasks[t].Agents);
                if (hi > lo) own.Add((t, lo - item, hi - lo));
                item += tasks[t].Agents;
            }
            slices[r] = own;
        }
        return slices;
    }
}
