using Optim4RL.Agents;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Meta;

/// <summary>
/// The paper's meta-gradient (docs/algorithms.md, "Meta-training", steps 2–4): K recorded inner updates,
/// the meta-loss L(θ_K) on a fresh rollout, and dL/dφ back-propagated through the K learned-optimizer steps
/// with the agents' gradients g_k held constant, averaged over the agents. It minimises the RL loss.
/// </summary>
public sealed class BackpropThroughTime : IMetaGradientEstimator
{
    /// <summary>The config name, and the default when <c>meta_estimator</c> is absent.</summary>
    public const string EstimatorName = "BPTT";

    /// <inheritdoc/>
    public string Name => EstimatorName;

    /// <inheritdoc/>
    public bool SplitsAgentsOverRanks => true;

    /// <inheritdoc/>
    public long StepsPerIteration(IInnerProblem problem) => problem.StepsPerIteration;

    /// <inheritdoc/>
    public MetaEstimate Estimate(IInnerProblem problem, ReadOnlySpan<float> phi, long iteration, int task, Span<float> metaGradient,
        ref A2CLossTerms terms, double termsWeight)
    {
        problem.Unroll(phi, problem.InnerUpdates, record: true, iteration);
        var metaLoss = PhaseClock.Begin(PhaseRegion.MetaLoss);
        double loss = problem.MetaLoss(iteration, ref terms, termsWeight);
        PhaseClock.End(MetaPhase.MetaLossRollout, metaLoss);
        var kernel = PhaseClock.Begin();
        metaGradient.Clear();
        problem.AccumulateMetaGradient(metaGradient);
        PhaseClock.End(MetaPhase.MetaGradientKernel, kernel);
        TP.Multiply(metaGradient, 1f / problem.Agents, metaGradient);
        return new MetaEstimate(loss / problem.Agents, problem.EnvStepsPerIteration);
    }
}
