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
        var force = RunCommand.ForceOption();
        var cmd = new Command("sweep", "Print how many combinations a sweep file holds and what varies; with --run, run indices --from..--to one after another. " +
            "Every index listed or run is checked against its run kind's schema first (docs/configs.md).")
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
                        var r = Checked(sweep, k, ConfigChecks.Static);
                        // A2C files name the agent's optimizer `agent_optim`, Brax-style PPO files `optim`; SLCollect `optimizer`.
                        string opt = r.Has("agent_optim") ? "agent_optim" : r.Has("optim") ? "optim" : "optimizer";
                        // Per-task keys hold one value or one per task (meta_rl_grid.json).
                        string details = r.Has("agent.reset_interval") ? $"reset_interval {string.Join(",", r.GetIntList("agent.reset_interval"))}" : "";
                        if (r.Has("meta_optim.kwargs.learning_rate")) details += $" meta lr {r.GetDouble("meta_optim.kwargs.learning_rate")}";
                        string lr = r.Has($"{opt}.kwargs.learning_rate") ? string.Join(",", r.GetDoubleList($"{opt}.kwargs.learning_rate")) : "—";
                        table.AddRow(k.ToString(), r.GetString("agent.name"), Markup.Escape(r.Has("env.name") ? string.Join(",", r.GetStringList("env.name")) : "(generated task)"),
                            Markup.Escape(r.GetString($"{opt}.name", "—")), Markup.Escape(lr), Markup.Escape(details.Trim()));
                    }
                    AnsiConsole.Write(table);
                    AnsiConsole.MarkupLine("Run one with [blue]optim4rl run --config FILE --config-idx K[/], or a range with [blue]--run --from A --to B[/].");
                    return Task.FromResult(0);
                }
                if (first < 1 || last < first) return Task.FromResult(Ui.Error($"--from/--to must satisfy 1 ≤ from ≤ to; got {first}..{last}."));
                // Check every configuration of the range before the first run starts (k and k + total are the same one);
                // each run reads its φ files itself.
                bool forced = pr.GetValue(force);
                for (long k = first; k <= Math.Min(last, (long)first + sweep.Total - 1); k++)
                    Checked(sweep, (int)k, forced ? ConfigChecks.Static : ConfigChecks.Memory);
                int failures = 0;
                for (int k = first; k <= last && !ct.IsCancellationRequested; k++)
                {
                    int code = RunCommand.Execute(pr.GetValue(config)!, k, new RunOptions(pr.GetValue(logs)!, pr.GetValue(resume), pr.GetValue(threads), Overwrite: pr.GetValue(overwrite), Force: forced), ct);
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

    /// <summary>Index k resolved and checked against its schema; a problem names the file and the index.</summary>
    private static RunConfig Checked(SweepConfig sweep, int k, ConfigChecks checks)
    {
        var run = sweep.ResolveRun(k);
        try
        {
            ConfigSchema.Validate(run, checks);
        }
        catch (ConfigException e)
        {
            throw new ConfigException($"{sweep.Source} config {k}: {e.Message}", e);
        }

        return run;
    }
}
