using System.CommandLine;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary><c>optim4rl run --config FILE --config-idx K</c>: one configuration of a sweep file.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "Sweep file (JSON, the reference's convention; see configs/README.md).", Required = true }.InputFile("configs/a2c_catch.json");
        var idx = new Option<int>("--config-idx") { Description = "1-based index of the configuration (k and k + total are repeats; negative counts from the end).", DefaultValueFactory = _ => 1 };
        var resume = new Option<bool>("--resume") { Description = "Continue a meta-training run from its last checkpoint in logs/<config>/<k>/." };
        var threads = new Option<int?>("--threads") { Description = "Threads to use (default: all cores)." };
        var logs = PathChecks.LogsOption("results go to <logs>/<config name>/<k>/");
        var every = new Option<int>("--checkpoint-every") { Description = "Meta-iterations between checkpoints.", DefaultValueFactory = _ => 50 };
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete the results of a previous run in logs/<config>/<k>/ and start again (without it such a directory is refused unless --resume)." };
        var force = ForceOption();
        var restart = RestartOption();
        var cmd = new Command("run",
            "Run one configuration of a sweep file: A2C or PPO (hand-designed or learned optimizer loaded from param_load_path; A2Ccollect also records gradients), " +
            "MetaA2C/MetaPPO (pipeline training), MetapA2C/MetapPPO (no pipeline) or SLCollect (the supervised gradient contrast). Results go to logs/<config name>/<k>/.")
        {
            config, idx, resume, threads, logs, every, overwrite, force, restart,
        };
        cmd.SetAction((pr, ct) => Task.FromResult(Execute(pr.GetValue(config)!, pr.GetValue(idx),
            new RunOptions(pr.GetValue(logs)!, pr.GetValue(resume), pr.GetValue(threads), pr.GetValue(every), pr.GetValue(overwrite), pr.GetValue(force), pr.GetValue(restart), Distributed.Cluster.Current), ct)));
        return cmd;
    }

    /// <summary>The <c>--restart-population</c> option of <c>run</c> and <c>sweep --run</c>.</summary>
    public static Option<bool> RestartOption() => new("--restart-population")
    {
        Description = "Continue a meta-training run from its small meta_state.bin (φ, meta-optimizer state, CSV rows) with a fresh population of agents, " +
                      "first re-staggering their pipeline stages by one reset interval of warm-up with φ frozen (docs/run-directories.md). For runs whose checkpoint.bin is gone.",
    };

    /// <summary>The <c>--force</c> option of <c>run</c> and <c>sweep --run</c>.</summary>
    public static Option<bool> ForceOption() => new("--force")
    {
        Description = "Run despite a failed safety check: the memory estimate above the memory available, or resuming a checkpoint written with other numeric options (the configuration is still checked otherwise).",
    };

    /// <summary>Runs one index and prints its summary; returns the exit code.</summary>
    public static int Execute(string configPath, int configIdx, RunOptions options, CancellationToken ct)
    {
        if (options.Threads is < 1) return Ui.Error("--threads must be ≥ 1.");
        if (options.CheckpointEvery < 1) return Ui.Error("--checkpoint-every must be ≥ 1.");
        if (options.Ranks is { IsRoot: false }) return Follow(configPath, configIdx, options, ct);
        try
        {
            var sweep = SweepConfig.Load(configPath);
            int k = sweep.NormalizeIndex(configIdx);
            ExperimentRunner.CheckRanks(sweep, k, options);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(sweep.Name)}[/] config {configIdx} (combination {sweep.CombinationIndex(configIdx) + 1} of {sweep.Total})");
            var outcome = Ui.WithProgress("it", p => ExperimentRunner.Run(sweep, k, options, p, ct));
            foreach (var line in outcome.Summary) AnsiConsole.WriteLine(line);
            AnsiConsole.MarkupLine($"Results in [blue]{Markup.Escape(outcome.Directory)}[/]");
            return outcome.Completed ? 0 : 130;
        }
        catch (Exception e) when (e is ConfigException or ArgumentException or InvalidDataException or IOException
                                      or Agents.TrainingDivergedException or UnauthorizedAccessException or NotSupportedException or Envs.MuJoCo.MuJoCoException)
        {
            return Ui.Error(e);
        }
    }

    /// <summary>A rank other than 0: its share of the run, silently; rank 0 prints the summary and any error of the configuration.</summary>
    private static int Follow(string configPath, int configIdx, RunOptions options, CancellationToken ct)
    {
        try
        {
            var sweep = SweepConfig.Load(configPath);
            ExperimentRunner.Run(sweep, sweep.NormalizeIndex(configIdx), options, null, ct);
            return 0;
        }
        catch (Exception e) when (e is ConfigException or ArgumentException or InvalidDataException or IOException or NotSupportedException)
        {
            return 1;
        }
    }
}
