using System.CommandLine;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary><c>optim4rl demo</c>: meta-train Optim4RL on Catch, then compare it with Adam and the untrained φ.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "A one-minute version (fewer agents, steps and seeds) for a first look." };
        var seeds = new Option<int?>("--seeds") { Description = "Seeds per (task, optimizer) in the evaluation (default 8; 2 with --quick)." };
        var logs = PathChecks.LogsOption("the demo writes to <logs>/demo/ (<logs>/demo-quick/ with --quick): param.json, the CSV files and a run directory per evaluation run under eval/<k>/");
        var output = new Option<string?>("--output") { Description = "The demo's own folder, instead of <logs>/demo (the older spelling; give --logs or --output, not both)." }.OutputFolder();
        var threads = new Option<int?>("--threads") { Description = "Threads to use (default: all cores). Same seed and thread count give the same numbers." };
        var seed = new Option<ulong?>("--seed") { Description = "Base seed (default 42)." };
        var cmd = new Command("demo",
            "Meta-train the Optim4RL learned optimizer on Catch with pipeline training, then train fresh A2C agents with " +
            "(a) the learned φ, (b) Adam, (c) the untrained φ and (d) the shipped six-gridworld φ (optim4rl-grid6, which never saw Catch) " +
            "over several seeds on Catch and on the gridworld small_dense_short (unseen by the demo's meta-training); print a table and write CSV files. About 5 minutes on 2 cores with the defaults (the limit is 15).")
        {
            quick, seeds, logs, output, threads, seed,
        };
        cmd.SetAction((pr, ct) =>
        {
            var o = pr.GetValue(quick) ? DemoOptions.Quick : new DemoOptions();
            if (pr.GetValue(seeds) is int s)
            {
                if (s < 1) return Task.FromResult(Ui.Error("--seeds must be ≥ 1."));
                o = o with { Seeds = s };
            }
            bool logsGiven = pr.GetResult(logs) is { Implicit: false };
            if (pr.GetValue(output) is string d)
            {
                if (logsGiven) return Task.FromResult(Ui.Error("give --logs (the root, the demo writes to <logs>/demo) or --output (the demo's own folder), not both."));
                o = o with { OutputDir = d };
            }
            else
            {
                o = o with { OutputDir = Path.Combine(pr.GetValue(logs)!, Path.GetFileName(o.OutputDir)) };
            }
            if (pr.GetValue(threads) is int t)
            {
                if (t < 1) return Task.FromResult(Ui.Error("--threads must be ≥ 1."));
                o = o with { Threads = t };
            }
            if (pr.GetValue(seed) is ulong sd) o = o with { Seed = sd };
            try
            {
                AnsiConsole.MarkupLine($"[bold]Optim4RL.NET demo[/] → {Markup.Escape(o.OutputDir)}");
                AnsiConsole.MarkupLine($"Meta-training Optim4RL on {o.MetaEnv}: {o.MetaAgents} agents, reset interval {o.ResetInterval}, {o.MetaTrainSteps:N0} env steps; then {o.Seeds} seeds × 4 optimizers × {o.EvalTasks.Count} tasks.");
                var result = Ui.WithProgress("units", p => Demo.Run(o, p, ct));
                Print(result);
                return Task.FromResult(0);
            }
            catch (OperationCanceledException)
            {
                return Task.FromResult(Ui.Error("Interrupted; the demo's partial results were not summarised."));
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or Agents.TrainingDivergedException)
            {
                return Task.FromResult(Ui.Error(e));
            }
        });
        return cmd;
    }

    private static void Print(DemoResult r)
    {
        var last = r.MetaLogs.Count > 0 ? r.MetaLogs[^1] : default;
        AnsiConsole.MarkupLine($"Meta-training: {r.MetaIterations} meta-iterations in {r.MetaSeconds:F0} s; final meta-loss {last.MetaLoss:F3}. φ saved to {Markup.Escape(r.PhiPath)}.");
        var table = new Table().Title("A2C with each optimizer (final return = mean of the last 20 logged returns; ± standard error over seeds)")
            .AddColumn("task").AddColumn("optimizer").AddColumn(new TableColumn("final return").RightAligned())
            .AddColumn(new TableColumn("steps to 80 % of best").RightAligned()).AddColumn(new TableColumn("wall time (s)").RightAligned());
        foreach (var row in r.Rows)
        {
            string reach = row.StepsTo80Mean is double s ? $"{s:N0} ({row.SeedsReaching80}/{row.Seeds} seeds)" : $"never (0/{row.Seeds})";
            table.AddRow(row.Task, Markup.Escape(row.Optimizer), $"{row.FinalMean:F3} ± {row.FinalStdErr:F3}", reach, $"{row.WallSeconds:F1}");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{Markup.Escape(Demo.Pretrained)}: the shipped {Demo.PretrainedName}, meta-trained on six gridworlds (small_dense_short among them), never on Catch.");
        AnsiConsole.MarkupLine($"CSV: {Markup.Escape(Path.Combine(r.OutputDir, "summary.csv"))}, {Markup.Escape(Path.Combine(r.OutputDir, "curves.csv"))}, {Markup.Escape(Path.Combine(r.OutputDir, "meta_train.csv"))}");
    }
}
