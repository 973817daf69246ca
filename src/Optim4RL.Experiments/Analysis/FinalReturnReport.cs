using Optim4RL.Experiments;

namespace Optim4RL.Analysis;

/// <summary>The final return of one configuration on one task, over its runs.</summary>
/// <param name="Env">The task.</param>
/// <param name="Group">The configuration.</param>
/// <param name="PerRun">Each run's final return (runs without a finite one are left out).</param>
/// <param name="Summary">Mean over runs with its bootstrap interval.</param>
public sealed record ConfigResult(string Env, RunGroup Group, IReadOnlyList<double> PerRun, MeanCI Summary);

/// <summary>What <see cref="FinalReturnReport"/> computes and how.</summary>
public sealed record ReportSettings
{
    /// <summary>How a run's final return is computed (default: the evaluation protocol).</summary>
    public FinalReturnDefinition Final { get; init; } = FinalReturnDefinition.Protocol;

    /// <summary>
    /// Score every run as if it had stopped after this many environment steps (see
    /// <see cref="FinalReturnReport.FinalReturnOf"/>); null: the whole run.
    /// </summary>
    public long? AtStep { get; init; }

    /// <summary>Confidence level of the intervals.</summary>
    public double Level { get; init; } = Bootstrap.DefaultLevel;

    /// <summary>Bootstrap resamples.</summary>
    public int Resamples { get; init; } = Bootstrap.DefaultResamples;

    /// <summary>Bootstrap seed.</summary>
    public ulong Seed { get; init; }

    /// <summary>The key whose values each get a best configuration.</summary>
    public string BestBy { get; init; } = FinalReturnReport.DefaultBestBy;

    /// <summary>False: no normalised score (<c>--normalise-by none</c>).</summary>
    public bool Normalise { get; init; } = true;

    /// <summary>The configuration whose final return scores 1; null: the one Adam configuration, when exactly one exists on a task.</summary>
    public GroupSelector? NormaliseBy { get; init; }

    /// <summary>The configuration every row's interval is compared with; null: the normalisation reference.</summary>
    public GroupSelector? CompareWith { get; init; }

    /// <summary>Configurations to mark "untrained φ"; null: none.</summary>
    public GroupSelector? Untrained { get; init; }

    /// <summary>R_random per task (from <see cref="RandomBaseline.Load"/>).</summary>
    public IReadOnlyDictionary<string, RandomReturn> RandomReturns { get; init; } = new Dictionary<string, RandomReturn>();

    /// <summary>Where <see cref="RandomReturns"/> came from (for the report's text).</summary>
    public string? RandomReturnsSource { get; init; }
}

/// <summary>The report's part for one task: its configurations, R_random, the normalisation reference and the compared configuration.</summary>
/// <param name="Env">The task.</param>
/// <param name="Rows">Every configuration with a finite final return, best mean first.</param>
/// <param name="Random">R_random, or null when it has not been measured.</param>
/// <param name="Reference">The configuration whose final return scores 1, or null.</param>
/// <param name="ReferenceNote">How the reference was chosen, or why there is none.</param>
/// <param name="Compared">The configuration every row's interval is compared with, or null.</param>
/// <param name="ComparedNote">How it was chosen, or why there is none.</param>
public sealed record TaskReport(string Env, IReadOnlyList<ConfigResult> Rows, RandomReturn? Random, ConfigResult? Reference, string ReferenceNote,
    ConfigResult? Compared, string ComparedNote)
{
    /// <summary>
    /// The normalised score of <paramref name="r"/> with its interval: the final return's mean and interval
    /// mapped by R ↦ (R − R_random)/(R_ref − R_random), R_ref and R_random taken as fixed. Null without a reference or R_random.
    /// </summary>
    public MeanCI? Normalised(ConfigResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (Reference is null || Random is null) return null;
        double Score(double x) => EvaluationProtocol.NormalisedScore(x, Random.Mean, Reference.Summary.Mean);
        double a = Score(r.Summary.Low), b = Score(r.Summary.High);
        return new MeanCI(Score(r.Summary.Mean), Math.Min(a, b), Math.Max(a, b), r.Summary.Count);
    }

    /// <summary>Whether the intervals of <paramref name="r"/> and <see cref="Compared"/> overlap; null without one, or for <see cref="Compared"/> itself.</summary>
    public bool? OverlapsCompared(ConfigResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (Compared is null || ReferenceEquals(r, Compared)) return null;
        return FinalReturnReport.Overlap(r.Summary, Compared.Summary);
    }
}

/// <summary>
/// The Markdown report of a set of runs under the evaluation protocol (<see cref="EvaluationProtocol"/>):
/// per task, every configuration's final return (mean over its runs of each run's final return, with a
/// percentile-bootstrap interval over runs), best first; its normalised score between a uniformly
/// random policy (0) and a reference configuration, by default the one Adam configuration (1); whether
/// its interval overlaps the reference's (or another named configuration's); and the best configuration
/// per value of a grouping key (by default <c>agent_optim.name</c>).
/// </summary>
public static class FinalReturnReport
{
    /// <summary>The default key whose values each get a "best configuration".</summary>
    public const string DefaultBestBy = "agent_optim.name";

    /// <summary>Config keys naming a run's optimizer (<c>optim</c> in the reference's PPO files).</summary>
    public static readonly IReadOnlyList<string> OptimizerKeys = ["agent_optim.name", "optim.name"];

    /// <summary>
    /// The final return of one run on task <paramref name="env"/> under <paramref name="final"/>; NaN when the run has no such data.
    /// With <paramref name="atStep"/>, the run is scored as if it had stopped there: the rule sees only the rows with
    /// Step ≤ <paramref name="atStep"/> (environment steps, all environments together), and a run whose series never
    /// reaches <paramref name="atStep"/> gets NaN (left out) rather than a score from a shorter run.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="atStep"/> is below 1.</exception>
    public static double FinalReturnOf(RunData run, string env, FinalReturnDefinition final, long? atStep = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(final);
        if (atStep is { } cut) ArgumentOutOfRangeException.ThrowIfLessThan(cut, 1L, nameof(atStep));
        var rule = final.RuleFor(run.Agent);
        if (run.Series(rule.Series, env) is not { } rows) return double.NaN;
        if (atStep is not { } s) return rule.Of(rows);
        return rows.Count > 0 && rows[^1].Step >= s ? rule.Of(rows.Where(r => r.Step <= s)) : double.NaN;
    }

    /// <summary>
    /// Every (task, configuration) with at least one finite final return, tasks in name order, best mean first;
    /// with <paramref name="atStep"/>, each run cut there as in <see cref="FinalReturnOf"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An argument is out of range.</exception>
    public static IReadOnlyList<ConfigResult> Compute(IReadOnlyList<RunGroup> groups, FinalReturnDefinition? final = null, double level = Bootstrap.DefaultLevel,
        int resamples = Bootstrap.DefaultResamples, ulong seed = 0, long? atStep = null)
    {
        ArgumentNullException.ThrowIfNull(groups);
        final ??= FinalReturnDefinition.Protocol;
        var envs = groups.SelectMany(g => g.Runs).SelectMany(r => r.Tasks).Distinct().Order(StringComparer.Ordinal);
        var results = new List<ConfigResult>();
        foreach (string env in envs)
        {
            var rows = new List<ConfigResult>();
            foreach (RunGroup g in groups)
            {
                var finals = g.Runs.Select(r => FinalReturnOf(r, env, final, atStep)).Where(double.IsFinite).ToList();
                if (finals.Count == 0) continue;
                rows.Add(new ConfigResult(env, g, finals, Bootstrap.Mean(finals, level, resamples, seed)));
            }

            results.AddRange(rows.OrderByDescending(r => r.Summary.Mean));
        }

        return results;
    }

    /// <summary>The report's tasks: <see cref="Compute"/>, then per task R_random, the normalisation reference and the compared configuration.</summary>
    public static IReadOnlyList<TaskReport> Build(IReadOnlyList<RunGroup> groups, ReportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var results = Compute(groups, settings.Final, settings.Level, settings.Resamples, settings.Seed, settings.AtStep);
        var tasks = new List<TaskReport>();
        foreach (var env in results.GroupBy(r => r.Env))
        {
            var rows = env.ToList();
            var (reference, refNote) = ChooseReference(rows, settings);
            ConfigResult? compared;
            string cmpNote;
            if (settings.CompareWith is { } cw)
            {
                (compared, cmpNote) = Choose(rows.Where(r => cw.Matches(r.Group)).ToList(), $"--compare-with {cw}");
            }
            else
            {
                (compared, cmpNote) = (reference, reference is null ? "no comparison: no reference configuration" : "the reference configuration");
            }

            settings.RandomReturns.TryGetValue(env.Key, out var random);
            tasks.Add(new TaskReport(env.Key, rows, random, reference, refNote, compared, cmpNote));
        }

        return tasks;
    }

    /// <summary>True when two intervals share at least one point.</summary>
    public static bool Overlap(MeanCI a, MeanCI b) => a.Low <= b.High && b.Low <= a.High;

    /// <summary>True when every run of <paramref name="group"/> names Adam as its optimizer.</summary>
    public static bool IsAdam(RunGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.Runs.Count > 0 && group.Runs.All(r => OptimizerKeys.Any(k => r.Flat.TryGetValue(k, out string? v) && string.Equals(v, "Adam", StringComparison.OrdinalIgnoreCase)));
    }

    private static (ConfigResult?, string) ChooseReference(List<ConfigResult> rows, ReportSettings s)
    {
        if (!s.Normalise) return (null, "normalisation off (--normalise-by none)");
        if (s.NormaliseBy is { } sel) return Choose(rows.Where(r => sel.Matches(r.Group)).ToList(), $"--normalise-by {sel}");
        var adam = rows.Where(r => IsAdam(r.Group)).ToList();
        return adam.Count switch
        {
            0 => (null, "no Adam configuration on this task; name the reference with --normalise-by key=value"),
            1 => (adam[0], "the only Adam configuration"),
            _ => (null, $"{adam.Count} Adam configurations on this task; name the reference with --normalise-by (e.g. agent_optim.name=Adam,agent_optim.kwargs.learning_rate=…)"),
        };
    }

    private static (ConfigResult?, string) Choose(List<ConfigResult> matching, string what) => matching.Count switch
    {
        0 => (null, $"no configuration on this task matches {what}"),
        1 => (matching[0], $"matches {what}"),
        _ => (matching.MaxBy(r => r.Summary.Mean), $"the best of {matching.Count} configurations matching {what}"),
    };

    /// <summary>The best configuration (highest mean final return) per task and value of <paramref name="bestBy"/>.</summary>
    public static IReadOnlyList<(string Env, string Value, ConfigResult Best)> Best(IReadOnlyList<ConfigResult> results, string bestBy = DefaultBestBy)
    {
        ArgumentNullException.ThrowIfNull(results);
        return results.GroupBy(r => (r.Env, Value: ValueOf(r, bestBy)))
            .Select(g => (g.Key.Env, g.Key.Value, g.MaxBy(r => r.Summary.Mean)!))
            .OrderBy(t => t.Env, StringComparer.Ordinal).ThenByDescending(t => t.Item3.Summary.Mean)
            .ToList();
    }

    /// <summary>
    /// <see cref="Best"/> as JSON: <c>{ env: { value: { final, low, high, runs, config: { key: value } } } }</c>,
    /// where <c>config</c> holds the group's settings (dotted keys, values as in config.json).
    /// </summary>
    public static string BestJson(IReadOnlyList<ConfigResult> results, string bestBy = DefaultBestBy)
    {
        var root = new System.Text.Json.Nodes.JsonObject();
        foreach (var (env, value, best) in Best(results, bestBy))
        {
            if (root[env] is not System.Text.Json.Nodes.JsonObject perEnv) root[env] = perEnv = [];
            var config = new System.Text.Json.Nodes.JsonObject();
            foreach (var (k, v) in best.Group.Values.OrderBy(p => p.Key, StringComparer.Ordinal)) config[k] = v;
            perEnv[value] = new System.Text.Json.Nodes.JsonObject
            {
                ["final"] = best.Summary.Mean,
                ["low"] = best.Summary.Low,
                ["high"] = best.Summary.High,
                ["runs"] = best.PerRun.Count,
                ["config"] = config,
            };
        }

        return root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>The whole report as Markdown.</summary>
    /// <param name="tasks">From <see cref="Build"/>.</param>
    /// <param name="title">The first heading.</param>
    /// <param name="settings">The settings <paramref name="tasks"/> were built with.</param>
    public static string Markdown(IReadOnlyList<TaskReport> tasks, string title, ReportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(settings);
        var inv = CultureInfo.InvariantCulture;
        string level = $"{settings.Level * 100:0.#} %";
        var md = new StringBuilder();
        md.Append(inv, $"# {title}\n\n");
        md.Append(inv, $"Final return of a run ({(settings.Final.IsProtocol ? "the evaluation protocol" : $"--final {settings.Final}")}): {settings.Final.Describe()}. ");
        if (settings.AtStep is { } cut)
        {
            md.Append(inv, $"Every run is cut at {cut:N0} environment steps: only its rows up to that step count, and runs that stopped before it are left out. ");
        }

        md.Append(inv, $"Per configuration: the mean over its runs (seeds) and a {level} percentile-bootstrap confidence interval ");
        md.Append(inv, $"over runs ({settings.Resamples} resamples, seed {settings.Seed}); ± is half the interval's width. Best first. ");
        md.Append("Normalised score: (R − R_random) / (R_ref − R_random), 0 for a uniformly random policy and 1 for the reference configuration; ");
        md.Append("its interval is the CI mapped the same way, with R_ref and R_random taken as fixed.");
        if (settings.Untrained is { } u) md.Append(inv, $" Rows marked *(untrained φ)* match `{u}`.");
        md.Append('\n');
        if (tasks.Count == 0)
        {
            md.Append("\nNo final returns: no run has a learning curve (`result_<env>.csv`) or, for PPO, deterministic evaluations (`eval_deterministic_<env>.csv`).\n");
            return md.ToString();
        }

        foreach (TaskReport t in tasks)
        {
            md.Append(inv, $"\n## {t.Env}\n\n");
            md.Append(t.Random is { } rr
                ? $"- R_random: {RandomBaseline.Describe(rr)}{(settings.RandomReturnsSource is { } src ? $", from `{src}`" : "")}.\n"
                : $"- R_random: not measured{(settings.RandomReturnsSource is { } s2 ? $" in `{s2}`" : "")}; run `optim4rl baseline random --env {t.Env}`.\n");
            md.Append(t.Reference is { } refr
                ? $"- Reference (score 1): {Cell(Label(refr, settings))}, final return {F(refr.Summary.Mean)} ({t.ReferenceNote}).\n"
                : $"- Reference (score 1): none ({t.ReferenceNote}).\n");
            if (t.Compared is { } cmp) md.Append(inv, $"- CI overlap: each configuration's {level} CI against that of {Cell(Label(cmp, settings))} ({t.ComparedNote}).\n");
            else if (settings.CompareWith is not null) md.Append(inv, $"- CI overlap: none ({t.ComparedNote}).\n");

            string overlapHeader = t.Compared is { } c ? $" | CI overlaps {Cell(Label(c, settings))}?" : "";
            string overlapRule = t.Compared is null ? "" : "|:---:";
            md.Append(inv, $"\n| configuration | runs | final return | ± | {level} CI | normalised | normalised {level} CI{overlapHeader} |\n");
            md.Append(inv, $"|---|---:|---:|---:|---|---:|---{overlapRule}|\n");
            foreach (ConfigResult r in t.Rows)
            {
                var n = t.Normalised(r);
                string overlap = t.Compared is null ? "" : " | " + (t.OverlapsCompared(r) switch { true => "yes", false => "no", null => "—" });
                md.Append(inv, $"| {Cell(Label(r, settings))} | {r.Summary.Count} | {F(r.Summary.Mean)} | {F(r.Summary.HalfWidth)} | [{F(r.Summary.Low)}, {F(r.Summary.High)}] | ");
                md.Append(inv, $"{(n is { } nn ? F(nn.Mean) : "n/a")} | {(n is { } ni ? $"[{F(ni.Low)}, {F(ni.High)}]" : "n/a")}{overlap} |\n");
            }

            md.Append(inv, $"\nBest configuration per `{settings.BestBy}`:\n\n");
            md.Append(inv, $"| {Cell(settings.BestBy)} | best configuration | runs | final return | {level} CI | normalised |\n|---|---|---:|---:|---|---:|\n");
            foreach (var (_, value, best) in Best(t.Rows, settings.BestBy))
            {
                var n = t.Normalised(best);
                md.Append(inv, $"| {Cell(value)} | {Cell(Label(best, settings))} | {best.Summary.Count} | {F(best.Summary.Mean)} | [{F(best.Summary.Low)}, {F(best.Summary.High)}] | {(n is { } nn ? F(nn.Mean) : "n/a")} |\n");
            }
        }

        return md.ToString();
    }

    /// <summary>A number with four significant digits (at least three decimals below 1), invariant culture.</summary>
    public static string F(double x)
    {
        if (!double.IsFinite(x)) return "n/a";
        double a = Math.Abs(x);
        string s = a >= 1000 ? x.ToString("F0", CultureInfo.InvariantCulture)
            : a >= 100 ? x.ToString("F1", CultureInfo.InvariantCulture)
            : a >= 10 ? x.ToString("F2", CultureInfo.InvariantCulture)
            : x.ToString("F3", CultureInfo.InvariantCulture);
        return s == "-0.000" ? "0.000" : s;
    }

    private static string Label(ConfigResult r, ReportSettings s) =>
        s.Untrained is { } u && u.Matches(r.Group) && !r.Group.Label.Contains(PhiSource.Untrained, StringComparison.Ordinal) ? r.Group.Label + " *(untrained φ)*" : r.Group.Label;

    private static string ValueOf(ConfigResult r, string key)
    {
        if (r.Group.Values.TryGetValue(key, out string? v)) return v;
        var seen = r.Group.Runs.Select(run => run.Flat.TryGetValue(key, out string? x) ? x : "(none)").Distinct().ToList();
        return seen.Count == 1 ? seen[0] : string.Join(" / ", seen);
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
