using Optim4RL.Io;
using System.CommandLine;
using Optim4RL.Analysis;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary><c>optim4rl report SWEEP_DIR… [--output F]</c>: a Markdown table of final returns under the evaluation protocol.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var runSet = RunSetOptions.Create(
            "Sweep directories (logs/<config>) or run directories holding result_<env>.csv (and, for PPO, eval_deterministic_<env>.csv) files.",
            "Write the Markdown report to this file (it is always printed).",
            "The report's heading (default: 'Final returns: <paths>').",
            "Comma-separated config keys that define a configuration (default: everything but the seed and repeat index).");
        var bestBy = new Option<string>("--best-by") { Description = "Config key whose values each get a best configuration.", DefaultValueFactory = _ => FinalReturnReport.DefaultBestBy };
        var final = new Option<string>("--final")
        {
            Description = $"A run's final return: {FinalReturnDefinition.Syntax}. 'protocol': A2C runs average their last {EvaluationProtocol.A2CLastReturns} logged returns, " +
                          $"PPO runs their last {EvaluationProtocol.PpoLastEvaluations} deterministic evaluations; last:N the last N logged returns; eval:N the last N " +
                          "deterministic evaluations; last-fraction:F the last F of the logged returns (e.g. last-fraction:0.1).",
            DefaultValueFactory = _ => "protocol",
        };
        var atStep = new Option<string?>("--at-step")
        {
            Description = "Score every run as if it had stopped after this many environment steps (e.g. 1.5e6): the final-return rule sees only rows up to that step, " +
                          "and runs that stopped before it are left out. Default: the whole run.",
        };
        var normaliseBy = new Option<string?>("--normalise-by")
        {
            Description = "The configuration whose final return scores 1 in the normalised score, as key=value[,key=value…] (e.g. agent_optim.name=Adam); " +
                          "the best matching one per task. Default: the Adam configuration when a task has exactly one. 'none': no normalised score.",
        };
        var compareWith = new Option<string?>("--compare-with")
        {
            Description = "The configuration (key=value[,…]) whose CI every row is compared with in the 'CI overlaps' column. Default: the normalisation reference.",
        };
        var untrained = new Option<string?>("--untrained")
        {
            Description = "Mark configurations matching key=value[,…] as 'untrained φ' (values may use *, e.g. agent_optim.kwargs.param_load_path=*untrained*).",
        };
        var randomReturns = new Option<string>("--random-returns")
        {
            Description = "R_random per task, as written by 'optim4rl baseline random' (a missing file leaves the normalised score n/a).",
            DefaultValueFactory = _ => RandomBaseline.DefaultFile,
        }.OutputFile();
        var bestJson = new Option<string?>("--best-json")
        {
            Description = "Also write the best configuration per task and --best-by value as JSON (final return, CI, runs, and the configuration's settings), for scripts that select a φ or a learning rate.",
        }.OutputFile();
        var stats = StatOptions.Create();
        var cmd = new Command("report",
            "A Markdown table per task of every configuration's final return under the evaluation protocol (A2C: mean of the last 20 logged returns; " +
            "PPO: mean of the last 3 deterministic evaluations; mean over seeds ± 90 % percentile-bootstrap CI), best first, its normalised score " +
            "(R − R_random)/(R_Adam − R_random), whether its CI overlaps the reference's, and the best configuration per optimizer (agent_optim.name).")
        {
            runSet.Paths, runSet.Output, runSet.Title, bestBy, final, atStep, normaliseBy, compareWith, untrained, randomReturns, runSet.GroupBy, bestJson, stats.Level, stats.Resamples, stats.Seed,
        };
        cmd.SetAction(pr =>
        {
            try
            {
                string[] p = pr.GetValue(runSet.Paths)!;
                string norm = pr.GetValue(normaliseBy)?.Trim() ?? "";
                string randomFile = pr.GetValue(randomReturns)!;
                var settings = new ReportSettings
                {
                    Final = FinalReturnDefinition.Parse(pr.GetValue(final)!),
                    AtStep = StepCount(pr.GetValue(atStep), "--at-step"),
                    Level = pr.GetValue(stats.Level),
                    Resamples = pr.GetValue(stats.Resamples),
                    Seed = pr.GetValue(stats.Seed),
                    BestBy = pr.GetValue(bestBy)!,
                    Normalise = !string.Equals(norm, "none", StringComparison.OrdinalIgnoreCase),
                    NormaliseBy = norm.Length == 0 || string.Equals(norm, "none", StringComparison.OrdinalIgnoreCase) ? null : GroupSelector.Parse(norm, "--normalise-by"),
                    CompareWith = Selector(pr.GetValue(compareWith), "--compare-with"),
                    Untrained = Selector(pr.GetValue(untrained), "--untrained"),
                    RandomReturns = RandomBaseline.Load(randomFile),
                    RandomReturnsSource = randomFile,
                };
                var runs = RunSet.LoadAll(p);
                var groups = RunGrouping.Group(runs.Where(r => r.Tasks.Any()).ToList(), runSet.GroupKeys(pr));
                var tasks = FinalReturnReport.Build(groups, settings);
                string md = FinalReturnReport.Markdown(tasks, pr.GetValue(runSet.Title) ?? $"Final returns: {string.Join(", ", p)}", settings);
                Console.Out.Write(md);
                if (pr.GetValue(runSet.Output) is { } file)
                {
                    AtomicFile.WriteAllText(file, md);
                    AnsiConsole.MarkupLine($"Report written to [blue]{Markup.Escape(file)}[/]");
                }

                if (pr.GetValue(bestJson) is { } bestFile)
                {
                    AtomicFile.WriteAllText(bestFile, FinalReturnReport.BestJson(tasks.SelectMany(t => t.Rows).ToList(), settings.BestBy));
                    AnsiConsole.MarkupLine($"Best configurations written to [blue]{Markup.Escape(bestFile)}[/]");
                }

                if (tasks.Count == 0 && settings.AtStep is { } cut && runs.Any(r => r.Tasks.Any()))
                    return Ui.Error($"no run reached --at-step {cut} environment steps; choose a step within the runs' length.");
                return tasks.Count > 0 ? 0 : Ui.Error($"no final returns (result_<env>.csv, or eval_deterministic_<env>.csv for PPO) under {string.Join(", ", p)}; {runs.Count} run director(ies) found.");
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return Ui.Error(e);
            }
        });
        return cmd;
    }

    // Step counts are written like 1.5e6 in the docs and scripts, so accept any whole number in float notation.
    private static long? StepCount(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v)
            && v >= 1 && v <= long.MaxValue / 2 && Math.Abs(v - Math.Round(v)) < 1e-9)
        {
            return (long)Math.Round(v);
        }

        throw new ArgumentException($"{option} '{text}' is not a whole number of environment steps ≥ 1; write e.g. {option} 1500000 or {option} 1.5e6.");
    }

    private static GroupSelector? Selector(string? text, string option) => string.IsNullOrWhiteSpace(text) ? null : GroupSelector.Parse(text, option);
}
