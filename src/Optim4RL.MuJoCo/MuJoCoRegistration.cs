using Optim4RL.Tensors;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// The entry point of the Optim4RL.MuJoCo package: creates the MuJoCo continuous-control tasks
/// (<see cref="EnvRegistry.ContinuousNames"/>) and adds them to the library's <see cref="ContinuousEnvRegistry"/>,
/// so that code creating continuous tasks by name (PPO and MetaPPO runs, saved policies) can create them.
/// </summary>
public static class MuJoCoTasks
{
    /// <summary>
    /// Adds the seven MuJoCo tasks to <see cref="ContinuousEnvRegistry"/> under their canonical names (their aliases
    /// resolve to them). Call it once at start-up; calling it again changes nothing. Registering needs neither
    /// MuJoCo nor the shim: creating a task does.
    /// </summary>
    public static void Register()
    {
        foreach (string name in EnvRegistry.ContinuousNames)
            ContinuousEnvRegistry.Register(name, (numEnvs, rng) => Create(name, numEnvs, rng));
    }

    /// <summary>
    /// Creates a batch of <paramref name="numEnvs"/> MuJoCo environments of a continuous-control task
    /// (<see cref="MuJoCoVectorEnv"/>: Gymnasium v4 observation, reward, termination and reset noise, auto-reset,
    /// truncation at 1000 steps). Environment i uses <c>rng.Split(i)</c>. The result is <see cref="IDisposable"/>
    /// (it owns native MuJoCo memory; the finalisers free it otherwise).
    /// </summary>
    /// <param name="name">A name of <see cref="EnvRegistry.ContinuousNames"/> or an alias (case-insensitive).</param>
    /// <param name="numEnvs">How many environments (≥ 1).</param>
    /// <param name="rng">Root stream (not advanced).</param>
    /// <param name="options">Episode length, reward scaling, action mode, threads (defaults: 1000, 1, raw actions, all cores).</param>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1.</exception>
    /// <exception cref="MuJoCoException">MuJoCo 2.2.2 or the project's shim is unavailable (run scripts/setup.sh).</exception>
    public static MuJoCoVectorEnv Create(string name, int numEnvs, Rng rng, MuJoCoEnvOptions? options = null)
    {
        if (!EnvRegistry.TryResolveContinuous(name, out string canonical))
        {
            throw new ArgumentException(
                $"Unknown continuous-control task '{name}'. Valid tasks: {string.Join(", ", EnvRegistry.ContinuousNames)} (aliases: {string.Join(", ", EnvRegistry.ContinuousAliases.Keys)}).",
                nameof(name));
        }

        return new MuJoCoVectorEnv(MuJoCoTask.Create(canonical), numEnvs, rng, options);
    }
}
