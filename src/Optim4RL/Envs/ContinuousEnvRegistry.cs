using System.Collections.Concurrent;
using Optim4RL.Tensors;

namespace Optim4RL.Envs;

/// <summary>
/// Looks continuous-control tasks up by name for PPO and MetaPPO runs: the MuJoCo tasks of
/// <see cref="EnvRegistry.ContinuousNames"/> (Brax and Gymnasium names accepted), plus extra tasks
/// added with <see cref="Register"/> (e.g. test tasks), which take precedence.
/// </summary>
public static class ContinuousEnvRegistry
{
    private static readonly ConcurrentDictionary<string, Func<int, Rng, IContinuousVectorEnv>> Registered = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds (or replaces) a task under <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">Task name.</param>
    /// <param name="factory">(number of environments, root stream) → environments.</param>
    public static void Register(string name, Func<int, Rng, IContinuousVectorEnv> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        Registered[name.Trim()] = factory;
    }

    /// <summary>True when <paramref name="name"/> names a registered or a MuJoCo task.</summary>
    public static bool IsAvailable(string name) => Registered.ContainsKey(name.Trim()) || EnvRegistry.IsContinuous(name);

    /// <summary>Creates <paramref name="numEnvs"/> environments of task <paramref name="name"/>.</summary>
    /// <param name="name">A registered name or a MuJoCo task (case-insensitive).</param>
    /// <param name="numEnvs">How many environments (≥ 1).</param>
    /// <param name="rng">Root stream; environment i uses <c>rng.Split(i)</c>.</param>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1.</exception>
    /// <exception cref="MuJoCo.MuJoCoException">The MuJoCo library or shim is missing (run scripts/setup.sh).</exception>
    public static IContinuousVectorEnv Create(string name, int numEnvs, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        string key = name.Trim();
        if (Registered.TryGetValue(key, out var factory)) return factory(numEnvs, rng);
        if (EnvRegistry.IsContinuous(key)) return EnvRegistry.CreateContinuous(key, numEnvs, rng);
        throw new ArgumentException($"Unknown continuous-control task '{name}'. Valid tasks: {string.Join(", ", EnvRegistry.ContinuousNames.Concat(Registered.Keys))}.", nameof(name));
    }
}
