namespace Optim4RL.Experiments;

/// <summary>One row of the scaling comparison (<see cref="Bench.ScalingRows"/>): how many processes, threads each, and how the ranks talk.</summary>
/// <param name="Name">Workload name.</param>
/// <param name="Ranks">Processes: 1 runs as a plain process; more run under <c>mpiexec -np Ranks</c>.</param>
/// <param name="ThreadsPerRank">Threads of each process (agents and learned-optimizer kernel).</param>
/// <param name="Transport">How the ranks talk, in words.</param>
/// <param name="MpiEnvironment">Variables every rank gets (<c>mpiexec -genv</c>) to choose the transport; empty for MPICH's default.</param>
public sealed record ScalingRow(string Name, int Ranks, int ThreadsPerRank, string Transport, IReadOnlyDictionary<string, string> MpiEnvironment)
{
    /// <summary>The processes and threads in words: "1 process × 2 threads", "2 ranks × 1 thread".</summary>
    public string Layout => $"{Ranks} {(Ranks == 1 ? "process" : "ranks")} × {ThreadsPerRank} thread{(ThreadsPerRank == 1 ? "" : "s")}";
}

/// <summary>The task and the agent count of the scaling rows (<c>bench --scaling-task ENV:AGENTS</c>).</summary>
/// <param name="Env">A discrete task, e.g. big_dense_long.</param>
/// <param name="Agents">Agents B of the task, split over the ranks.</param>
public sealed record ScalingTask(string Env, int Agents)
{
    /// <summary>The paper's scale: big_dense_long with 512 agents.</summary>
    public static ScalingTask Default { get; } = new("big_dense_long", 512);

    /// <summary>Reads "ENV:AGENTS", e.g. "catch:8".</summary>
    /// <exception cref="ArgumentException">Not of that form, an unknown discrete task, or fewer than one agent.</exception>
    public static ScalingTask Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int agents) || agents < 1)
            throw new ArgumentException($"'{text}' is not ENV:AGENTS with at least one agent (e.g. big_dense_long:512 or catch:8).", nameof(text));
        string env = text[..colon];
        if (!EnvRegistry.TryResolve(env, out string canonical))
            throw new ArgumentException($"'{env}' is not a discrete task; valid: {string.Join(", ", EnvRegistry.Names)}.", nameof(text));
        return new ScalingTask(canonical, agents);
    }

    /// <summary>"ENV:AGENTS", as <see cref="Parse"/> reads it.</summary>
    public override string ToString() => $"{Env}:{Agents}";
}

/// <summary>
/// What a scaling row measured over its timed meta-iterations (the first, warm-up iteration excluded), one value per
/// rank in rank order. Communication is what <see cref="Distributed.CountingCommunicator"/> counts: array bytes sent plus
/// received by the rank, and the wall time inside collective calls, waiting for the other ranks included.
/// </summary>
/// <param name="Ranks">Processes.</param>
/// <param name="ThreadsPerRank">Threads per process.</param>
/// <param name="Transport">How the ranks talked, in words.</param>
/// <param name="Task">The task.</param>
/// <param name="Agents">Its agents, split over the ranks.</param>
/// <param name="BytesPerIteration">Per rank: bytes sent plus received per meta-iteration (0 for one process).</param>
/// <param name="CallsPerIteration">Per rank: collective calls per meta-iteration.</param>
/// <param name="CommunicationShare">Per rank: seconds inside communication calls ÷ wall seconds of the meta-iterations.</param>
/// <param name="PeakWorkingSetBytes">Per rank: the process's peak working set.</param>
public sealed record ScalingMeasurement(int Ranks, int ThreadsPerRank, string Transport, string Task, int Agents,
    double[] BytesPerIteration, double[] CallsPerIteration, double[] CommunicationShare, long[] PeakWorkingSetBytes);
