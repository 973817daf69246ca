using System.Globalization;
using System.CommandLine;
using Optim4RL.Analysis;
using Optim4RL.Distributed;
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
        var logs = PathChecks.LogsOption("index k goes to <logs>/<config name>/<k>/");
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete the results of previous runs of these indices and start them again." };
        var force = RunCommand.ForceOption();
        var restart = RunCommand.RestartOption();
        var cmd = new Command("sweep", "Print how many combinations a sweep file holds and what varies; with --run, run indices --from..--to one after another " +
            "(under 'mpiexec -np N', each rank runs its own contiguous share of the indices). " +
            "Every index listed or run is checked against its run kind's schema first (docs/configs.md).")
        {
            config, run, from, to, resume, threads, logs, overwrite, force, restart,
        };
        cmd.SetAction((pr, ct) =>
        {
            var world = Cluster.Current;
            if (world.Size > 1)
            {
                // Listing is rank 0's job; runs are spread over the ranks.
                if (!pr.GetValue(run)) return Task.FromResult(world.IsRoot ? List(pr.GetValue(config)!) : 0);
                var options = new RunOptions(pr.GetValue(logs)!, pr.GetValue(resume), pr.GetValue(threads), Overwrite: pr.GetValue(overwrite), Force: pr.GetValue(force), RestartPopulation: pr.GetValue(restart));
                return Task.FromResult(SweepRanks.Run(world, pr.GetValue(config)!, pr.GetValue(from), pr.GetValue(to), options, ct));
            }
            if (!pr.GetValue(run)) return Task.FromResult(List(pr.GetValue(config)!));
            try
            {
                var sweep = SweepConfig.Load(pr.GetValue(config)!);
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(sweep.Name)}[/]: {sweep.Total} combination(s).");
                int first = pr.GetValue(from), last = pr.GetValue(to) ?? sweep.Total;
                if (first < 1 || last < first) return Task.FromResult(Ui.Error($"--from/--to must satisfy 1 ≤ from ≤ to; got {first}..{last}."));
                // Check every configuration of the range before the first run starts (k and k + total are the same one);
                // each run reads its φ files itself.
                bool forced = pr.GetValue(force);
                for (long k = first; k <= Math.Min(last, (long)first + sweep.Total - 1); k++)
                    Checked(sweep, (int)k, forced ? ConfigChecks.Static : ConfigChecks.Memory);
                int failures = 0;
                for (int k = first; k <= last && !ct.IsCancellationRequested; k++)
                {
                    int code = RunCommand.Execute(pr.GetValue(config)!, k, new RunOptions(pr.GetValue(logs)!, pr.GetValue(resume), pr.GetValue(threads), Overwrite: pr.GetValue(overwrite), Force: forced, RestartPopulation: pr.GetValue(restart)), ct);
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

    /// <summary>Lists the sweep's combinations (every key that varies gets a column); returns the exit code.</summary>
    private static int List(string configPath)
    {
        try
        {
            var sweep = SweepConfig.Load(configPath);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(sweep.Name)}[/]: {sweep.Total} combination(s).");
            // Every key whose value differs between combinations gets a column, so no two rows look alike.
            int shown = Math.Min(sweep.Total, 200);
            var rows = new List<(int K, RunConfig Run, IReadOnlyDictionary<string, string> Flat)>();
            for (int k = 1; k <= shown; k++)
            {
                var r = Checked(sweep, k, ConfigChecks.Static);
                rows.Add((k, r, RunSet.Flatten(r.ToJsonObject())));
            }
            var keys = rows.SelectMany(x => x.Flat.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
            var varying = keys.Where(key => key is not ("agent.name" or "env.name" or "seed")
                && rows.Select(x => x.Flat.GetValueOrDefault(key, "—")).Distinct().Count() > 1).ToList();
            var table = new Table().AddColumn("k").AddColumn("agent").AddColumn("env");
            foreach (string key in varying) table.AddColumn(Markup.Escape(key));
            table.AddColumn("seed");
            foreach (var (k, r, flat) in rows)
            {
                var cells = new List<string> { k.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.GetString("agent.name")),
                    Markup.Escape(r.Has("env.name") ? string.Join(",", r.GetStringList("env.name")) : "(generated task)") };
                cells.AddRange(varying.Select(key => Markup.Escape(flat.GetValueOrDefault(key, "—"))));
                cells.Add(r.RunSeed.ToString(CultureInfo.InvariantCulture));
                table.AddRow(cells.ToArray());
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("Run one with [blue]optim4rl run --config FILE --config-idx K[/], or a range with [blue]--run --from A --to B[/].");
            return 0;
        }
        catch (Exception e) when (e is ConfigException or ArgumentException or InvalidDataException or IOException)
        {
            return Ui.Error(e);
        }
    }

    /// <summary>Index k resolved and checked against its schema; a problem names the file and the index.</summary>
    internal static RunConfig Checked(SweepConfig sweep, int k, ConfigChecks checks)
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
