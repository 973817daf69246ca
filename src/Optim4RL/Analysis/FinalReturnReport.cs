using System.Globalization;
using System.Text;
using Optim4RL.Experiments;

namespace Optim4RL.Analysis;

/// <summary>The final return of one configuration on one task, over its runs.</summary>
/// <param name="Env">The task.</param>
/// <param name="Group">The configuration.</param>
/// <param name="PerRun">Each run's final return (runs whose curve has no finite value are left out).</param>
/// <param name="Summary">Mean over runs with its bootstrap interval.</param>
public sealed record ConfigResult(string Env, RunGroup Group, IReadOnlyList<double> PerRun, MeanCI Summary);

/// <summary>
/// The Markdown report of a sweep: per task, a table of every configuration's final return
/// (mean over its runs of each run's final return, with a percentile-bootstrap interval over
/// runs), best first, and the best configuration per value of a grouping key (by default
/// <c>agent_optim.name</c>). A run's final return is the mean of the last 10 % of its learning
/// curve: the last ⌈0.1·n⌉ of the n finite rows of <c>result_&lt;env&gt;.csv</c> (one row per training
/// iteration in which an episode finished).
/// </summary>
public static class FinalReturnReport
{
    /// <summary>The default fraction of a curve that counts as its end.</summary>
    public const double DefaultLastFraction = 0.1;

    /// <summary>The default key whose values each get a "best configuration".</summary>
    public const string DefaultBestBy = "agent_optim.name";

    /// <summary>Mean of the last ⌈<paramref name="fraction"/>·n⌉ finite returns of a curve; NaN when it has none.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is not in (0, 1].</exception>
    public static double FinalReturn(IReadOnlyList<ResultRow> rows, double fraction = DefaultLastFraction)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The fraction must be in (0, 1].");
        var finite = rows.Where(r => double.IsFinite(r.Return)).Select(r => r.Return).ToArray();
        if (finite.Length == 0) return double.NaN;
        int take = Math.Max(1, (int)Math.Ceiling(finite.Length * fraction - 1e-9));
        return finite.AsSpan(finite.Length - take).ToArray().Average();
    }

    /// <summary>Every (task, configuration) with at least one finite final return, tasks in name order, best mean first.</summary>
    /// <exception cref="ArgumentException">An argument is out of range.</exception>
    public static IReadOnlyList<ConfigResult> Compute(IReadOnlyList<RunGroup> groups, double fraction = DefaultLastFraction, double level = Bootstrap.DefaultLevel,
        int resamples = Bootstrap.DefaultResamples, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var envs = groups.SelectMany(g => g.Runs).SelectMany(r => r.Curves.Keys).Distinct().Order(StringComparer.Ordinal);
        var results = new List<ConfigResult>();
        foreach (string env in envs)
        {
            var rows = new List<ConfigResult>();
            foreach (RunGroup g in groups)
            {
                var finals = g.Runs.Where(r => r.Curves.ContainsKey(env)).Select(r => FinalReturn(r.Curves[env], fraction)).Where(double.IsFinite).ToList();
                if (finals.Count == 0) continue;
                rows.Add(new ConfigResult(env, g, finals, Bootstrap.Mean(finals, level, resamples, seed)));
            }

            results.AddRange(rows.OrderByDescending(r => r.Summary.Mean));
        }

        return results;
    }

    /// <summary>The best configuration (highest mean final return) per task and value of <paramref name="bestBy"/>.</summary>
    public static IReadOnlyList<(string Env, string Value, ConfigResult Best)> Best(IReadOnlyList<ConfigResult> results, string bestBy = DefaultBestBy)
    {
        ArgumentNullException.ThrowIfNull(results);
        return results.GroupBy(r => (r.Env, Value: ValueOf(r, bestBy)))
            .Select(g => (g.Key.Env, g.Key.Value, g.MaxBy(r => r.Summary.Mean)!))
            .OrderBy(t => t.Env, StringComparer.Ordinal).ThenByDescending(t => t.Item3.Summary.Mean)
            .ToList();
    }

    /// <summary>The whole report as Markdown.</summary>
    /// <param name="results">From <see cref="Compute"/>.</param>
    /// <param name="title">The first heading.</param>
    /// <param name="fraction">The final-return fraction used (for the explanation).</param>
    /// <param name="level">The confidence level used.</param>
    /// <param name="resamples">The resamples used.</param>
    /// <param name="seed">The bootstrap seed used.</param>
    /// <param name="bestBy">The key whose values each get a best configuration.</param>
    public static string Markdown(IReadOnlyList<ConfigResult> results, string title, double fraction = DefaultLastFraction, double level = Bootstrap.DefaultLevel,
        int resamples = Bootstrap.DefaultResamples, ulong seed = 0, string bestBy = DefaultBestBy)
    {
        ArgumentNullException.ThrowIfNull(results);
        var inv = CultureInfo.InvariantCulture;
        string ci = $"{level * 100:0.#} % CI";
        var md = new StringBuilder();
        md.Append(inv, $"# {title}\n\n");
        md.Append(inv, $"Final return of a run: the mean of the last {fraction * 100:0.#} % of its learning curve (rows of `result_<env>.csv`). ");
        md.Append(inv, $"Per configuration: the mean over its runs (seeds) and a {level * 100:0.#} % percentile-bootstrap confidence interval ");
        md.Append(inv, $"over runs ({resamples} resamples, seed {seed}); ± is half the interval's width. Best first.\n");
        if (results.Count == 0)
        {
            md.Append("\nNo learning curves (`result_<env>.csv`) were found.\n");
            return md.ToString();
        }

        foreach (var env in results.GroupBy(r => r.Env))
        {
            md.Append(inv, $"\n## {env.Key}\n\n");
            md.Append(inv, $"| configuration | runs | final return | ± | {ci} |\n|---|---:|---:|---:|---|\n");
            foreach (ConfigResult r in env)
            {
                md.Append(inv, $"| {Cell(r.Group.Label)} | {r.Summary.Count} | {F(r.Summary.Mean)} | {F(r.Summary.HalfWidth)} | [{F(r.Summary.Low)}, {F(r.Summary.High)}] |\n");
            }

            md.Append(inv, $"\nBest configuration per `{bestBy}`:\n\n");
            md.Append(inv, $"| {Cell(bestBy)} | best configuration | runs | final return | {ci} |\n|---|---|---:|---:|---|\n");
            foreach (var (_, value, best) in Best(env.ToList(), bestBy))
            {
                md.Append(inv, $"| {Cell(value)} | {Cell(best.Group.Label)} | {best.Summary.Count} | {F(best.Summary.Mean)} | [{F(best.Summary.Low)}, {F(best.Summary.High)}] |\n");
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

    private static string ValueOf(ConfigResult r, string key)
    {
        if (r.Group.Values.TryGetValue(key, out string? v)) return v;
        var seen = r.Group.Runs.Select(run => run.Flat.TryGetValue(key, out string? x) ? x : "(none)").Distinct().ToList();
        return seen.Count == 1 ? seen[0] : string.Join(" / ", seen);
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
