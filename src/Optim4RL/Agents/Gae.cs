namespace Optim4RL.Agents;

/// <summary>
/// Generalised advantage estimation over one segment with Brax's truncation handling
/// (<c>brax.training.agents.ppo.losses.compute_gae</c>; docs/algorithms.md, "PPO").
/// </summary>
/// <remarks>
/// With r_t the scaled rewards, v_t the values of the segment's observations, v_T the bootstrap
/// value, d_t = 1 − terminated_t and m_t = 1 − truncated_t:
/// <list type="bullet">
/// <item>δ_t = (r_t + γ·d_t·v_{t+1} − v_t)·m_t;</item>
/// <item>a_t = δ_t + γ·d_t·m_t·λ·a_{t+1}, a_T = 0; value targets vs_t = a_t + v_t;</item>
/// <item>advantages A_t = (r_t + γ·d_t·vs_{t+1} − v_t)·m_t, with vs_T = v_T.</item>
/// </list>
/// A terminated step does not bootstrap. A truncated step (time limit; its next observation already
/// belongs to the new episode) gets δ = 0, vs = v and A = 0, and cuts the recursion, so the step
/// before it bootstraps from the value of the truncated step's own observation. Everything here is
/// a constant for the gradient (stop-gradient targets).
/// </remarks>
internal static class Gae
{
    /// <summary>Computes value targets and advantages for one segment of T steps.</summary>
    /// <param name="rewards">[T] unscaled rewards.</param>
    /// <param name="rewardScaling">Multiplies every reward.</param>
    /// <param name="terminations">[T] terminated flags.</param>
    /// <param name="truncations">[T] truncated flags.</param>
    /// <param name="values">[T] values of the observations the actions were taken in.</param>
    /// <param name="bootstrap">Value of the observation after the last step.</param>
    /// <param name="discount">γ.</param>
    /// <param name="lambda">λ.</param>
    /// <param name="targets">[T] receives vs.</param>
    /// <param name="advantages">[T] receives A (not normalised).</param>
    /// <exception cref="ArgumentException">The spans' lengths differ.</exception>
    public static void Compute(ReadOnlySpan<float> rewards, double rewardScaling, ReadOnlySpan<bool> terminations, ReadOnlySpan<bool> truncations,
        ReadOnlySpan<double> values, double bootstrap, double discount, double lambda, Span<double> targets, Span<double> advantages)
    {
        int n = rewards.Length;
        if (terminations.Length != n || truncations.Length != n || values.Length != n || targets.Length != n || advantages.Length != n)
            throw new ArgumentException("GAE inputs and outputs must all have T elements.");
        double acc = 0;
        for (int t = n - 1; t >= 0; t--)
        {
            double next = t + 1 < n ? values[t + 1] : bootstrap;
            double live = terminations[t] ? 0 : 1;
            double mask = truncations[t] ? 0 : 1;
            double delta = (rewards[t] * rewardScaling + discount * live * next - values[t]) * mask;
            acc = delta + discount * live * mask * lambda * acc;
            targets[t] = acc + values[t];
        }
        for (int t = 0; t < n; t++)
        {
            double next = t + 1 < n ? targets[t + 1] : bootstrap;
            double live = terminations[t] ? 0 : 1;
            double mask = truncations[t] ? 0 : 1;
            advantages[t] = (rewards[t] * rewardScaling + discount * live * next - values[t]) * mask;
        }
    }
}
