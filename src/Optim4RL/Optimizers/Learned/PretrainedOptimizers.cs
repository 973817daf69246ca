using System.Reflection;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// The meta-trained φ files shipped inside the library (the repository's <c>pretrained/</c> folder,
/// embedded as resources), so a package user needs no file of their own: name one as
/// <c>pretrained:NAME</c> wherever a φ path is accepted (<c>param_load_path</c> in configs,
/// <see cref="MetaParamsFile.Load(string, string, int, MetaParamLayout)"/>), or pass the bare name to
/// <see cref="LearnedOptimizer.Load"/>. <c>pretrained/README.md</c> is the model card: what each was
/// trained on, at what cost, the recommended α and the measured results.
/// </summary>
public static class PretrainedOptimizers
{
    /// <summary>The prefix that names a pretrained φ instead of a file: <c>pretrained:optim4rl-catch</c>.</summary>
    public const string Prefix = "pretrained:";

    private const string ResourcePrefix = "Optim4RL.Pretrained.";

    /// <summary>The names of the shipped φ files (file names without <c>.json</c>), sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(PretrainedOptimizers).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..^".json".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>True when <paramref name="nameOrPath"/> is <c>pretrained:NAME</c> (or a bare NAME) of a shipped φ; its JSON bytes are returned.</summary>
    /// <exception cref="FileNotFoundException">The <c>pretrained:</c> prefix names no shipped φ (the message lists them).</exception>
    public static bool TryRead(string nameOrPath, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? bytes)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        bool prefixed = nameOrPath.StartsWith(Prefix, StringComparison.Ordinal);
        string name = prefixed ? nameOrPath[Prefix.Length..] : nameOrPath;
        bytes = null;
        if (!Names.Contains(name, StringComparer.Ordinal))
        {
            if (prefixed) throw new FileNotFoundException($"There is no pretrained φ '{name}'; shipped: {Describe()}.", nameOrPath);
            return false;
        }

        using var stream = typeof(PretrainedOptimizers).Assembly.GetManifestResourceStream(ResourcePrefix + name + ".json")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        bytes = copy.ToArray();
        return true;
    }

    /// <summary>"pretrained:a, pretrained:b" (or "none are shipped in this build").</summary>
    public static string Describe() => Names.Count == 0 ? "none are shipped in this build" : string.Join(", ", Names.Select(n => Prefix + n));
}
