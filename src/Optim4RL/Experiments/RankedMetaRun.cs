using Optim4RL.Agents;
using Optim4RL.Distributed;
using Optim4RL.Meta;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Experiments;

/// <summary>
/// A meta-training run over the ranks of an MPI job. Rank 0 runs the usual <see cref="MetaRun"/> loop and
/// owns the run directory (lock, config, CSVs, φ, events); before each meta-iteration it tells the other
/// ranks to step, and at the end (done, interrupted or failed) to stop. The other ranks never touch the
/// directory: they build the same trainer, holding their own agents, and step when told. Every
/// meta-iteration's collectives give all ranks the one-process φ, so the files are those of one process.
/// </summary>
internal static class RankedMetaRun
{
    private const int StopCommand = 0, StepCommand = 1;

    /// <summary>The run kinds that use the ranks.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["MetaA2C", "MetapA2C"];

    /// <summary>Refuses, on every rank alike, what does not run over ranks yet.</summary>
    /// <exception cref="ConfigException">Another run kind, or continuing a run.</exception>
    public static void CheckSupported(string agent, RunOptions options, Communicator world)
    {
        if (!Kinds.Contains(agent))
            throw new ConfigException($"agent.name {agent} runs as one process, but this job has {world.Size} MPI ranks: under mpiexec only {string.Join(" and ", Kinds)} use the ranks so far; run it without mpiexec.");
        if (options.Resume || options.RestartPopulation)
            throw new ConfigException("--resume and --restart-population do not run over MPI ranks yet; continue the run without mpiexec.");
    }

    /// <summary>On rank 0 of several, <paramref name="meta"/> announcing each meta-iteration to the other ranks; otherwise <paramref name="meta"/>.</summary>
    public static IMetaTrainer Lead(IMetaTrainer meta, Communicator world) => world.Size > 1 && world.IsRoot ? new Leader(meta, world) : meta;

    /// <summary>Rank 0: lets the other ranks go (they stop waiting for meta-iterations).</summary>
    public static void Release(Communicator world)
    {
        if (world.Size > 1 && world.IsRoot) world.Broadcast(new[] { StopCommand });
    }

    /// <summary>
    /// A rank other than 0: steps <paramref name="meta"/> whenever rank 0 says so, until it says stop. A trainer that
    /// could not be built (<paramref name="failed"/>) or a step that fails stops the whole job with a message naming the rank.
    /// </summary>
    public static RunOutcome Follow(IMetaTrainer? meta, Exception? failed, Communicator world, RunDirectory dir)
    {
        while (world.Broadcast<int>(null)[0] == StepCommand)
        {
            if (failed is not null) Fail(world, failed);
            try
            {
                meta!.Step();
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

    private static void Fail(Communicator world, Exception e) =>
        world.Abort($"error: {Cluster.Describe(world)} failed: {e.Message.ReplaceLineEndings(" ")}; stopping the job.", 1);

    /// <summary>Rank 0's trainer: says "step" to the other ranks before each of its own steps.</summary>
    private sealed class Leader(IMetaTrainer inner, Communicator world) : IMetaTrainer
    {
        public ILearnedOptimizer LearnedOptimizer => inner.LearnedOptimizer;

        public float[] Phi => inner.Phi;

        public long Iteration => inner.Iteration;

        public long Iterations => inner.Iterations;

        public int? MaxDegreeOfParallelism { get => inner.MaxDegreeOfParallelism; set => inner.MaxDegreeOfParallelism = value; }

        public bool CanRestartPopulation => false;

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

        public void SaveCheckpoint(Stream stream) => throw new NotSupportedException("checkpoints of the agents are not written under MPI ranks yet.");

        public void SaveMetaState(BinaryWriter writer) => inner.SaveMetaState(writer);

        public long LoadMetaState(BinaryReader reader) => inner.LoadMetaState(reader);

        public void ContinueWithFreshPopulation(long iteration) => throw new NotSupportedException("--restart-population does not run over MPI ranks yet.");

        public void LoadCheckpoint(Stream stream) => throw new NotSupportedException("--resume does not run over MPI ranks yet.");
    }
}
