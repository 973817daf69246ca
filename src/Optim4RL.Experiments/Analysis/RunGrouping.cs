namespace Optim4RL.Analysis;

/// <summary>Runs that share a configuration (they differ only by seed or repeat index).</summary>
/// <param name="Label">A short label in words: the optimizer, what its φ is when that differs between groups, and α; more keys only where needed to tell groups apart.</param>
/// <param name="Values">The grouping keys' values (dotted key path → value).</param>
/// <param name="Runs">The runs, in directory order.</param>
public sealed record RunGroup(string Label, IReadOnlyDictionary<string, string> Values, IReadOnlyList<RunData> Runs);

/// <summary>
/// Groups runs into configurations for learning curves and reports. By default two runs are in
/// one group when their <c>config.json</c> files agree on every key except the repeat keys
/// (<see cref="RunSet.RepeatKeys"/>: seed, base_seed, config_idx, num_combinations, exp, provenance,
/// generate_random_seed), i.e. the repeats k, k + Total, … of one sweep configuration. With
/// explicit keys (<c>--group-by agent_optim.name</c>) only those keys count, which pools e.g. all
/// φ files of a learned optimizer.
/// </summary>
/// <remarks>
/// Labels say what differs in words (docs/figures.md): <c>Adam α=3e-3</c>,
/// <c>Optim4RL (pipeline) α=3e-3</c>, <c>Optim4RL (untrained φ) α=1e-3</c>. They are built from what
/// all runs of a group share: the agent (when it differs between groups), the optimizer
/// (<c>agent_optim.name</c>, or <c>optim.name</c> in PPO files), a description of the φ file
/// (<see cref="PhiSource"/>: untrained or learned φ, pipeline or not, shown when it differs between
/// groups; an untrained φ is always named) and α (the learning rate). Only groups whose labels would
/// still coincide get the other keys that differ (<c>entropy_weight=0.01</c>, <c>φ=meta_rl_catch/3</c>), or
/// the explicit grouping keys' values.
/// </remarks>
public static class RunGrouping
{
    /// <summary>Description keys derived from a run's config (not config keys): optimizer, α, φ kind, meta-training mode.</summary>
    public const string OptimizerKey = "@optimizer", AlphaKey = "@alpha", PhiKey = "@phi", TrainingKey = "@training";

    /// <summary>Groups <paramref name="runs"/>, in order of first appearance.</summary>
    /// <param name="runs">The runs.</param>
    /// <param name="groupBy">Dotted key paths to group by; null or empty = every non-repeat key.</param>
    public static IReadOnlyList<RunGroup> Group(IReadOnlyList<RunData> runs, IReadOnlyList<string>? groupBy = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        bool explicitKeys = groupBy is { Count: > 0 };
        var order = new List<string>();
        var members = new Dictionary<string, List<RunData>>(StringComparer.Ordinal);
        var values = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var described = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var phiCache = new Dictionary<(string, string), (string, string?)>();
        foreach (RunData run in runs)
        {
            var keyValues = new Dictionary<string, string>(StringComparer.Ordinal);
            if (explicitKeys)
            {
                foreach (string k in groupBy!) keyValues[k] = run.Flat.TryGetValue(k, out string? v) ? v : "(none)";
            }
            else
            {
                foreach ((string k, string v) in run.Flat)
                {
                    if (!RunSet.IsRepeatKey(k)) keyValues[k] = v;
                }
            }

            string key = string.Join('\u001f', keyValues.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
            var facets = Describe(run, phiCache);
            if (!members.TryGetValue(key, out var list))
            {
                members[key] = list = [];
                values[key] = keyValues;
                described[key] = facets;
                order.Add(key);
            }
            else
            {
                // A group is described by what all its runs share.
                foreach (var k in described[key].Keys.Where(k => !facets.TryGetValue(k, out string? v) || v != described[key][k]).ToList()) described[key].Remove(k);
            }

            list.Add(run);
        }

        var all = order.Select(k => (IReadOnlyDictionary<string, string>)described[k]).ToList();
        var labels = order.Select(k => Label(described[k], all, explicitKeys && groupBy!.Contains("agent.name"))).ToList();
        // Where labels still coincide, add what tells those groups apart.
        foreach (var clash in labels.Select((l, i) => (l, i)).GroupBy(p => p.l).Where(g => g.Count() > 1).ToList())
        {
            var idx = clash.Select(p => p.i).ToList();
            var clashing = idx.Select(i => (IReadOnlyDictionary<string, string>)(explicitKeys ? values[order[i]] : described[order[i]])).ToList();
            foreach (int i in idx)
            {
                var src = explicitKeys ? values[order[i]] : described[order[i]];
                var extra = src.Where(p => !p.Key.StartsWith('@') && !Covered(p.Key) && Differs(clashing, p.Key)).Select(p => Part(p.Key, p.Value, clashing)).ToList();
                if (extra.Count > 0) labels[i] = (labels[i] == AllRuns ? "" : labels[i] + " ") + string.Join(' ', extra);
            }
        }

        foreach (var dup in labels.Select((l, i) => (l, i)).GroupBy(p => p.l).Where(g => g.Count() > 1))
        {
            int n = 1;
            foreach (var (_, i) in dup) labels[i] += $" #{n++}";
        }

        return order.Select((k, i) => new RunGroup(labels[i], values[k], members[k])).ToList();
    }

    /// <summary>The label when nothing describes a group.</summary>
    public const string AllRuns = "all runs";

    /// <summary>
    /// The label of one group from its description (config keys plus the <c>@</c> keys of
    /// <see cref="Describe(RunData)"/>) among all groups' descriptions: the agent when it differs,
    /// the optimizer, the φ description in parentheses where it differs (an untrained φ always),
    /// and α; <see cref="AllRuns"/> when none of these is known.
    /// </summary>
    /// <param name="values">This group's description.</param>
    /// <param name="all">Every group's description (this one included).</param>
    /// <param name="showAgent">Name the agent even when all groups share it (grouping by <c>agent.name</c>).</param>
    public static string Label(IReadOnlyDictionary<string, string> values, IReadOnlyList<IReadOnlyDictionary<string, string>> all, bool showAgent = false)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(all);
        var parts = new List<string>();
        if (values.TryGetValue("agent.name", out string? agent) && (showAgent || Differs(all, "agent.name"))) parts.Add(agent);
        if (values.TryGetValue(OptimizerKey, out string? opt)) parts.Add(opt);
        // φ descriptions are compared among the groups that have a φ file: "learned φ" next to Adam says nothing.
        var about = new List<string>();
        if (values.TryGetValue(PhiKey, out string? phi) && (phi == PhiSource.Untrained || DiffersWhereSet(all, PhiKey))) about.Add(phi);
        if (values.TryGetValue(TrainingKey, out string? training) && DiffersWhereSet(all, TrainingKey)) about.Add(training);
        if (about.Count > 0) parts.Add("(" + string.Join(", ", about) + ")");
        if (values.TryGetValue(AlphaKey, out string? alpha)) parts.Add("α=" + alpha);
        return parts.Count > 0 ? string.Join(' ', parts) : AllRuns;
    }

    /// <summary>A run's non-repeat config keys plus its description: <see cref="OptimizerKey"/>, <see cref="AlphaKey"/>, and for a φ file <see cref="PhiKey"/> and <see cref="TrainingKey"/> (<see cref="PhiSource"/>).</summary>
    public static Dictionary<string, string> Describe(RunData run) => Describe(run, []);

    private static Dictionary<string, string> Describe(RunData run, Dictionary<(string, string), (string, string?)> phiCache)
    {
        ArgumentNullException.ThrowIfNull(run);
        var d = run.Flat.Where(p => !RunSet.IsRepeatKey(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        string section = d.ContainsKey("agent_optim.name") ? "agent_optim" : "optim";
        if (d.TryGetValue(section + ".name", out string? opt)) d[OptimizerKey] = opt;
        if (d.TryGetValue(section + ".kwargs.learning_rate", out string? lr)) d[AlphaKey] = Compact(lr);
        if (d.TryGetValue(section + ".kwargs.param_load_path", out string? phi) && !string.IsNullOrWhiteSpace(phi))
        {
            string dir = Path.GetDirectoryName(Path.GetFullPath(run.Directory)) ?? ".";
            if (!phiCache.TryGetValue((phi, dir), out var desc)) phiCache[(phi, dir)] = desc = PhiSource.Describe(phi, run.Directory);
            d[PhiKey] = desc.Item1;
            if (desc.Item2 is { } t) d[TrainingKey] = t;
        }

        return d;
    }

    /// <summary>A number in the short form of figure legends: 0.003 → 3e-3, 0.0005 → 5e-4, 0.5 → 0.5; other text unchanged.</summary>
    public static string Compact(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || x == 0 || !double.IsFinite(x)) return value;
        double a = Math.Abs(x);
        if (a >= 0.1 && a < 1e4) return x.ToString("G6", CultureInfo.InvariantCulture);
        int e = (int)Math.Floor(Math.Log10(a));
        double m = x / Math.Pow(10, e);
        string mant = Math.Round(m, 3).ToString("G4", CultureInfo.InvariantCulture);
        if (mant is "10" or "-10") (mant, e) = (x < 0 ? "-1" : "1", e + 1);
        return mant + "e" + e.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Keys the description already says in words.</summary>
    private static bool Covered(string key) => key is "agent.name" || key.EndsWith("optim.name", StringComparison.Ordinal) || key.EndsWith("optim.kwargs.learning_rate", StringComparison.Ordinal);

    private static bool DiffersWhereSet(IReadOnlyList<IReadOnlyDictionary<string, string>> all, string key) =>
        all.Where(a => a.ContainsKey(key)).Select(a => a[key]).Distinct().Count() > 1;

    private static bool Differs(IReadOnlyList<IReadOnlyDictionary<string, string>> all, string key) =>
        all.Select(a => a.TryGetValue(key, out string? v) ? v : null).Distinct().Count() > 1;

    /// <summary>
    /// A φ path as legends show it: the last two parts of its path without <c>.json</c>, a run's
    /// <c>param.json</c> standing for its folder (<c>logs/meta/3/param.json</c> → <c>meta/3</c>,
    /// <c>docs/results/estimators/param_sdl_2.json</c> → <c>estimators/param_sdl_2</c>), and more parts only
    /// where another path in <paramref name="others"/> ends the same way (<c>full/1/phi/param_200</c> next to
    /// <c>full_clip/1/phi/param_200</c>), never starting at a run's index folder: enough to tell φ files apart
    /// without a legend wider than the plot.
    /// </summary>
    /// <param name="value">The φ path (or <c>pretrained:</c> name).</param>
    /// <param name="others">The φ paths it must be told apart from (may include <paramref name="value"/>).</param>
    internal static string ShortPhiPath(string value, IEnumerable<string>? others = null)
    {
        string[] parts = PhiPathParts(value);
        var rest = (others ?? []).Select(PhiPathParts).Where(o => !o.SequenceEqual(parts)).ToList();
        int k = Math.Min(2, parts.Length);
        while (k < parts.Length && rest.Any(o => o.Length >= k && o[^k..].SequenceEqual(parts[^k..]))) k++;
        // A run's index folder alone ("4/…") does not say which sweep it belongs to, nor does its
        // snapshot folder ("phi/param_200" from some run), so neither starts a label.
        while (k < parts.Length && (parts[^k].All(char.IsAsciiDigit) || parts[^k] == Experiments.MetaRun.PhiHistoryFolder)) k++;
        return string.Join('/', parts[^k..]);
    }

    private static string[] PhiPathParts(string value)
    {
        string v = value.Replace('\\', '/');
        if (v.StartsWith("logs/", StringComparison.Ordinal)) v = v["logs/".Length..];
        if (v.EndsWith("/param.json", StringComparison.Ordinal)) v = v[..^"/param.json".Length];
        else if (v.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) v = v[..^".json".Length];
        return v.Split('/', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string Part(string key, string value, IReadOnlyList<IReadOnlyDictionary<string, string>> clashing)
    {
        if (key.EndsWith("param_load_path", StringComparison.Ordinal))
        {
            return "φ=" + ShortPhiPath(value, clashing.Where(c => c.ContainsKey(key)).Select(c => c[key]));
        }

        int dot = key.LastIndexOf('.');
        return (dot >= 0 ? key[(dot + 1)..] : key) + "=" + Compact(value);
    }
}
