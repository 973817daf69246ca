using System.Diagnostics;
using Optim4RL.Distributed;

namespace Optim4RL.Experiments;

/// <summary>
/// The scaling rows of <c>optim4rl bench</c> (<c>--only scaling</c>, not run by default): paper-scale MetaA2C
/// meta-training as one process with two threads and as two MPI ranks with one thread each, the ranks talking
/// over shared memory and over TCP on the loopback interface. Each row reports seconds per meta-iteration, the
/// bytes each rank exchanges per meta-iteration, and the share of the wall time spent in communication calls.
/// </summary>
public static partial class Bench
{
    /// <summary>
    /// The rows: 1 process × 2 threads; 2 ranks × 1 thread over MPICH's default transport (shared memory between
    /// ranks on one machine); 2 ranks × 1 thread over TCP on the loopback interface. For TCP the ranks get
    /// <c>MPIR_CVAR_NOLOCAL=1</c> (MPICH treats every rank as remote, so neither its shared-memory point-to-point
    /// path nor its shared-memory collectives are used) and, for MPICH's ch4:ucx device (Debian's build),
    /// <c>UCX_TLS=tcp</c> and <c>UCX_NET_DEVICES=lo</c> (UCX may use only its TCP transport, on the loopback interface).
    /// </summary>
    public static IReadOnlyList<ScalingRow> ScalingRows =>
    [
        new("scaling_1x2", 1, 2, "no MPI", new Dictionary<string, string>()),
        new("scaling_2x1_shm", 2, 1, "shared memory (MPICH default)", new Dictionary<string, string>()),
        new("scaling_2x1_tcp", 2, 1, "TCP over loopback", new Dictionary<string, string>
        {
            ["MPIR_CVAR_NOLOCAL"] = "1",
            ["UCX_TLS"] = "tcp",
            ["UCX_NET_DEVICES"] = "lo",
        }),
    ];

    /// <summary>The scaling rows' names (<c>bench --only scaling</c>).</summary>
    public static IReadOnlyList<string> ScalingNames => ScalingRows.Select(r => r.Name).ToArray();

    /// <summary>A scaling row by name, or null.</summary>
    public static ScalingRow? FindScalingRow(string name) => ScalingRows.FirstOrDefault(r => r.Name == name);

    /// <summary>What a scaling row measures, in words.</summary>
    public static string ScalingDescription(ScalingRow row, ScalingTask task)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(task);
        return $"MetaA2C + Optim4RL, {task.Env}, {task.Agents} agents, reference network: {row.Layout}, {row.Transport}";
    }

    /// <summary>
    /// Measures scaling row <paramref name="workload"/> on this process, one rank of <paramref name="world"/> (collective: every
    /// rank calls it alike). The trainer is built and stepped as <c>run</c> does under mpiexec (<see cref="MetaA2C"/> over the
    /// ranks; rank 0 announcing each meta-iteration, the others following), over a <see cref="CountingCommunicator"/>.
    /// One warm-up meta-iteration, then <paramref name="repeats"/> timed ones. Returns the result on rank 0, null elsewhere.
    /// </summary>
    /// <exception cref="ArgumentException">Not a scaling row, or a task that cannot be built.</exception>
    /// <exception cref="InvalidOperationException">The job's rank count is not the row's.</exception>
    public static BenchResult? RunScaling(string workload, int repeats, ScalingTask task, Communicator world)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(world);
        var row = FindScalingRow(workload) ?? throw new ArgumentException($"'{workload}' is not a scaling row ({string.Join(", ", ScalingNames)}).", nameof(workload));
        if (world.Size != row.Ranks)
        {
            throw new InvalidOperationException(row.Ranks == 1
                ? $"{row.Name} runs as one process; this job has {world.Size} MPI ranks."
                : $"{row.Name} runs as {row.Ranks} MPI ranks, this process is a job of {world.Size}: 'optim4rl bench --only {row.Name}' starts it under mpiexec -np {row.Ranks}.");
        }

        var counting = new CountingCommunicator(world);
        var meta = ScaleMetaTrainer([task.Env], task.Agents, ConvLayout.Reference, null, row.ThreadsPerRank, counting);
        // Never written: the leader touches its run directory only at checkpoints, and none is taken here.
        var dir = new RunDirectory(Path.Combine(Path.GetTempPath(), "optim4rl-bench-scaling"));
        var iterations = new List<(double Wall, CommunicationCounts Communication)>();
        var clock = Stopwatch.StartNew();
        (double Wall, CommunicationCounts Communication) last = (0, counting.Counts);
        void Record()
        {
            (double Wall, CommunicationCounts Communication) now = (clock.Elapsed.TotalSeconds, counting.Counts);
            iterations.Add((now.Wall - last.Wall, now.Communication.Since(last.Communication)));
            last = now;
        }

        if (world.IsRoot)
        {
            var leader = RankedMetaRun.Lead(meta, counting, dir);
            try
            {
                for (int i = 0; i <= repeats; i++)
                {
                    leader.Step();
                    Record();
                }
            }
            finally
            {
                RankedMetaRun.Release(counting);
            }
        }
        else
        {
            RankedMetaRun.Follow(meta, null, counting, dir, Record);
        }
        return Summarise(row, task, iterations.Skip(1).ToList(), world);
    }

    // Every rank's figures over the timed iterations, gathered on rank 0 (uncounted: the measurement is over).
    private static BenchResult? Summarise(ScalingRow row, ScalingTask task, List<(double Wall, CommunicationCounts Communication)> timed, Communicator world)
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        double wall = timed.Sum(t => t.Wall), n = timed.Count;
        double[] mine =
        [
            timed.Sum(t => t.Communication.Bytes) / n,
            timed.Sum(t => t.Communication.Calls) / n,
            wall > 0 ? timed.Sum(t => t.Communication.Seconds) / wall : 0,
            self.PeakWorkingSet64,
        ];
        var ranks = world.Gather(mine);
        if (ranks is null) return null;
        double[] samples = timed.Select(t => t.Wall).ToArray();
        double median = Median(samples);
        var scaling = new ScalingMeasurement(row.Ranks, row.ThreadsPerRank, row.Transport, task.Env, task.Agents,
            [.. ranks.Select(r => r[0])], [.. ranks.Select(r => r[1])], [.. ranks.Select(r => r[2])], [.. ranks.Select(r => (long)r[3])]);
        return new BenchResult(row.Name, ScalingDescription(row, task), "s/meta-iteration", median, samples, 1 / median, "meta-iterations/s",
            scaling.PeakWorkingSetBytes.Max()) { Scaling = scaling };
    }
}
