using Optim4RL.Agents;

namespace Optim4RL.Meta;

/// <summary>What one meta-iteration did, for logs and progress bars.</summary>
/// <param name="Iteration">1-based meta-iteration.</param>
/// <param name="Step">Environment steps of the first task so far.</param>
/// <param name="MetaLoss">Mean over tasks and agents of the meta-loss (BPTT: the A2C/PPO loss of θ_K on a fresh rollout; ES: minus the mean fitness).</param>
/// <param name="MetaGradNorm">Global norm of the meta-gradient applied (after max_norm and the task mean).</param>
/// <param name="ReturnSum">Sum of the returns of agents' episodes that finished in the iteration (first task).</param>
/// <param name="Episodes">How many such episodes there were.</param>
public readonly record struct MetaIterationLog(long Iteration, long Step, double MetaLoss, double MetaGradNorm, double ReturnSum, int Episodes)
{
    /// <summary>Mean return of the finished episodes, NaN when none finished.</summary>
    public double MeanReturn => Episodes > 0 ? ReturnSum / Episodes : double.NaN;

    /// <summary>Global norm of the step Δφ the meta-optimizer took.</summary>
    public double PhiUpdateNorm { get; init; }

    /// <summary>The meta-loss's terms, means over tasks and agents like <see cref="MetaLoss"/> (<see cref="A2CLossTerms.Entropy"/> is PPO's entropy estimate for MetaPPO; zero for ES).</summary>
    public A2CLossTerms MetaLossTerms { get; init; }

    /// <summary>Environment steps all agents of all tasks took in the iteration (inner updates and meta-loss rollouts).</summary>
    public long EnvSteps { get; init; }
}
