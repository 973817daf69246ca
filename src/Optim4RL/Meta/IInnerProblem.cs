using Optim4RL.Agents;

namespace Optim4RL.Meta;

/// <summary>
/// One meta-training task seen by a meta-gradient estimator (docs/estimators.md): a population of B
/// agents, each with its own θ, learned-optimizer state, environments and random streams, that the
/// learned optimizer with meta-parameters φ trains. Implementations: <see cref="A2CInnerProblem"/> (A2C
/// agents on the discrete tasks) and <see cref="PpoInnerProblem"/> (PPO agents on a continuous-control task).
/// </summary>
/// <remarks>
/// Every method is deterministic given the population's state: agents run in parallel but own their
/// random streams, and sums over agents are taken in a fixed order, so results do not depend on
/// the thread count. The state written by <see cref="Save"/> is everything that makes the population
/// continue exactly, so Save/Load also serve as a snapshot that an estimator restores to evaluate
/// several φ from the same starting point.
/// </remarks>
public interface IInnerProblem
{
    /// <summary>The task's name (e.g. <c>catch</c>, <c>ant</c>).</summary>
    string TaskName { get; }

    /// <summary>B, agents in the population.</summary>
    int Agents { get; }

    /// <summary>The first of the agents this process runs (global index; 0 in one process).</summary>
    int FirstAgent => 0;

    /// <summary>How many agents this process runs, from <see cref="FirstAgent"/> on (under MPI ranks, a slice of the B).</summary>
    int OwnedAgents => Agents;

    /// <summary>K: inner updates of every agent per meta-iteration (a truncation of the agents' training).</summary>
    int InnerUpdates { get; }

    /// <summary>The staggered reset schedule of the pipeline training (disabled for the no-pipeline ablations).</summary>
    PipelineSchedule Schedule { get; }

    /// <summary>Environment steps of one meta-iteration by back-propagation as the run's length counts them (the reference's accounting).</summary>
    long StepsPerIteration { get; }

    /// <summary>Environment steps all agents take in one such meta-iteration, meta-loss rollouts included (metrics).</summary>
    long EnvStepsPerIteration { get; }

    /// <summary>Environment steps all agents take in one inner update.</summary>
    long StepsPerInnerUpdate { get; }

    /// <summary>Whether the population can be thrown away and rebuilt mid-run (<c>--restart-population</c>).</summary>
    bool CanRestartPopulation { get; }

    /// <summary>Threads for the agents and the kernels (null = all cores); never changes a result.</summary>
    int? MaxDegreeOfParallelism { set; }

    /// <summary>Agent <paramref name="agent"/> (a global index among the owned ones) starts over: fresh θ (a new draw), zero optimizer state, fresh episodes.</summary>
    void ResetAgent(int agent);

    /// <summary>
    /// <paramref name="updates"/> inner updates of every agent with the learned optimizer at <paramref name="phi"/>.
    /// With <paramref name="record"/>, the state before the first update and every clipped gradient g_k are kept
    /// for <see cref="AccumulateMetaGradient"/> (then <paramref name="updates"/> must be <see cref="InnerUpdates"/>).
    /// Returns the reward all agents collected over the updates' rollouts (undiscounted; the fitness of ES).
    /// <paramref name="iteration"/> (1-based meta-iteration) only names the iteration in error messages.
    /// </summary>
    /// <exception cref="TrainingDivergedException">An agent's loss or gradient became NaN/Inf.</exception>
    double Unroll(ReadOnlySpan<float> phi, int updates, bool record, long iteration);

    /// <summary>
    /// The meta-loss after a recorded <see cref="Unroll"/>: every agent's RL loss of θ_K on a fresh rollout,
    /// whose θ-gradient (the adjoint λ) is kept for <see cref="AccumulateMetaGradient"/>. Returns Σ_j L_j in agent
    /// order and adds each agent's loss terms × <paramref name="termsWeight"/> to <paramref name="terms"/>.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss is NaN/Inf (the message names meta-iteration <paramref name="iteration"/>).</exception>
    double MetaLoss(long iteration, ref A2CLossTerms terms, double termsWeight);

    /// <summary>
    /// Adds Σ_j dL_j/dφ, back-propagated through the recorded updates with g constant, to
    /// <paramref name="sum"/> [|φ|]. The one place where agents' meta-gradients are reduced (A2C: the kernel's
    /// chunk order over all agents' coordinates; PPO: agent order), so a distributed reduction replaces this.
    /// </summary>
    void AccumulateMetaGradient(Span<float> sum);

    /// <summary>Sum and count of the returns of episodes finished since the last call, over all agents.</summary>
    (double Sum, int Count) DrainReturns();

    /// <summary>Writes the population's state (θ, optimizer states, environments, streams, episode trackers).</summary>
    void Save(BinaryWriter writer);

    /// <summary>Restores what <see cref="Save"/> wrote for the same configuration.</summary>
    /// <param name="reader">Positioned at the population's state.</param>
    /// <param name="convertState">Accept a learned-optimizer state stored in another type, converting it.</param>
    /// <exception cref="InvalidDataException">Another task, population size or state type.</exception>
    void Load(BinaryReader reader, bool convertState);
}
