namespace Optim4RL.Agents;

/// <summary>
/// Acts and steps a vector environment for one batch step, writing the rewards and end flags of all
/// <c>N</c> environments into the spans it is given.
/// </summary>
internal delegate void EnvironmentStep(Span<float> rewards, Span<bool> terminated, Span<bool> truncated);

/// <summary>
/// The return of every environment's first episode (Brax's evaluator semantics): step all
/// environments together until each has ended one episode or <c>maxSteps</c> batch steps have run;
/// an environment whose episode is still running at the cap counts with its partial return.
/// Shared by the PPO evaluation during training and by the evaluation of saved policies.
/// </summary>
internal static class FirstEpisodes
{
    /// <summary>
    /// Runs <paramref name="step"/> until every one of the <paramref name="returns"/>.Length
    /// environments has finished its first episode, or for <paramref name="maxSteps"/> steps;
    /// <paramref name="returns"/> receives each environment's undiscounted return. The caller resets
    /// the environments first. Returns how many episodes finished.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSteps"/> is below 1.</exception>
    public static int Run(EnvironmentStep step, int maxSteps, double[] returns)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(returns);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        int n = returns.Length;
        var rewards = new float[n];
        var terminated = new bool[n];
        var truncated = new bool[n];
        var done = new bool[n];
        Array.Clear(returns);
        int finished = 0;
        for (int t = 0; t < maxSteps && finished < n; t++)
        {
            step(rewards, terminated, truncated);
            for (int e = 0; e < n; e++)
            {
                if (done[e]) continue;
                returns[e] += rewards[e];
                if (terminated[e] || truncated[e])
                {
                    done[e] = true;
                    finished++;
                }
            }
        }

        return finished;
    }
}
