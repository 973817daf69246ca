namespace Optim4RL.Meta;

/// <summary>
/// Pipeline training's staggered reset schedule (paper §4.2; docs/algorithms.md, "Meta-training", step 1): agent j is
/// re-initialised at meta-iteration t (1-based) when (t − 1) mod R = reset_index_j, with
/// reset_index_j = ⌊linspace(0, R − 1, B)_j⌋. After the first R iterations the B agents are
/// spread evenly over R training stages. The no-pipeline ablation never resets.
/// </summary>
public sealed class PipelineSchedule
{
    private readonly int[] _resetIndex;

    /// <summary>Creates the schedule for <paramref name="numAgents"/> agents and reset interval <paramref name="resetInterval"/>.</summary>
    /// <param name="numAgents">B ≥ 1.</param>
    /// <param name="resetInterval">R ≥ 1, in meta-iterations.</param>
    /// <param name="enabled">False for the ablation (MetapA2C): no agent is ever reset.</param>
    /// <exception cref="ArgumentOutOfRangeException">B or R is below 1.</exception>
    public PipelineSchedule(int numAgents, int resetInterval, bool enabled = true)
    {
        if (numAgents < 1) throw new ArgumentOutOfRangeException(nameof(numAgents), numAgents, "num_envs (agents per task) must be ≥ 1.");
        if (resetInterval < 1) throw new ArgumentOutOfRangeException(nameof(resetInterval), resetInterval, "reset_interval must be ≥ 1.");
        ResetInterval = resetInterval;
        Enabled = enabled;
        _resetIndex = new int[numAgents];
        for (int j = 0; j < numAgents; j++)
        {
            // linspace(0, R−1, B)_j = j·(R−1)/(B−1); the tiny epsilon keeps exact integers from rounding down.
            double x = numAgents == 1 ? 0 : j * (double)(resetInterval - 1) / (numAgents - 1);
            _resetIndex[j] = (int)Math.Floor(x + 1e-9);
        }
    }

    /// <summary>R, in meta-iterations.</summary>
    public int ResetInterval { get; }

    /// <summary>False for the no-pipeline ablation.</summary>
    public bool Enabled { get; }

    /// <summary>reset_index_j for every agent.</summary>
    public IReadOnlyList<int> ResetIndex => _resetIndex;

    /// <summary>True when agent <paramref name="agent"/> is re-initialised at the start of 1-based meta-iteration <paramref name="iteration"/>.</summary>
    public bool ShouldReset(int agent, long iteration) =>
        Enabled && (iteration - 1) % ResetInterval == _resetIndex[agent];
}
