using System.Runtime.CompilerServices;
using Optim4RL.Envs.MuJoCo;
using Optim4RL.Experiments;

namespace Optim4RL.Cli;

/// <summary>
/// Connects the Optim4RL.MuJoCo assembly when the CLI loads: the library does not reference it, so the CLI adds the
/// MuJoCo tasks to the continuous-control registry and gives the benchmark its physics measurement.
/// </summary>
internal static class MuJoCoStartup
{
    /// <summary>Runs once, before any command.</summary>
    [ModuleInitializer]
    internal static void Register()
    {
        MuJoCoTasks.Register();
        Bench.PhysicsThroughput = (task, numEnvs, steps, threads, seed) =>
            MuJoCoThroughput.Measure(task, numEnvs, steps, threads, warmup: 5, seed).EnvStepsPerSecond;
    }
}
