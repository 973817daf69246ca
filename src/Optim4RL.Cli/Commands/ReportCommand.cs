using Optim4RL.Io;
using System.CommandLine;
using Optim4RL.Analysis;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary><c>optim4rl report SWEEP_DIR… [--output F]</c>: a Markdown table of final returns.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Sweep directories (logs/<config>) or run directories holding result_<env>.csv files.",
            Arity = ArgumentArity.OneOrMore,
        }.ExistingPaths();
        var output = new Option<string?>("--output") { Description = "Write the Markdown report to this file (it is always printed)." }.OutputFile();
        var title = new Option<string?>("--title") { Description = "The report's heading (default: 'Final returns: <paths>')." };
        var bestBy = new Option<string>("--best-by") { Description = "Config key whose values each get a best configuration.", DefaultValueFactory = _ => FinalReturnReport.DefaultBestBy };
        var last = new Option<double>("--last") { Description = "Fraction of each learning curve (its last rows) averaged into the run's final return.", DefaultValueFactory = _ => FinalReturnReport.DefaultLastFraction };
        var groupBy = new Option<string?>("--group-by") { Description = "Comma-separated config keys that define a configuration (default: everything but the seed and repeat index)." };
        var stats = StatOptions.Create();
        var cmd = new Command("report",
            "A Markdown table per task of every configuration's final return (mean of the last 10 % of each run's curve; mean over seeds " +
            "± 90 % percentile-bootstrap CI), best first, and the best configuration per optimizer (agent_optim.name).")
        {
            paths, output, title, bestBy, last, groupBy, stats.Level, stats.Resamples, stats.Seed,
        };
        cmd.SetAction(pr =>
        {
            try
            {
                string[] p = pr.GetValue(paths)!;
                var runs = RunSet.LoadAll(p);
                var groups = RunGrouping.Group(runs.Where(r => r.Curves.Count > 0).ToList(), Keys(pr.GetValue(groupBy)));
                double level = pr.GetValue(stats.Level), fraction = pr.GetValue(last);
                int resamples = pr.GetValue(stats.Resamples);
                ulong seed = pr.GetValue(stats.Seed);
                var results = FinalReturnReport.Compute(groups, fraction, level, resamples, seed);
                string md = FinalReturnReport.Markdown(results, pr.GetValue(title) ?? $"Final returns: {string.Join(", ", p)}", fraction, level, resamples, seed, pr.GetValue(bestBy)!);
                Console.Out.Write(md);
                if (pr.GetValue(output) is { } file)
                {
                    AtomicFile.WriteAllText(file, md);
                    AnsiConsole.MarkupLine($"Report written to [blue]{Markup.Escape(file)}[/]");
                }

                return results.Count > 0 ? 0 : Ui.Error($"no learning curves (result_<env>.csv) under {string.Join(", ", p)}; {runs.Count} run director(ies) found.");
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return Ui.Error(e.Message);
            }
        });
        return cmd;
    }

    /// <summary>Splits a comma-separated key list; null when none.</summary>
    public static IReadOnlyList<string>? Keys(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
