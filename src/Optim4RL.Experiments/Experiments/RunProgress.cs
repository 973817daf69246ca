namespace Optim4RL.Experiments;

/// <summary>A progress report from a long-running job: which phase, how far, and a short status line.</summary>
/// <param name="Phase">A label such as "meta-train catch" or "eval small_dense_short / Adam".</param>
/// <param name="Done">Units done (iterations or environment steps).</param>
/// <param name="Total">Units in the phase.</param>
/// <param name="Status">A short status, e.g. the latest mean return.</param>
public readonly record struct RunProgress(string Phase, long Done, long Total, string Status);
