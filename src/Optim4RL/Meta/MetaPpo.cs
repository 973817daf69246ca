using Optim4RL.Agents;
using Optim4RL.Distributed;
using Optim4RL.Envs;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Meta;

/// <summary>
/// Meta-training of a learned optimizer with PPO agents (docs/algorithms.md, "MetaPPO"; the reference's
/// MetaPPO, and MetapPPO without pipeline resets): the <see cref="MetaTrainer"/> over one <see cref="PpoInnerProblem"/>.
/// Each meta-iteration:
/// <list type="number">
/// <item>pipeline reset: agent j starts over (fresh θ, optimizer state, normaliser, episodes) when
/// (t − 1) mod R = reset_index_j (<see cref="PipelineSchedule"/>; never for MetapPPO);</item>
/// <item>with the default estimator (<see cref="BackpropThroughTime"/>), every agent does <c>inner_updates</c> PPO
/// training steps (<see cref="Ppo.TrainingStep"/>) whose every minibatch step is one learned-optimizer step, recorded:
/// K = inner_updates × update_epochs × num_minibatches steps;</item>
/// <item>meta-loss: the PPO loss of θ_K on a fresh rollout (<see cref="PpoAgent{T}.MetaLossGradient"/>),
/// whose gradient is the adjoint λ;</item>
/// <item>meta-gradient through all K steps (g constant), mean over agents, optional rescale to
/// max_norm, one meta-optimizer step on φ.</item>
/// </list>
/// </summary>
/// <remarks>
/// Agents run in parallel, each with its own environments, kernel state and RNG streams, and
/// their meta-gradients are summed in agent order, so results do not depend on the thread count.
/// Under MPI ranks the agents are split over the ranks (back-propagation) or held whole on every rank while
/// ES spreads its perturbation pairs; either way every rank ends each meta-iteration with the one-process φ.
/// </remarks>
public sealed class MetaPpo : MetaTrainer
{
    /// <summary>Builds the agents and their environments and initialises φ.</summary>
    /// <param name="cfg">Run settings.</param>
    /// <param name="learnedOptimizer">The learned optimizer's architecture name (<see cref="LearnedOptimizers.Names"/>).</param>
    /// <param name="metaOptimizer">The optimizer of φ (Adam with grad_clip or grad_norm in the reference).</param>
    /// <param name="envFactory">Creates one agent's environments: (count, stream) → a vector environment of the task.</param>
    /// <param name="initialPhi">Starting φ (e.g. loaded from a file); null draws the architecture's initial values.</param>
    /// <param name="estimator">The meta-gradient estimator; null = <see cref="BackpropThroughTime"/>.</param>
    /// <param name="ranks">
    /// The job whose ranks share the run (null: one process). With back-propagation each rank runs the agents
    /// <see cref="StaticPartition.Even"/> gives it and the agents' meta-gradients are added in global agent order;
    /// with ES every rank runs all agents and the estimator spreads its perturbation pairs (give it the same ranks).
    /// Every rank ends each meta-iteration with the same φ, bit for bit the one-process φ.
    /// </param>
    /// <exception cref="ArgumentException">Invalid settings, an unknown learned optimizer, or <paramref name="initialPhi"/> of the wrong length.</exception>
    public MetaPpo(MetaPpoConfig cfg, string learnedOptimizer, IOptimizer metaOptimizer, Func<int, Rng, IContinuousVectorEnv> envFactory,
        float[]? initialPhi = null, IMetaGradientEstimator? estimator = null, Communicator? ranks = null)
        : this(cfg, Validated(cfg, LearnedOptimizers.Create(learnedOptimizer)), metaOptimizer, envFactory, initialPhi, estimator, ranks)
    {
    }

    private MetaPpo(MetaPpoConfig cfg, ILearnedOptimizer kernel, IOptimizer metaOptimizer, Func<int, Rng, IContinuousVectorEnv> envFactory,
        float[]? initialPhi, IMetaGradientEstimator? estimator, Communicator? ranks)
        : base([BuildProblem(cfg, kernel, envFactory ?? throw new ArgumentNullException(nameof(envFactory)), estimator, ranks)], kernel,
            metaOptimizer, estimator ?? new BackpropThroughTime(),
            new MetaTrainerSettings(cfg.TrainSteps, cfg.MaxNorm, cfg.Seed, new CheckpointLayout(0x5050344F, 2, "MetaPPO", cfg.Env, CountsTasks: false)), // "O4PP"; 2: episode trackers saved
            initialPhi)
    {
        Config = cfg;
    }

    private PpoInnerProblem Problem => (PpoInnerProblem)Problems[0];

    /// <summary>The agents' networks.</summary>
    public PpoNetworks Networks => Problem.Networks;

    /// <summary>The staggered reset schedule.</summary>
    public PipelineSchedule Schedule => Problem.Schedule;

    /// <summary>The agents this process runs, all B in one process (for inspection).</summary>
    public IReadOnlyList<Ppo> Agents => Problem.AgentList;

    /// <summary>Run settings.</summary>
    public MetaPpoConfig Config { get; }

    /// <summary>The agents, all of them or, when back-propagation runs over several ranks, this rank's share.</summary>
    private static PpoInnerProblem BuildProblem(MetaPpoConfig cfg, ILearnedOptimizer kernel, Func<int, Rng, IContinuousVectorEnv> envFactory,
        IMetaGradientEstimator? estimator, Communicator? ranks)
    {
        if (ranks is null || ranks.Size == 1 || !SplitsAgents(estimator)) return new PpoInnerProblem(cfg, kernel, envFactory, new Rng(cfg.Seed));
        return new PpoInnerProblem(cfg, kernel, envFactory, new Rng(cfg.Seed), ranks, StaticPartition.Even(cfg.NumAgents, ranks.Size, ranks.Rank));
    }

    /// <summary>The kernel, after checking the settings (one kernel instance serves all agents at once).</summary>
    private static ILearnedOptimizer Validated(MetaPpoConfig cfg, ILearnedOptimizer kernel)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        cfg.Validate();
        return kernel;
    }
}
