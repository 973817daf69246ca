using System.Numerics;
using System.Reflection;
using System.Runtime.Intrinsics;
using System.Text.Json.Nodes;

namespace Optim4RL.Experiments;

/// <summary>
/// How a run was executed: the build (commit, whether tracked files differed from it), the
/// thread count, and the numeric options that decide the exact floating-point results
/// (element type, SIMD width of the learned-optimizer kernels). Recorded in <c>config.json</c>
/// and in checkpoints — never in <c>param.json</c>, whose bytes must not depend on how a run ran.
/// </summary>
public static class Provenance
{
    /// <summary>The commit the library was built from, or "unknown" outside a git checkout.</summary>
    public static string Commit => Metadata("GitCommit") ?? "unknown";

    /// <summary>"true" when tracked files differed from <see cref="Commit"/> at build time, "false", or "unknown".</summary>
    public static string Dirty => Metadata("GitDirty") ?? "unknown";

    /// <summary>
    /// Options that change results bit for bit: the storage type of the learned optimizer's recurrent
    /// state in the run (<paramref name="stateDtype"/>, from <see cref="StateDtypeSetting"/>), and the
    /// widest SIMD vectors the kernels use on this machine (lane sums are grouped by vector width).
    /// </summary>
    public static JsonObject NumericOptions(StateDtype stateDtype = StateDtype.Float32) => new()
    {
        ["dtype"] = "float32",
        ["state_dtype"] = stateDtype.Name(),
        ["simd_bits"] = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : Vector<float>.Count * 32,
    };

    /// <summary>Everything above plus the thread count (null = all cores) and the .NET version.</summary>
    public static JsonObject Describe(int? threads, StateDtype stateDtype = StateDtype.Float32) => new()
    {
        ["commit"] = Commit,
        ["dirty"] = Dirty,
        ["threads"] = threads ?? Environment.ProcessorCount,
        ["dotnet"] = Environment.Version.ToString(),
        ["numerics"] = NumericOptions(stateDtype),
    };

    private static string? Metadata(string key) =>
        typeof(Provenance).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value is { Length: > 0 } v ? v : null;
}
