using Optim4RL.Agents;
using Optim4RL.Distributed;
using Optim4RL.Meta;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Experiments;

/// <summary>
/// A meta-training run over the ranks of an MPI job. Rank 0 runs the usual <see cref="MetaRun"/> loop and
/// owns the run directory (lock, config, CSVs, φ, events); before each meta-iteration it tells the other
/// ranks to step, and at the end (done, interrupted or failed) to stop. The other ranks build the same
/// trainer, holding their own agents, step when told, and touch the directory only to write their agents at a checkpoint. Every
/// meta-iteration's collectives give all ranks the one-process φ, so the files are those of one process.
/// </summary>
/// <remarks>
/// What the ranks share depends on the estimator (<see cref="MetaTrainer.SplitsAgents"/>). With back-propagation
/// (MetaA2C, MetapA2C, MetaPPO, MetapPPO) each rank holds a slice of the agents; at a checkpoint every rank writes
/// its agents (<see cref="AgentSlices"/>) into <c>checkpoint.rank-slices/it&lt;iteration&gt;/</c> under rank 0's lock,
/// then rank 0 writes <c>checkpoint.bin</c> with the meta state only; a run continues from it under any rank count,
/// one process included. With ES every rank holds all agents and evaluates its share of the perturbation pairs;
/// rank 0 writes the one-process checkpoint, which also continues under any rank count. <c>--restart-population</c>
/// sends rank 0's meta state to every rank, and all ranks re-stagger their fresh agents together.
/// </remarks>
internal static class RankedMetaRun
{
    private const int StopCommand = 0, StepCommand = 1, CheckpointCommand = 2, RestartCommand = 3;
    private const uint SlicedMagic = 0x4B52344F; // "O4RK": a checkpoint.bin whose agents are in slice files

    /// <summary>The folder of a run directory that holds the agents of checkpoints written under ranks.</summary>
    public const string SlicesFolderName = "checkpoint.rank-slices";

    /// <summary>The run kinds that use the ranks.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["MetaA2C", "MetapA2C", "MetaPPO", "MetapPPO"];

    /// <summary>Refuses, on every rank alike, a run kind that does not use ranks.</summary>
    /// <exception cref="ConfigException">A kind that is not meta-training.</exception>
    public static void CheckSupported(string agent, RunOptions options, Communicator world)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Kinds.Contains(agent))
            throw new ConfigException($"agent.name {agent} runs as one process, but this job has {world.Size} MPI ranks: under mpiexec only meta-training ({string.Join(", ", Kinds)}) uses the ranks; run it without mpiexec.");
    }

    /// <summary>The log's line on how <paramref name="meta"/> shares the work among <paramref name="ranks"/> ranks.</summary>
    public static string Describe(IMetaTrainer meta, int ranks)
    {
        var trainer = meta is Leader leader ? leader.Inner : meta;
        return trainer is MetaTrainer { SplitsAgentsOverRanks: false } t
            ? $"{t.Estimator.Name} perturbation pairs spread over {ranks} MPI ranks (every rank runs all agents); rank 0 writes the checkpoints"
            : $"agents spread over {ranks} MPI ranks; each rank writes its agents of a checkpoint into {SlicesFolderName}/";
    }

    /// <summary>On rank 0 of several, <paramref name="meta"/> announcing each meta-iteration to the other ranks; otherwise <paramref name="meta"/>.</summary>
    public static IMetaTrainer Lead(IMetaTrainer meta, Communicator? world, RunDirectory dir) =>
        world is { Size: > 1, IsRoot: true } ? new Leader((MetaTrainer)meta, world, dir) : meta;

    /// <summary>
    /// Restores <paramref name="meta"/> from a checkpoint payload: written under ranks (meta state here, this
    /// process's agents from the slice files, whatever the rank count then and now) or by one process.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint is damaged, or one process's checkpoint is resumed under ranks.</exception>
    public static void LoadCheckpoint(IMetaTrainer meta, Stream stream, RunDirectory dir, Communicator? world)
    {
        var trainer = meta is Leader leader ? leader.Inner : meta;
        long start = stream.Position;
        using (var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            if (r.ReadUInt32() == SlicedMagic && trainer is MetaTrainer sliced)
            {
                sliced.LoadSliced(r, it => FolderOf(dir, it));
                return;
            }
        }
        if (world is { Size: > 1 } && trainer is MetaTrainer { SplitsAgentsOverRanks: true })
            throw new InvalidDataException("this checkpoint was written by one process and holds all agents in one file; resume it without mpiexec (checkpoints written under ranks continue under any rank count).");
        stream.Position = start;
        trainer.LoadCheckpoint(stream);
    }

    /// <summary>The folder of the agents of the checkpoint at meta-iteration <paramref name="iteration"/>.</summary>
    public static string FolderOf(RunDirectory dir, long iteration) => Path.Combine(dir.PathOf(SlicesFolderName), $"it{iteration}");

    /// <summary>Rank 0: lets the other ranks go (they stop waiting for meta-iterations).</summary>
    public static void Release(Communicator world)
    {
        if (world.Size > 1 && world.IsRoot) world.Broadcast(new[] { StopCommand });
    }

    /// <summary>
    /// A rank other than 0: steps <paramref name="meta"/> whenever rank 0 says so, until it says stop. A trainer that
    /// could not be built (<paramref name="failed"/>) or a step that fails stops the whole job with a message naming the rank.
    /// <paramref name="afterStep"/>, when given, is called after each meta-iteration (measurements).
    /// </summary>
    public static RunOutcome Follow(IMetaTrainer? meta, Exception? failed, Communicator world, RunDirectory dir, Action? afterStep = null)
    {
        int command;
        while ((command = world.Broadcast<int>(null)[0]) != StopCommand)
        {
            if (failed is not null) Fail(world, failed);
            if (command == CheckpointCommand)
            {
                WriteSlices((MetaTrainer)meta!, world, dir);
                continue;
            }
            try
            {
                if (command == RestartCommand) Restart(meta!, world);
                else
                {
                    meta!.Step();
                    afterStep?.Invoke();
                }
            }
            catch (TrainingDivergedException)
            {
                // Found on sums over all agents, so rank 0 found it too: it reports it and says stop.
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Fail(world, e);
            }
        }
        return new RunOutcome(dir.Path, true, []);
    }

    // A rank other than 0: rank 0's φ, meta-optimizer state and iteration, then the warm-up of the fresh agents with the others.
    private static void Restart(IMetaTrainer meta, Communicator world)
    {
        byte[] state = world.Broadcast<byte>(null);
        long iteration = world.Broadcast<long>(null)[0];
        using (var r = new BinaryReader(new MemoryStream(state, writable: false))) meta.LoadMetaState(r);
        meta.ContinueWithFreshPopulation(iteration);
    }

    // Every rank writes its agents, then all wait until every file is in place.
    private static void WriteSlices(MetaTrainer trainer, Communicator world, RunDirectory dir)
    {
        try
        {
            AgentSlices.Write(trainer, FolderOf(dir, trainer.Iteration));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(world, e);
        }
        world.Barrier();
    }

    // Before writing iteration i: a stale folder of i goes, and of the older ones only the newest (checkpoint.bin's, soon checkpoint.prev.bin's) stays.
    private static void Prune(RunDirectory dir, long iteration)
    {
        string root = dir.PathOf(SlicesFolderName);
        if (!Directory.Exists(root)) return;
        var older = new List<(long It, string Path)>();
        foreach (string folder in Directory.EnumerateDirectories(root))
        {
            if (!long.TryParse(Path.GetFileName(folder).AsSpan(2), out long it)) continue;
            if (it >= iteration) Directory.Delete(folder, recursive: true);
            else older.Add((it, folder));
        }
        foreach (var (_, folder) in older.OrderByDescending(o => o.It).Skip(1)) Directory.Delete(folder, recursive: true);
    }

    private static void Fail(Communicator world, Exception e) =>
        world.Abort($"error: {Cluster.Describe(world)} failed: {e.Message.ReplaceLineEndings(" ")}; stopping the job.", 1);

    /// <summary>Rank 0's trainer: says "step" to the other ranks before each of its own steps.</summary>
    private sealed class Leader(MetaTrainer inner, Communicator world, RunDirectory dir) : IMetaTrainer
    {
        public MetaTrainer Inner => inner;

        public ILearnedOptimizer LearnedOptimizer => inner.LearnedOptimizer;

        public float[] Phi => inner.Phi;

        public long Iteration => inner.Iteration;

        public long Iterations => inner.Iterations;

        public int? MaxDegreeOfParallelism { get => inner.MaxDegreeOfParallelism; set => inner.MaxDegreeOfParallelism = value; }

        public bool CanRestartPopulation => inner.CanRestartPopulation;

        public int WarmUpIterations => inner.WarmUpIterations;

        public MetaIterationLog Step()
        {
            world.Broadcast(new[] { StepCommand });
            try
            {
                return inner.Step();
            }
            catch (Exception e) when (e is not TrainingDivergedException and not OutOfMemoryException)
            {
                // The other ranks may be inside a collective of this step: only stopping the job frees them.
                Fail(world, e);
                throw;
            }
        }

        public void SaveCheckpoint(Stream stream)
        {
            if (!inner.SplitsAgentsOverRanks)
            {
                inner.SaveCheckpoint(stream); // every rank holds all agents: this rank's are the run's
                return;
            }
            try
            {
                Prune(dir, inner.Iteration);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail(world, e);
            }
            world.Broadcast(new[] { CheckpointCommand });
            WriteSlices(inner, world, dir);
            using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            w.Write(SlicedMagic);
            inner.SaveMetaState(w);
        }

        public void SaveMetaState(BinaryWriter writer) => inner.SaveMetaState(writer);

        public long LoadMetaState(BinaryReader reader) => inner.LoadMetaState(reader);

        public void ContinueWithFreshPopulation(long iteration)
        {
            if (!inner.CanRestartPopulation) inner.ContinueWithFreshPopulation(iteration); // throws, before the other ranks are told anything
            world.Broadcast(new[] { RestartCommand });
            using (var ms = new MemoryStream())
            {
                using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) inner.SaveMetaState(w);
                world.Broadcast(ms.ToArray());
            }
            world.Broadcast(new[] { iteration });
            try
            {
                inner.ContinueWithFreshPopulation(iteration);
            }
            catch (Exception e) when (e is not TrainingDivergedException and not OutOfMemoryException)
            {
                Fail(world, e);
                throw;
            }
        }

        public void LoadCheckpoint(Stream stream) => RankedMetaRun.LoadCheckpoint(this, stream, dir, world);
    }
}
