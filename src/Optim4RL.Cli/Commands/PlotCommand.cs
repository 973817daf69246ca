using System.CommandLine;
using Optim4RL.Analysis;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary><c>optim4rl plot PATH… [--output F] [--title T]</c>: learning curves with bootstrap bands.</summary>
internal static class PlotCommand
{
    public static Command Create()
    {
        var runSet = RunSetOptions.Create(
            "Run directories (logs/<config>/<k>) or sweep directories (logs/<config>) holding result_<env>.csv files.",
            "Output path without extension; F.svg, F.png and the gnuplot script F.gp are written (default: <first path>/learning_curves).",
            "Figure title.",
            "Comma-separated config keys that define a line (e.g. agent_optim.name). Default: runs that differ only by seed/repeat index form a line.");
        var series = new Option<string>("--series")
        {
            Description = "What to draw: auto (each run's evaluation-protocol series: deterministic evaluations for PPO runs, training returns for A2C), " +
                          "training (result_<env>.csv) or evaluation (PPO's eval_deterministic_<env>.csv).",
            DefaultValueFactory = _ => "auto",
        };
        series.AcceptOnlyFromAmong("auto", "training", "evaluation");
        var metric = new Option<string?>("--metric")
        {
            Description = "Draw this column of each run's metrics.csv instead of returns (e.g. update_norm, entropy_nats, grad_norm, approx_kl_nats, " +
                          "value_loss; meta-training runs: meta_loss, meta_grad_norm, agents_mean_return…): the same per-task mean over seeds and band, to see how training went.",
        };
        var points = new Option<int>("--points") { Description = "Points of the common step grid each curve is put on.", DefaultValueFactory = _ => LearningCurves.DefaultPoints };
        var stats = StatOptions.Create();
        var cmd = new Command("plot",
            "Learning curves (return against environment steps): one line per configuration, the mean over its seeds with a shaded " +
            "percentile-bootstrap confidence band (90 % by default); one panel per task, the legend beside it; labels say what differs between lines in words " +
            "(Adam α=3e-3, Optim4RL (untrained φ) α=1e-3). PPO runs draw their deterministic evaluations unless --series says otherwise. Writes SVG and PNG with gnuplot (docs/figures.md).")
        {
            runSet.Paths, runSet.Output, runSet.Title, runSet.GroupBy, series, metric, points, stats.Level, stats.Resamples, stats.Seed,
        };
        cmd.SetAction(pr =>
        {
            try
            {
                string[] p = pr.GetValue(runSet.Paths)!;
                var runs = RunSet.LoadAll(p);
                var source = pr.GetValue(series) switch { "training" => CurveSource.Training, "evaluation" => CurveSource.Evaluation, _ => CurveSource.Auto };
                string? column = pr.GetValue(metric);
                if (column is not null)
                {
                    if (source != CurveSource.Auto) return Ui.Error("--metric draws a metrics.csv column and --series picks a return series; give one of them.");
                    runs = runs.Select(r => r with { Curves = MetricSeries.Load(r.Directory, column), Evaluations = null }).ToList();
                    source = CurveSource.Training;
                }

                var groups = RunGrouping.Group(runs.Where(r => r.CurvesOf(source).Count > 0).ToList(), runSet.GroupKeys(pr));
                if (groups.Count == 0)
                {
                    string wanted = column is not null ? "metrics.csv" : source == CurveSource.Evaluation ? "eval_deterministic_<env>.csv" : "result_<env>.csv or eval_deterministic_<env>.csv";
                    return Ui.Error($"no {(column is null ? "learning curves" : "training metrics")} ({wanted}) under {string.Join(", ", p)}; {runs.Count} run director(ies) found.");
                }

                double level = pr.GetValue(stats.Level);
                var bands = LearningCurves.Aggregate(groups, pr.GetValue(points), level, pr.GetValue(stats.Resamples), pr.GetValue(stats.Seed), source);
                var table = new Table().AddColumn("task").AddColumn("line").AddColumn(new TableColumn("seeds").RightAligned()).AddColumn(new TableColumn("mean at the end").RightAligned());
                foreach (var b in bands) table.AddRow(Markup.Escape(b.Env), Markup.Escape(b.Label), b.MinCoverage < b.Runs ? $"{b.MinCoverage}–{b.Runs}" : b.Runs.ToString(), FinalReturnReport.F(b.Mean[^1]));
                AnsiConsole.Write(table);
                string outBase = pr.GetValue(runSet.Output) ?? Path.Combine(p[0], "learning_curves");
                var files = Figures.LearningCurves(bands, outBase, pr.GetValue(runSet.Title), level, metric: column);
                AnsiConsole.MarkupLine($"Learning curves in [blue]{Markup.Escape(files.Svg)}[/] and [blue]{Markup.Escape(files.Png)}[/] (script {Markup.Escape(Path.GetFileName(files.Script))})");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException or GnuplotMissingException or GnuplotException)
            {
                return Ui.Error(e.Message);
            }
        });
        return cmd;
    }
}
