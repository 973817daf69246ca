using System.Runtime.CompilerServices;
using Optim4RL.Envs.MuJoCo;

namespace Optim4RL.Cli;

/// <summary>
/// Connects the Optim4RL.MuJoCo assembly when the CLI loads: the library does not reference it, so the CLI adds the
/// MuJoCo tasks to the library's continuous-control registry.
/// </summary>
internal static class MuJoCoStartup
{
    /// <summary>Runs once, before any command.</summary>
    [ModuleInitializer]
    internal static void Register() => MuJoCoTasks.Register();
}
