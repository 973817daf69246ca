using Optim4RL.Tensors;

namespace Optim4RL.Envs;

/// <summary>
/// Looks discrete-action tasks up by name (spec §2): <c>catch</c> and the eight LPG gridworlds of
/// <see cref="GridworldConfig.All"/>. Names are matched case-insensitively after trimming; the gridworld
/// abbreviations of spec §2.2 (first letters: <c>sss</c>, <c>ssl</c>, <c>sds</c>, <c>sdl</c>, <c>bss</c>,
/// <c>bsl</c>, <c>bds</c>, <c>bdl</c>) are accepted too.
/// </summary>
public static class EnvRegistry
{
    /// <summary>The canonical task names: <c>catch</c>, then the eight gridworlds in spec §2.2 table order.</summary>
    public static IReadOnlyList<string> Names { get; } =
        Array.AsReadOnly<string>(["catch", .. GridworldConfig.All.Select(c => c.Name)]);

    /// <summary>
    /// Abbreviation → canonical name, e.g. <c>bdl</c> → <c>big_dense_long</c>: the first letter of each
    /// word of every gridworld name.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Abbreviations { get; } =
        GridworldConfig.All.ToDictionary(c => string.Concat(c.Name.Split('_').Select(w => w[0])), c => c.Name);

    /// <summary>
    /// True when <paramref name="name"/> (or an abbreviation of it) is one of the discrete tasks of
    /// <see cref="Names"/>; false for any other name (continuous-control tasks and unknown names alike).
    /// </summary>
    public static bool IsDiscrete(string name) => TryResolve(name, out _);

    /// <summary>
    /// The canonical name for a task name or abbreviation (e.g. <c>SDL</c> → <c>small_dense_long</c>),
    /// or false when it names no discrete task.
    /// </summary>
    public static bool TryResolve(string? name, out string canonical)
    {
        canonical = "";
        if (name is null) return false;
        string key = name.Trim().ToLowerInvariant();
        if (Abbreviations.TryGetValue(key, out var full))
        {
            canonical = full;
            return true;
        }
        foreach (var n in Names)
        {
            if (n == key)
            {
                canonical = n;
                return true;
            }
        }
        return false;
    }

    /// <summary>The canonical name for a task name or abbreviation.</summary>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    public static string Resolve(string name) =>
        TryResolve(name, out var canonical) ? canonical : throw UnknownTask(name);

    /// <summary>
    /// Creates a batch of <paramref name="numEnvs"/> environments of a discrete task: a <see cref="Catch"/> for
    /// <c>catch</c>, otherwise a <see cref="Gridworld"/> on the named map. Environment i uses <c>rng.Split(i)</c>.
    /// </summary>
    /// <param name="name">A name of <see cref="Names"/> or an abbreviation (case-insensitive).</param>
    /// <param name="numEnvs">How many environments (≥ 1).</param>
    /// <param name="rng">Root stream (not advanced).</param>
    /// <param name="rewardScaling">Multiplies every reward (spec §2.2; 1 by default).</param>
    /// <exception cref="ArgumentException">The name is unknown, e.g. "Unknown task 'foo'. Valid tasks: catch,
    /// small_sparse_short, … (abbreviations: sss, …)."</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1.</exception>
    public static IDiscreteVectorEnv CreateDiscrete(string name, int numEnvs, Rng rng, float rewardScaling = 1f)
    {
        string canonical = Resolve(name);
        if (canonical == "catch") return new Catch(numEnvs, rng, rewardScaling);
        return new Gridworld(GridworldConfig.Find(canonical)!, numEnvs, rng, rewardScaling);
    }

    private static ArgumentException UnknownTask(string? name) =>
        new($"Unknown task '{name}'. Valid tasks: {string.Join(", ", Names)} (abbreviations: {string.Join(", ", Abbreviations.Keys)}).", nameof(name));
}
