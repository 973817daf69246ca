namespace Optim4RL.Analysis;

/// <summary>Runs that share a configuration (they differ only by seed or repeat index).</summary>
/// <param name="Label">A short label: the optimizer and learning rate, plus whatever else differs between groups.</param>
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
public static class RunGrouping
{
    /// <summary>Keys always shown in a label when present (the optimizer and its learning rate).</summary>
    public static readonly IReadOnlyList<string> LabelKeys = ["agent_optim.name", "agent_optim.kwargs.learning_rate"];

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
            if (!members.TryGetValue(key, out var list))
            {
                members[key] = list = [];
                values[key] = keyValues;
                order.Add(key);
            }

            list.Add(run);
        }

        var allValues = order.Select(k => values[k]).ToList();
        var labels = order.Select(k => Label(values[k], allValues, explicitKeys ? groupBy! : null)).ToList();
        // Labels are unique by construction unless keys are missing; disambiguate anyway.
        foreach (var dup in labels.Select((l, i) => (l, i)).GroupBy(p => p.l).Where(g => g.Count() > 1))
        {
            int n = 1;
            foreach (var (_, i) in dup) labels[i] += $" #{n++}";
        }

        return order.Select((k, i) => new RunGroup(labels[i], values[k], members[k])).ToList();
    }

    /// <summary>
    /// The label of one group: with explicit keys, their values; otherwise the agent name when it
    /// differs between groups, the optimizer name and <c>lr=</c>, then every other key that differs
    /// between groups as <c>name=value</c> (last segment of the key path; φ files shortened).
    /// </summary>
    public static string Label(IReadOnlyDictionary<string, string> values, IReadOnlyList<IReadOnlyDictionary<string, string>> all, IReadOnlyList<string>? keys = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(all);
        var parts = new List<string>();
        if (keys is { Count: > 0 })
        {
            foreach (string k in keys) parts.Add(Part(k, values.TryGetValue(k, out string? v) ? v : "(none)"));
            return string.Join(' ', parts);
        }

        bool Differs(string k) => all.Select(a => a.TryGetValue(k, out string? v) ? v : null).Distinct().Count() > 1;
        if (values.TryGetValue("agent.name", out string? agent) && Differs("agent.name")) parts.Add(agent);
        foreach (string k in LabelKeys)
        {
            if (values.TryGetValue(k, out string? v)) parts.Add(Part(k, v));
        }

        foreach ((string k, string v) in values)
        {
            if (k == "agent.name" || LabelKeys.Contains(k) || !Differs(k)) continue;
            parts.Add(Part(k, v));
        }

        return parts.Count > 0 ? string.Join(' ', parts) : "all runs";
    }

    private static string Part(string key, string value)
    {
        if (key == "agent_optim.name" || key == "agent.name") return value;
        if (key.EndsWith("learning_rate", StringComparison.Ordinal)) return "lr=" + value;
        if (key.EndsWith("param_load_path", StringComparison.Ordinal))
        {
            string v = value.Replace('\\', '/');
            if (v.StartsWith("logs/", StringComparison.Ordinal)) v = v["logs/".Length..];
            if (v.EndsWith("/param.json", StringComparison.Ordinal)) v = v[..^"/param.json".Length];
            return "φ=" + v;
        }

        int dot = key.LastIndexOf('.');
        return (dot >= 0 ? key[(dot + 1)..] : key) + "=" + value;
    }
}
