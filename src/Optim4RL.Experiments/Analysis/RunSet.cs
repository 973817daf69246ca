using System.Text.Json;
using System.Text.Json.Nodes;
using Optim4RL.Experiments;

namespace Optim4RL.Analysis;

/// <summary>One run directory: its resolved <c>config.json</c>, its learning curves and (PPO) its deterministic evaluations.</summary>
/// <param name="Directory">The run directory.</param>
/// <param name="Config">The resolved config (with the seed used).</param>
/// <param name="Curves">Learning curve per task, from <c>result_&lt;env&gt;.csv</c> (empty for runs that write none).</param>
/// <param name="Evaluations">Deterministic evaluations per task, from <c>eval_deterministic_&lt;env&gt;.csv</c> (PPO runs; null or empty for others).</param>
public sealed record RunData(string Directory, JsonObject Config, IReadOnlyDictionary<string, IReadOnlyList<ResultRow>> Curves,
    IReadOnlyDictionary<string, IReadOnlyList<ResultRow>>? Evaluations = null)
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<ResultRow>> None = new Dictionary<string, IReadOnlyList<ResultRow>>();

    /// <summary>The flattened config (<see cref="RunSet.Flatten"/>).</summary>
    public IReadOnlyDictionary<string, string> Flat { get; } = RunSet.Flatten(Config);

    /// <summary>The run's agent (<c>agent.name</c>; empty when absent).</summary>
    public string Agent => Flat.TryGetValue("agent.name", out string? a) ? a : "";

    /// <summary>The tasks the run logged a learning curve or evaluations for.</summary>
    public IEnumerable<string> Tasks => Curves.Keys.Concat((Evaluations ?? None).Keys).Distinct(StringComparer.Ordinal);

    /// <summary>The logged series a rule reads for <paramref name="env"/>; null when the run has no such file.</summary>
    public IReadOnlyList<ResultRow>? Series(ReturnSeries series, string env) =>
        (series == ReturnSeries.LearningCurve ? Curves : Evaluations ?? None).TryGetValue(env, out var rows) ? rows : null;

    /// <summary>The curves a learning-curve figure draws for <paramref name="source"/>; for <see cref="CurveSource.Auto"/> the deterministic evaluations of PPO runs that have them, the training curves otherwise.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ResultRow>> CurvesOf(CurveSource source) => source switch
    {
        CurveSource.Training => Curves,
        CurveSource.Evaluation => Evaluations ?? None,
        _ => UsesEvaluations ? Evaluations! : Curves,
    };

    /// <summary>True when <see cref="CurveSource.Auto"/> draws this run's evaluations (a PPO run with eval_deterministic files).</summary>
    public bool UsesEvaluations => EvaluationProtocol.IsPpo(Agent) && Evaluations is { Count: > 0 };

    /// <summary>The seed recorded in <c>config.json</c> (0 when absent).</summary>
    public ulong Seed => Config["seed"] is JsonValue v && v.TryGetValue(out ulong s) ? s : 0;
}

/// <summary>Which logged series a learning-curve figure draws (<c>plot --series</c>).</summary>
public enum CurveSource
{
    /// <summary>The series each run's evaluation protocol reads: deterministic evaluations for PPO runs, training returns otherwise.</summary>
    Auto,

    /// <summary>The training episodes' returns, <c>result_&lt;env&gt;.csv</c>.</summary>
    Training,

    /// <summary>The deterministic evaluations of PPO runs, <c>eval_deterministic_&lt;env&gt;.csv</c>.</summary>
    Evaluation,
}

/// <summary>
/// Finds and loads run directories (<c>logs/&lt;experiment&gt;/&lt;k&gt;/</c>, each with a
/// <c>config.json</c>) from run directories or the sweep directories above them.
/// </summary>
public static class RunSet
{
    /// <summary>Keys of <c>config.json</c> that only tell repeats apart (seeds and indices), ignored when grouping.</summary>
    public static readonly IReadOnlyList<string> RepeatKeys = ["seed", "base_seed", "config_idx", "num_combinations", "exp", "generate_random_seed", "provenance"];

    /// <summary>True for a repeat key or a dotted key inside one (<c>provenance.threads</c>).</summary>
    public static bool IsRepeatKey(string flatKey) =>
        RepeatKeys.Any(k => flatKey == k || flatKey.StartsWith(k + ".", StringComparison.Ordinal));

    /// <summary>
    /// The run directories under <paramref name="paths"/>: a path holding <c>config.json</c> is a run;
    /// otherwise its sub-folders are searched (up to three levels), so a sweep directory
    /// (<c>logs/a2c_catch</c>) or the logs root can be given. Sorted with numeric folder names in
    /// numeric order, duplicates removed.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">A path does not exist.</exception>
    public static IReadOnlyList<string> FindRunDirectories(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var found = new List<string>();
        foreach (string path in paths)
        {
            if (!System.IO.Directory.Exists(path)) throw new DirectoryNotFoundException($"'{path}' is not a directory (expected a run directory such as logs/a2c_catch/1 or a sweep directory such as logs/a2c_catch).");
            Collect(Path.GetFullPath(path), 0, found);
        }

        return found.Distinct(StringComparer.Ordinal).Order(NaturalPathComparer.Instance).ToList();
    }

    /// <summary>Loads one run directory.</summary>
    /// <exception cref="InvalidDataException"><c>config.json</c> is not a JSON object, or a result file is damaged.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static RunData Load(string directory)
    {
        string configPath = Path.Combine(directory, RunDirectory.ConfigFileName);
        JsonObject config;
        try
        {
            config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
                ?? throw new InvalidDataException($"{configPath}: not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath}: not valid JSON ({e.Message}).", e);
        }

        var curves = new SortedDictionary<string, IReadOnlyList<ResultRow>>(StringComparer.Ordinal);
        foreach (string file in System.IO.Directory.GetFiles(directory, "result_*.csv"))
        {
            string name = Path.GetFileNameWithoutExtension(file)["result_".Length..];
            curves[name] = ResultCsv.Read(file);
        }

        const string evalPrefix = "eval_deterministic_";
        var evaluations = new SortedDictionary<string, IReadOnlyList<ResultRow>>(StringComparer.Ordinal);
        foreach (string file in System.IO.Directory.GetFiles(directory, evalPrefix + "*.csv"))
        {
            string name = Path.GetFileNameWithoutExtension(file)[evalPrefix.Length..];
            evaluations[name] = ResultCsv.Read(file);
        }

        return new RunData(directory, config, curves, evaluations);
    }

    /// <summary>Finds (<see cref="FindRunDirectories"/>) and loads every run under <paramref name="paths"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">A path does not exist.</exception>
    /// <exception cref="InvalidDataException">A config or result file is damaged.</exception>
    public static IReadOnlyList<RunData> LoadAll(IEnumerable<string> paths) => FindRunDirectories(paths).Select(Load).ToList();

    /// <summary>
    /// The config as dotted key paths (<c>agent_optim.kwargs.learning_rate</c>) to compact JSON
    /// values (strings without their quotes), in file order. Lists are kept whole.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Flatten(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var flat = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(config, "", flat);
        return flat;
    }

    private static void Walk(JsonObject obj, string prefix, Dictionary<string, string> flat)
    {
        foreach ((string key, JsonNode? value) in obj)
        {
            string path = prefix + key;
            if (value is JsonObject child)
            {
                Walk(child, path + ".", flat);
            }
            else if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            {
                flat[path] = v.GetValue<string>();
            }
            else
            {
                flat[path] = value?.ToJsonString() ?? "null";
            }
        }
    }

    private static void Collect(string dir, int depth, List<string> found)
    {
        if (File.Exists(Path.Combine(dir, RunDirectory.ConfigFileName)))
        {
            found.Add(dir);
            return;
        }

        if (depth >= 3) return;
        foreach (string sub in System.IO.Directory.GetDirectories(dir)) Collect(sub, depth + 1, found);
    }
}

/// <summary>Orders paths segment by segment, comparing all-digit segments as numbers (…/2 before …/10).</summary>
public sealed class NaturalPathComparer : IComparer<string>
{
    /// <summary>The shared instance.</summary>
    public static readonly NaturalPathComparer Instance = new();

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        if (x is null || y is null) return string.CompareOrdinal(x, y);
        string[] a = x.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        string[] b = y.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int c = long.TryParse(a[i], NumberStyles.None, CultureInfo.InvariantCulture, out long na) &&
                    long.TryParse(b[i], NumberStyles.None, CultureInfo.InvariantCulture, out long nb)
                ? na.CompareTo(nb)
                : string.CompareOrdinal(a[i], b[i]);
            if (c != 0) return c;
        }

        return a.Length.CompareTo(b.Length);
    }
}
