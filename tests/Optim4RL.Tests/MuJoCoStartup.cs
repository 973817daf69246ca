using System.Runtime.CompilerServices;
using Optim4RL.Envs.MuJoCo;

namespace Optim4RL.Tests;

/// <summary>The test assembly registers the MuJoCo tasks at load, as the CLI does (the library does not reference them).</summary>
internal static class MuJoCoStartup
{
    [ModuleInitializer]
    internal static void Register() => MuJoCoTasks.Register();
}
