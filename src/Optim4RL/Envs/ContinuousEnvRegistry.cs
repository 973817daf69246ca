using System.Collections.Concurrent;
using Optim4RL.Tensors;

namespace Optim4RL.Envs;

/// <summary>
/// Looks continuous-control tasks up by name for PPO and MetaPPO runs: the tasks added with <see cref="Register"/>.
/// The MuJoCo tasks of <see cref="EnvRegistry.ContinuousNames"/> live in the Optim4RL.MuJoCo package, whose
/// <c>MuJoCoTasks.Register()</c> adds them (call it once at start-up; the optim4rl CLI does); their Brax and
/// Gymnasium names (<see cref="EnvRegistry.ContinuousAliases"/>) are accepted. A name registered as given takes
/// precedence over an alias.
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

    /// <summary>
    /// True when <paramref name="name"/> names a registered task or one of the MuJoCo tasks (whether or not the
    /// Optim4RL.MuJoCo package has registered them: <see cref="Create"/> says when it has not).
    /// </summary>
    public static bool IsAvailable(string name) => Registered.ContainsKey(name.Trim()) || EnvRegistry.IsContinuous(name);

    /// <summary>Creates <paramref name="numEnvs"/> environments of task <paramref name="name"/>.</summary>
    /// <param name="name">A registered name or a MuJoCo task (case-insensitive).</param>
    /// <param name="numEnvs">How many environments (≥ 1).</param>
    /// <param name="rng">Root stream; environment i uses <c>rng.Split(i)</c>.</param>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1.</exception>
    /// <exception cref="InvalidOperationException">The name is a MuJoCo task but the Optim4RL.MuJoCo package has not
    /// registered the MuJoCo tasks (reference it and call <c>MuJoCoTasks.Register()</c>).</exception>
    /// <remarks>The MuJoCo tasks' factories throw the MuJoCo package's <c>MuJoCoException</c> when the MuJoCo library or
    /// the project's shim is missing (run scripts/setup.sh).</remarks>
    public static IContinuousVectorEnv Create(string name, int numEnvs, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        string key = name.Trim();
        if (Registered.TryGetValue(key, out var factory)) return factory(numEnvs, rng);
        if (EnvRegistry.TryResolveContinuous(key, out string canonical))
        {
            if (Registered.TryGetValue(canonical, out factory)) return factory(numEnvs, rng);
            throw new InvalidOperationException(MuJoCoNotRegistered(name));
        }

        throw new ArgumentException($"Unknown continuous-control task '{name}'. Valid tasks: {string.Join(", ", EnvRegistry.ContinuousNames.Concat(Registered.Keys).Distinct(StringComparer.OrdinalIgnoreCase))}.", nameof(name));
    }

    /// <summary>The one-line message for a MuJoCo task asked for before the Optim4RL.MuJoCo package registered the tasks.</summary>
    internal static string MuJoCoNotRegistered(string name) =>
        $"'{name}' is a MuJoCo task, and the MuJoCo tasks are not registered: reference the Optim4RL.MuJoCo package (src/Optim4RL.MuJoCo) and call Optim4RL.Envs.MuJoCo.MuJoCoTasks.Register() once at start-up.";
}
