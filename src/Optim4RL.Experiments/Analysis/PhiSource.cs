using System.Text.Json.Nodes;

namespace Optim4RL.Analysis;

/// <summary>
/// What a run's φ file (<c>param_load_path</c>) is, in words for figure legends and report rows:
/// <c>untrained φ</c> (the initial φ of a meta-training run: <c>meta_iterations</c> 0 in the file, or
/// a file named like <c>param_init.json</c> / <c>*untrained*</c>), <c>pretrained φ (NAME)</c>, or
/// <c>learned φ</c>, plus how it was meta-trained when the meta-training run's <c>config.json</c> sits
/// beside it (or above it, for a snapshot in the run's <c>phi/</c> folder): <c>pipeline</c> (MetaA2C, MetaPPO) or <c>no pipeline</c> (MetapA2C, MetapPPO);
/// an untrained φ gets neither.
/// </summary>
public static class PhiSource
{
    /// <summary>The description of a trained φ.</summary>
    public const string Learned = "learned φ";

    /// <summary>The description of an initial (untrained) φ.</summary>
    public const string Untrained = "untrained φ";

    /// <summary>
    /// Describes <paramref name="paramLoadPath"/> as written in the config of the run in
    /// <paramref name="runDirectory"/>: a relative path is looked up from the working directory, then
    /// from the run directory and each folder above it (configs name φ files relative to where the
    /// run was started). Returns the φ kind and the meta-training mode (null when unknown).
    /// </summary>
    public static (string Kind, string? Training) Describe(string paramLoadPath, string runDirectory)
    {
        ArgumentNullException.ThrowIfNull(paramLoadPath);
        string path = paramLoadPath.Trim();
        if (path.StartsWith("pretrained:", StringComparison.Ordinal)) return ($"pretrained φ ({path["pretrained:".Length..]})", null);
        string name = Path.GetFileName(path).ToLowerInvariant();
        bool untrainedName = name.Contains("untrained", StringComparison.Ordinal) || name.Contains("init", StringComparison.Ordinal);
        string? file = Find(path, runDirectory);
        if (file is null) return (untrainedName ? Untrained : Learned, null);
        string kind = untrainedName ? Untrained : Learned;
        try
        {
            var meta = MetaParamsFile.Describe(file).Meta;
            if (meta.TryGetValue("meta_iterations", out string? it)) kind = it == "0" ? Untrained : Learned;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) // MetaParamsFileException is an IOException
        {
            // An unreadable φ file keeps the name's hint.
        }

        // An untrained φ was never meta-trained, so how its run would have trained it says nothing.
        return (kind, kind == Untrained ? null : Training(MetaRunDirectory(file)));
    }

    // A meta-training run writes its final φ beside its config.json and its snapshots into phi/ below it.
    private static string MetaRunDirectory(string phiFile)
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(phiFile) ?? ".");
        if (dir.Name == Experiments.MetaRun.PhiHistoryFolder && dir.Parent is { } run) dir = run;
        return Path.Combine(dir.FullName, Experiments.RunDirectory.ConfigFileName);
    }

    /// <summary>"pipeline" or "no pipeline" from a meta-training run's config.json; null when it is not one.</summary>
    private static string? Training(string configPath)
    {
        try
        {
            if (!File.Exists(configPath) || JsonNode.Parse(File.ReadAllText(configPath)) is not JsonObject config) return null;
            string? agent = (config["agent"] as JsonObject)?["name"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
            return agent switch
            {
                "MetaA2C" or "MetaPPO" => "pipeline",
                "MetapA2C" or "MetapPPO" => "no pipeline",
                _ => null,
            };
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Find(string path, string runDirectory)
    {
        if (Path.IsPathRooted(path)) return File.Exists(path) ? path : null;
        if (File.Exists(path)) return Path.GetFullPath(path);
        for (var d = new DirectoryInfo(Path.GetFullPath(runDirectory)); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, path);
            if (File.Exists(candidate)) return candidate;
        }

        return null;
    }
}
