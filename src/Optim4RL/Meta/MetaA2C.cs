using Optim4RL.Distributed;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Meta;

/// <summary>
/// Meta-training of a learned optimizer with A2C agents (docs/algorithms.md, "Meta-training"): MetaA2C with pipeline
/// training, or the MetapA2C ablation (agents never reset). The <see cref="MetaTrainer"/> over one
/// <see cref="A2CInnerProblem"/> per task. Each meta-iteration, per task: pipeline resets → the estimator's
/// meta-gradient (by default <see cref="BackpropThroughTime"/>: K inner updates of every agent with the learned
/// optimizer, the meta-loss on a fresh rollout, back-propagation through the K updates with g constant, mean over
/// agents); then optional per-task rescale to max_norm, mean over tasks, and one meta-optimizer step on φ.
/// </summary>
/// <remarks>
/// Agents of a task run in parallel (one Parallel.For per inner update), each worker thread with one
/// autodiff graph that it points at each of its agents in turn; every agent has its
/// own RNG streams, so results do not depend on the thread count. The learned optimizer
/// runs over all B·P coordinates of a task at once.
/// </remarks>
public sealed class MetaA2C : MetaTrainer
{
    private static readonly CheckpointLayout Layout = new(0x4B43344F, 3, "meta-training", null, CountsTasks: true); // "O4CK"; 2: episode trackers saved; 3: the state's storage type, and the state in it

    /// <summary>Builds every task's agents and environments and initialises φ.</summary>
    /// <param name="cfg">Run settings.</param>
    /// <param name="lopt">The learned optimizer architecture.</param>
    /// <param name="metaOptimizer">The optimizer of φ (Adam with grad_clip or grad_norm in the reference).</param>
    /// <param name="initialPhi">Starting φ (e.g. loaded from a file); null draws the architecture's initial values.</param>
    /// <param name="estimator">The meta-gradient estimator; null = <see cref="BackpropThroughTime"/>.</param>
    /// <param name="ranks">
    /// The job whose ranks share the run (null: one process). With back-propagation each rank runs the agents
    /// <see cref="StaticPartition.TasksAndAgents"/> gives it (cost P per agent); with ES every rank runs all agents
    /// and the estimator spreads its perturbation pairs (give it the same ranks). Every rank ends each
    /// meta-iteration with the same φ, bit for bit the one-process φ.
    /// </param>
    /// <exception cref="ArgumentException">No task, an unknown task name, or <paramref name="initialPhi"/> of the wrong length.</exception>
    /// <exception cref="NotSupportedException"><paramref name="lopt"/> cannot keep its state in the configured storage type (<see cref="MetaA2CConfig.StateDtype"/>),
    /// or, under several ranks with back-propagation, the architecture has no per-chunk partials.</exception>
    public MetaA2C(MetaA2CConfig cfg, ILearnedOptimizer lopt, IOptimizer metaOptimizer, float[]? initialPhi = null, IMetaGradientEstimator? estimator = null,
        Communicator? ranks = null)
        : base(BuildTasks(cfg, lopt, ranks, estimator), lopt, metaOptimizer, estimator ?? new BackpropThroughTime(),
            new MetaTrainerSettings(cfg.TrainSteps, cfg.MaxNorm, cfg.Seed, Layout), initialPhi)
    {
        Config = Resolved(cfg, lopt);
    }

    /// <summary>Run settings, with <see cref="MetaA2CConfig.StateDtype"/> resolved to the storage the run uses.</summary>
    public MetaA2CConfig Config { get; }

    /// <summary>The tasks' agents, buffers and states (for tests and measurements).</summary>
    internal IReadOnlyList<A2CInnerProblem> Tasks => [.. Problems.Cast<A2CInnerProblem>()];

    /// <summary>How the inner updates run; every mode gives bit-identical results (see <see cref="InnerUpdateMode"/>).</summary>
    internal InnerUpdateMode UpdateMode
    {
        get => Tasks[0].UpdateMode;
        set
        {
            foreach (var t in Tasks) t.UpdateMode = value;
        }
    }

    /// <summary>One A2C loss (graph) per agent instead of the per-thread pool, as a reference for tests (see <see cref="A2CInnerProblem.LossPerAgent"/>).</summary>
    internal bool LossPerAgent
    {
        get => Tasks[0].LossPerAgent;
        set
        {
            foreach (var t in Tasks) t.LossPerAgent = value;
        }
    }

    private static A2CInnerProblem[] BuildTasks(MetaA2CConfig cfg, ILearnedOptimizer lopt, Communicator? ranks, IMetaGradientEstimator? estimator)
    {
        if (cfg.Tasks.Count == 0) throw new ArgumentException("Meta-training needs at least one task (env.name).", nameof(cfg));
        if (cfg.InnerUpdates < 1) throw new ArgumentException("inner_updates must be ≥ 1.", nameof(cfg));
        cfg = Resolved(cfg, lopt);
        var dtype = cfg.StateDtype!.Value;
        if (!lopt.Supports(dtype))
            throw new NotSupportedException($"{lopt.Name} does not support a {dtype.Name()} recurrent state (agent_optim.kwargs.state_dtype); use float32.");
        var root = new Rng(cfg.Seed);
        var tasks = new A2CInnerProblem[cfg.Tasks.Count];
        var slices = Slices(cfg, lopt, ranks, estimator, root);
        // Agents that are not split (one process, or ES over ranks: every rank holds them all) need no collectives.
        var shared = slices is null ? null : ranks;
        for (int i = 0; i < tasks.Length; i++) tasks[i] = new A2CInnerProblem(cfg.Tasks[i], cfg, lopt, root.Split((ulong)i), shared, slices?[i]);
        return tasks;
    }

    /// <summary><paramref name="cfg"/> with its storage type chosen: the one asked for, or <see cref="StateDtypes.DefaultFor"/>.</summary>
    private static MetaA2CConfig Resolved(MetaA2CConfig cfg, ILearnedOptimizer lopt) =>
        cfg.StateDtype is null ? cfg with { StateDtype = StateDtypes.DefaultFor(lopt) } : cfg;

    /// <summary>This rank's agents of every task (a task it has none of: an empty slice), or null when this process runs them all.</summary>
    private static (int First, int Count)[]? Slices(MetaA2CConfig cfg, ILearnedOptimizer lopt, Communicator? ranks, IMetaGradientEstimator? estimator, Rng root)
    {
        if (ranks is null || ranks.Size == 1 || !SplitsAgents(estimator)) return null;
        if (!lopt.HasChunkPartials)
            throw new NotSupportedException($"{lopt.Name} is not meta-trained over MPI ranks (its meta-gradient has no per-chunk partial sums); run it without mpiexec.");
        var costs = cfg.Tasks.Select((t, i) => (t.NumAgents, (long)A2CInnerProblem.SpecOf(t, cfg, root.Split((ulong)i)).Layout.Count)).ToList();
        var own = StaticPartition.TasksAndAgents(costs, ranks.Size)[ranks.Rank];
        var slices = new (int First, int Count)[cfg.Tasks.Count];
        foreach (var (task, first, agents) in own) slices[task] = (first, agents);
        return slices;
    }
}
