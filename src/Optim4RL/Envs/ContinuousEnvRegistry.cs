using System.Collections.Concurrent;
using Optim4RL.Tensors;

namespace Optim4RL.Envs;

/// <summary>
/// Looks continuous-control tasks up by name for PPO and MetaPPO runs. The MuJoCo tasks (the
/// <see cref="MuJoCoNames"/>, named as in Brax) come from <see cref="MuJoCoFactory"/>, which this
/// build leaves unset: the MuJoCo binding wires it (to <c>EnvRegistry.CreateContinuous</c>). Extra
/// tasks (e.g. test tasks) can be added with <see cref="Register"/>; they take precedence.
/// </summary>
public static class ContinuousEnvRegistry
{
    private static readonly ConcurrentDictionary<string, Func<int, Rng, IContinuousVectorEnv>> Registered = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The MuJoCo task names the reference's configs use (Brax names), plus the three tasks we add.</summary>
    public static IReadOnlyList<string> MuJoCoNames { get; } =
        ["ant", "halfcheetah", "hopper", "humanoid", "inverted_double_pendulum", "inverted_pendulum", "walker2d"];

    /// <summary>
    /// Creates the MuJoCo tasks: (name, number of environments, root stream) → environments.
    /// Null until the MuJoCo binding sets it.
    /// </summary>
    public static Func<string, int, Rng, IContinuousVectorEnv>? MuJoCoFactory { get; set; }

    /// <summary>Adds (or replaces) a task under <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">Task name.</param>
    /// <param name="factory">(number of environments, root stream) → environments.</param>
    public static void Register(string name, Func<int, Rng, IContinuousVectorEnv> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        Registered[name.Trim()] = factory;
    }

    /// <summary>True when <paramref name="name"/> can be created now.</summary>
    public static bool IsAvailable(string name) =>
        Registered.ContainsKey(name.Trim()) || (MuJoCoFactory is not null && MuJoCoNames.Contains(name.Trim().ToLowerInvariant()));

    /// <summary>Creates <paramref name="numEnvs"/> environments of task <paramref name="name"/>.</summary>
    /// <param name="name">A registered name or one of <see cref="MuJoCoNames"/> (case-insensitive).</param>
    /// <param name="numEnvs">How many environments (≥ 1).</param>
    /// <param name="rng">Root stream; environment i should use <c>rng.Split(i)</c>.</param>
    /// <exception cref="NotSupportedException">A MuJoCo task while no MuJoCo binding is wired in.</exception>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1.</exception>
    public static IContinuousVectorEnv Create(string name, int numEnvs, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        string key = name.Trim();
        if (Registered.TryGetValue(key, out var factory)) return factory(numEnvs, rng);
        if (MuJoCoNames.Contains(key.ToLowerInvariant()))
        {
            if (MuJoCoFactory is null)
                throw new NotSupportedException($"MuJoCo tasks are not available in this build: '{name}' needs the MuJoCo binding (ContinuousEnvRegistry.MuJoCoFactory is not set).");
            return MuJoCoFactory(key.ToLowerInvariant(), numEnvs, rng);
        }
        throw new ArgumentException($"Unknown continuous-control task '{name}'. Valid tasks: {string.Join(", ", MuJoCoNames.Concat(Registered.Keys))}.", nameof(name));
    }
}
