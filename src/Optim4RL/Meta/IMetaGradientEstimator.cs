using Optim4RL.Agents;

namespace Optim4RL.Meta;

/// <summary>What an estimator reports about one task's share of a meta-iteration.</summary>
/// <param name="MetaLoss">The task's meta-loss, a mean over its agents (BPTT: the RL loss of θ_K; ES: minus the mean fitness).</param>
/// <param name="EnvSteps">Environment steps all the task's agents took.</param>
public readonly record struct MetaEstimate(double MetaLoss, long EnvSteps);

/// <summary>
/// A way to estimate the meta-gradient of one task (docs/estimators.md): given the population and φ, it
/// advances the population by one meta-iteration and writes the direction the meta-optimizer
/// descends. <see cref="MetaTrainer"/> does the rest (pipeline resets, per-task rescaling, the mean over
/// tasks, the meta-optimizer step, logs and checkpoints). Implementations: <see cref="BackpropThroughTime"/>
/// and <see cref="EvolutionStrategies"/>.
/// </summary>
/// <remarks>
/// An estimator must be deterministic given the population's state, φ, the meta-iteration and the task
/// index, for any thread count; any state it keeps between meta-iterations must be derivable from
/// those (the checkpoint holds only φ, the meta-optimizer and the population).
/// </remarks>
public interface IMetaGradientEstimator
{
    /// <summary>The name configs use (<c>meta_estimator.name</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Under MPI ranks: true when each rank runs a static slice of every population and the partial meta-gradients
    /// are added in global order (back-propagation); false when every rank holds the whole population and the
    /// estimator spreads its own work over the ranks (ES: the perturbation pairs).
    /// </summary>
    bool SplitsAgentsOverRanks { get; }

    /// <summary>Environment steps one meta-iteration costs on <paramref name="problem"/>; the run lasts <c>env.train_steps</c> ÷ this (first task) meta-iterations.</summary>
    long StepsPerIteration(IInnerProblem problem);

    /// <summary>
    /// Task <paramref name="task"/>'s share of meta-iteration <paramref name="iteration"/> (1-based): writes its
    /// meta-gradient [|φ|], the direction whose negative improves φ, into <paramref name="metaGradient"/> and
    /// adds its meta-loss terms × <paramref name="termsWeight"/> to <paramref name="terms"/> (if it has any).
    /// </summary>
    /// <exception cref="TrainingDivergedException">The agents diverged (φ must be left as it is).</exception>
    MetaEstimate Estimate(IInnerProblem problem, ReadOnlySpan<float> phi, long iteration, int task, Span<float> metaGradient,
        ref A2CLossTerms terms, double termsWeight);
}
