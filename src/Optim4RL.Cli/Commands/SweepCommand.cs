using System.CommandLine;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary><c>optim4rl sweep --config FILE [--run --from A --to B]</c>: count or run a range of configurations.</summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "Sweep file (JSON).", Required = true }.InputFile("configs/a2c_catch.json");
        var run = new Option<bool>("--run") { Description = "Run the configurations (otherwise only count and list them)." };
        var from = new Option<int>("--from") { Description = "First 1-based index to run.", DefaultValueFactory = _ => 1 };
        var to = new Option<int?>("--to") { Description = "Last index to run (default: the total)." };
        var resume = new Option<bool>("--resume") { Description = "Resume meta-training runs from their checkpoints." };
        var threads = new Option<int?>("--threads") { Description = "Threads to use (default: all cores)." };
        var logs = new Option<string>("--logs") { Description = "Root folder of run directories.", DefaultValueFactory = _ => RunDirectory.DefaultLogsRoot }.OutputFolder();
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete the results of previous runs of these indices and start them again." };
        var force = new Option<bool>("--force") { Description = "Run despite a failed safety check (memory estimate; resuming a checkpoint written with other numeric options)." };
        var cmd = new Command("sweep", "Print how many combinations a sweep file holds and what varies; with --run, run indices --from..--to one after another.")
        {
            config, run, from, to, resume, threads, logs, overwrite, force,
        };
        cmd.SetAction((pr, ct) =>
        {
            try
            {
                var sweep = SweepConfig.Load(pr.GetValue(config)!);
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(sweep.Name)}[/]: {sweep.Total} combination(s).");
                int first = pr.GetValue(from), last = pr.GetValue(to) ?? sweep.Total;
                if (!pr.GetValue(run))
                {
                    var table = new Table().AddColumn("k").AddColumn("agent").AddColumn("env").AddColumn("optimizer").AddColumn("lr").AddColumn("details");
                    for (int k = 1; k <= Math.Min(sweep.Total, 200); k++)
                    {
                        var r = sweep.ResolveRun(k);
                        // A2C files name the agent's optimizer `agent_optim`, Brax-style PPO files `optim`; SLCollect `optimizer`.
                        string opt = r.Has("agent_optim") ? "agent_optim" : r.Has("optim") ? "optim" : "optimizer";
                        string details = r.Has("agent.reset_interval") ? $"reset_interval {r.GetIntPerTask("agent.reset_interval", 1)[0]}" : "";
                        if (r.Has("meta_optim.kwargs.learning_rate")) details += $" meta lr {r.GetDouble("meta_optim.kwargs.learning_rate")}";
                        table.AddRow(k.ToString(), r.GetString("agent.name"), Markup.Escape(r.Has("env.name") ? string.Join(",", r.GetStringList("env.name")) : "(generated task)"),
                            r.GetString($"{opt}.name", "—"), Markup.Escape(string.Join(",", r.GetDoublePerTask($"{opt}.kwargs.learning_rate", 1, double.NaN))), Markup.Escape(details.Trim()));
                    }
                    AnsiConsole.Write(table);
                    AnsiConsole.MarkupLine("Run one with [blue]optim4rl run --config FILE --config-idx K[/], or a range with [blue]--run --from A --to B[/].");
                    return Task.FromResult(0);
                }
                if (first < 1 || last < first) return Task.FromResult(Ui.Error($"--from/--to must satisfy 1 ≤ from ≤ to; got {first}..{last}."));
                int failures = 0;
                for (int k = first; k <= last && !ct.IsCancellationRequested; k++)
                {
                    int code = RunCommand.Execute(pr.GetValue(config)!, k, new RunOptions(pr.GetValue(logs)!, pr.GetValue(resume), pr.GetValue(threads), Overwrite: pr.GetValue(overwrite), Force: pr.GetValue(force)), ct);
                    if (code != 0) failures++;
                }
                return Task.FromResult(failures == 0 ? 0 : 1);
            }
            catch (Exception e) when (e is ConfigException or ArgumentException or InvalidDataException or IOException)
            {
                return Task.FromResult(Ui.Error(e));
            }
        });
        return cmd;
    }
}
