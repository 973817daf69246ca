namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// Whether the MuJoCo binding can be used on this machine: the project's shim <c>libo4r_mujoco.so</c> (built by
/// <c>dotnet build</c> when <c>scripts/setup.sh</c> has installed libmujoco-dev and gcc) and MuJoCo 2.2.2 itself.
/// </summary>
public static class MuJoCoLibrary
{
    /// <summary>True when the shim and MuJoCo 2.2.2 load and pass the start-up checks; otherwise the reason. Never throws.</summary>
    public static bool IsAvailable(out string? reason) => MuJoCoNative.IsAvailable(out reason);

    /// <summary>mj_version() (222 for MuJoCo 2.2.2).</summary>
    /// <exception cref="MuJoCoException">The library is unavailable (the message says how to install it).</exception>
    public static int Version => MuJoCoNative.Fn.Version;

    /// <summary>The path of the loaded shim.</summary>
    /// <exception cref="MuJoCoException">The library is unavailable.</exception>
    public static string ShimPath => MuJoCoNative.Fn.LibraryPath;
}
