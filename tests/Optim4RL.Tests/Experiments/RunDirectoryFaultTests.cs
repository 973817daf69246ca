using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Optim4RL.Agents;
using Optim4RL.Experiments;
using Optim4RL.Io;

namespace Optim4RL.Tests.Experiments;

/// <summary>
/// Run directories never lie: each data-loss case (a kill between two writes, two runs of one
/// index, a failed run next to a finished one, a divergence, a damaged checkpoint) loses nothing
/// and changes nothing it should not.
/// </summary>
public sealed class RunDirectoryFaultTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("o4rl-faults-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Logs => Path.Combine(_root, "logs");

    private SweepConfig Write(string name, string json)
    {
        string path = Path.Combine(_root, name + ".json");
        File.WriteAllText(path, json);
        return SweepConfig.Load(path);
    }

    private string RunDir(string name) => Path.Combine(Logs, name, "1");

    /// <summary>Every file of a directory (lock files aside) with its SHA-256.</summary>
    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.GetFiles(dir).Where(f => !RunLock.IsLockFile(Path.GetFileName(f)))
            .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    private static string PhiArrays(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "param.json")))!["arrays"]!.ToJsonString();

    /// <summary>A meta run of 10 iterations stopped after <paramref name="stopAt"/> (a checkpoint is written on the way out).</summary>
    private RunOutcome RunPartially(SweepConfig sweep, int stopAt, int checkpointEvery = 3)
    {
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.Done >= stopAt) cts.Cancel(); });
        return ExperimentRunner.Run(sweep, 1, new RunOptions(Logs, CheckpointEvery: checkpointEvery), progress, cts.Token);
    }

    private (string Phi, string Csv, string Metrics) Reference()
    {
        ExperimentRunner.Run(Write("reference", ExperimentRunnerTests.MetaJson()), 1, new RunOptions(Logs));
        return (PhiArrays(RunDir("reference")), File.ReadAllText(Path.Combine(RunDir("reference"), "meta_train.csv")),
            File.ReadAllText(Path.Combine(RunDir("reference"), RunMetrics.FileName)));
    }

    /// <summary>
    /// The metrics of a resumed run: metrics.csv equals the uninterrupted run's apart from the timing
    /// columns, and its event files (one per process) hold one event per meta-iteration, any repeated
    /// iteration (written by a killed process after its last checkpoint) with the same values.
    /// </summary>
    private static void AssertResumedMetrics(string dir, string referenceMetrics, int processes)
    {
        string metrics = File.ReadAllText(Path.Combine(dir, RunMetrics.FileName));
        Assert.Equal(MetricsTests.Deterministic(referenceMetrics), MetricsTests.Deterministic(metrics));
        var files = Directory.GetFiles(dir, "events.out.tfevents.*");
        Assert.Equal(processes, files.Length);
        var byStep = files.SelectMany(f => Optim4RL.Tests.Io.TfEventReader.Read(f, allowTruncatedTail: processes > 2)).Where(e => e.FileVersion is null).GroupBy(e => e.Step).ToList();
        Assert.Equal(Enumerable.Range(1, metrics.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1).Select(i => (long)i), byStep.Select(g => g.Key).Order());
        foreach (var g in byStep)
        {
            var versions = g.Select(e => string.Join(";", e.Scalars.Where(x => !x.Tag.EndsWith("env_steps_per_s", StringComparison.Ordinal)))).Distinct();
            Assert.Single(versions);
        }
    }

    [Fact]
    public void Existing_results_are_refused_without_resume_or_overwrite_and_left_untouched()
    {
        var sweep = Write("a2c", ExperimentRunnerTests.A2CJson);
        ExperimentRunner.Run(sweep, 1, new RunOptions(Logs));
        var before = Snapshot(RunDir("a2c"));
        var e = Assert.Throws<RunDirectoryException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs)));
        Assert.Contains("--overwrite", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(RunDir("a2c")));
        // A2C has no checkpoint: --resume is refused too, and says what to do.
        var r = Assert.Throws<RunDirectoryException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs, Resume: true)));
        Assert.Contains("no checkpoint", r.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(RunDir("a2c")));
        ExperimentRunner.Run(sweep, 1, new RunOptions(Logs, Overwrite: true));
        Assert.Equal(before["result_catch.csv"], Snapshot(RunDir("a2c"))["result_catch.csv"]); // same seed, same numbers
    }

    [Fact]
    public void A_failed_run_next_to_a_finished_one_changes_none_of_its_files()
    {
        string path = Path.Combine(_root, "x.json");
        File.WriteAllText(path, ExperimentRunnerTests.A2CJson);
        ExperimentRunner.Run(SweepConfig.Load(path), 1, new RunOptions(Logs));
        var before = Snapshot(RunDir("x"));

        // Same index, now a learned optimizer whose φ file is missing: rejected before any write,
        // even with --overwrite (the old results are deleted only once the new config is accepted).
        File.WriteAllText(path, ExperimentRunnerTests.A2CJson.Replace("\"RMSProp\", \"Adam\"", "\"Optim4RL\"")
            .Replace("\"grad_clip\": [-1]", "\"grad_clip\": [-1], \"param_load_path\": [\"/nonexistent/param.json\"]"));
        Assert.ThrowsAny<IOException>(() => ExperimentRunner.Run(SweepConfig.Load(path), 1, new RunOptions(Logs, Overwrite: true)));
        Assert.Equal(before, Snapshot(RunDir("x")));

        // A failed new run leaves no directory behind.
        Assert.ThrowsAny<IOException>(() => ExperimentRunner.Run(SweepConfig.Load(path), 2, new RunOptions(Logs)));
        Assert.False(Directory.Exists(Path.Combine(Logs, "x", "2")));
    }

    [Fact]
    public async Task Two_runs_of_one_index_at_once_one_is_refused_and_the_other_is_whole()
    {
        var sweep = Write("twice", ExperimentRunnerTests.MetaJson(steps: "20000"));
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = Task.Run(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs), new SyncProgress(p =>
        {
            started.Set();
            release.Wait();
        })));
        Assert.True(started.Wait(TimeSpan.FromSeconds(60)));
        var e = Assert.Throws<RunInUseException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs, Overwrite: true)));
        Assert.Contains($"process {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
        release.Set();
        Assert.True((await first).Completed);

        string log = File.ReadAllText(Path.Combine(RunDir("twice"), "log.txt"));
        Assert.Single(log.Split('\n'), l => l.Contains("config 1/", StringComparison.Ordinal));
        var meta = JsonNode.Parse(File.ReadAllText(Path.Combine(RunDir("twice"), "param.json")))!["meta"]!;
        Assert.Equal("50", meta["meta_iterations"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("csv_ahead")]
    [InlineData("csv_behind")]
    [InlineData("checkpoint_mid_rename")]
    [InlineData("stale_temp")]
    public void A_kill_between_writes_loses_nothing_and_resume_is_exact(string fault)
    {
        var (phi, csv, metrics) = Reference();
        var sweep = Write("part", ExperimentRunnerTests.MetaJson());
        RunPartially(sweep, 4, checkpointEvery: 1);
        string dir = RunDir("part");
        string csvPath = Path.Combine(dir, "meta_train.csv");
        switch (fault)
        {
            case "csv_ahead":
                // The CSV of a later iteration was written, then the process died before its checkpoint.
                File.AppendAllText(csvPath, "5,400,0.5,0.1,\n6,480,0.5,0.1,\n");
                File.AppendAllText(Path.Combine(dir, RunMetrics.FileName), "5,400,0.5,0.1,0.1,,0.1,0.1,0.1,0.1,100.0,1.000\n");
                break;
            case "csv_behind":
                File.WriteAllText(csvPath, "iteration,step,meta_loss,meta_grad_norm,agents_mean_return\n");
                File.WriteAllText(Path.Combine(dir, RunMetrics.FileName), "iteration\n");
                break;
            case "checkpoint_mid_rename":
                // Killed after the old checkpoint became checkpoint.prev.bin and before the new one took its name.
                File.Move(Path.Combine(dir, "checkpoint.bin"), Path.Combine(dir, "checkpoint.prev.bin"), overwrite: true);
                break;
            case "stale_temp":
                File.WriteAllBytes(Path.Combine(dir, ".checkpoint.bin.deadbeef.tmp"), new byte[1000]);
                break;
        }

        Assert.True(ExperimentRunner.Run(sweep, 1, new RunOptions(Logs, Resume: true)).Completed);
        Assert.Equal(phi, PhiArrays(dir));
        Assert.Equal(csv, File.ReadAllText(csvPath));
        AssertResumedMetrics(dir, metrics, processes: 2);
        Assert.Empty(Directory.GetFiles(dir, ".*.tmp"));
    }

    [Fact]
    public void A_meta_run_keeps_its_initial_phi_through_a_resume()
    {
        var sweep = Write("init", ExperimentRunnerTests.MetaJson());
        RunPartially(sweep, 4);
        string initPath = Path.Combine(RunDir("init"), "param_init.json");
        string first = File.ReadAllText(initPath);
        ExperimentRunner.Run(sweep, 1, new RunOptions(Logs, Resume: true));
        Assert.Equal(first, File.ReadAllText(initPath)); // not rewritten by the resumed process
        Assert.Equal("0", JsonNode.Parse(first)!["meta"]!["meta_iterations"]!.GetValue<string>());
        Assert.NotEqual(JsonNode.Parse(first)!["arrays"]!.ToJsonString(), PhiArrays(RunDir("init")));

        // It is the φ a run starts from: a fresh run of the same seed writes the same file.
        var again = Write("init_again", ExperimentRunnerTests.MetaJson(steps: "400"));
        ExperimentRunner.Run(again, 1, new RunOptions(Logs));
        Assert.Equal(JsonNode.Parse(first)!["arrays"]!.ToJsonString(),
            JsonNode.Parse(File.ReadAllText(Path.Combine(RunDir("init_again"), "param_init.json")))!["arrays"]!.ToJsonString());
    }

    [Fact]
    public void Restart_population_continues_from_the_small_file_with_phi_frozen_during_warm_up()
    {
        string path = Path.Combine(_root, "restart.json");
        File.WriteAllText(path, ExperimentRunnerTests.MetaJson());
        var sweep = SweepConfig.Load(path);
        RunPartially(sweep, 4, checkpointEvery: 2); // checkpoint (and meta_state.bin) at iteration 4
        string dir = RunDir("restart");
        var stateHeader = CheckpointFile.ReadHeader(Path.Combine(dir, "meta_state.bin"));
        Assert.Equal(4, stateHeader["iteration"]!.GetValue<long>());
        string phiAt4 = PhiArrays(dir);
        string rowsAt4 = File.ReadAllText(Path.Combine(dir, "meta_train.csv"));
        File.Delete(Path.Combine(dir, "checkpoint.bin")); // the big file is gone: only the small one remains
        File.Delete(Path.Combine(dir, "checkpoint.prev.bin"));

        // A run of exactly 4 iterations ends right after the warm-up: φ is the saved one, unchanged.
        File.WriteAllText(path, ExperimentRunnerTests.MetaJson(steps: "1600"));
        Assert.True(ExperimentRunner.Run(SweepConfig.Load(path), 1, new RunOptions(Logs, RestartPopulation: true)).Completed);
        Assert.Equal(phiAt4, PhiArrays(dir));

        // Continued to 10 iterations: the first 4 rows are kept, 6 new ones follow, φ moves on.
        File.WriteAllText(path, ExperimentRunnerTests.MetaJson());
        Assert.True(ExperimentRunner.Run(SweepConfig.Load(path), 1, new RunOptions(Logs, RestartPopulation: true)).Completed);
        string[] rows = File.ReadAllLines(Path.Combine(dir, "meta_train.csv"));
        Assert.Equal(11, rows.Length);
        Assert.Equal(rowsAt4.TrimEnd('\n').Split('\n'), rows.Take(5));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i.ToString()), rows.Skip(1).Select(r => r.Split(',')[0]));
        Assert.NotEqual(phiAt4, PhiArrays(dir));
        Assert.Contains("warm-up", File.ReadAllText(Path.Combine(dir, "log.txt")), StringComparison.Ordinal);

        // Not combinable with --resume; a directory without a run has nothing to restart.
        Assert.Throws<ConfigException>(() => ExperimentRunner.Run(SweepConfig.Load(path), 1, new RunOptions(Logs, Resume: true, RestartPopulation: true)));
        Assert.Throws<RunDirectoryException>(() => ExperimentRunner.Run(SweepConfig.Load(path), 2, new RunOptions(Logs, RestartPopulation: true)));
    }

    [Fact]
    public void Resume_refuses_changed_result_settings_and_names_each()
    {
        string path = Path.Combine(_root, "changed.json");
        File.WriteAllText(path, ExperimentRunnerTests.MetaJson());
        RunPartially(SweepConfig.Load(path), 4);
        var before = Snapshot(RunDir("changed"));
        File.WriteAllText(path, ExperimentRunnerTests.MetaJson(metaLr: "3e-4").Replace("\"inner_updates\": [4]", "\"inner_updates\": [2]"));
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(SweepConfig.Load(path), 1, new RunOptions(Logs, Resume: true)));
        Assert.Contains("meta_optim.kwargs.learning_rate 0.001 → 0.0003", e.Message, StringComparison.Ordinal);
        Assert.Contains("agent.inner_updates 4 → 2", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(RunDir("changed")));

        // Lengthening the run is allowed: it changes no result up to the old end.
        File.WriteAllText(path, ExperimentRunnerTests.MetaJson(steps: "8000"));
        Assert.True(ExperimentRunner.Run(SweepConfig.Load(path), 1, new RunOptions(Logs, Resume: true)).Completed);
        Assert.Contains("\"meta_iterations\": \"20\"", File.ReadAllText(Path.Combine(RunDir("changed"), "param.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_checkpoint_is_refused_on_resume_with_its_name()
    {
        var sweep = Write("damaged", ExperimentRunnerTests.MetaJson());
        RunPartially(sweep, 4);
        string ckpt = Path.Combine(RunDir("damaged"), "checkpoint.bin");
        byte[] bytes = File.ReadAllBytes(ckpt);
        bytes[bytes.Length / 3] ^= 1;
        File.WriteAllBytes(ckpt, bytes);
        var before = Snapshot(RunDir("damaged"));
        var e = Assert.Throws<InvalidDataException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs, Resume: true)));
        Assert.Contains(ckpt, e.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(RunDir("damaged")));
    }

    [Fact]
    public void Meta_divergence_keeps_the_rows_reached_and_names_the_agents_learning_rate()
    {
        // A huge α makes the agents' own parameters blow up: the message blames α, not the meta learning rate.
        var sweep = Write("alpha", ExperimentRunnerTests.MetaJson(steps: "40000").Replace("\"learning_rate\": [3e-3]", "\"learning_rate\": [1e12]"));
        var e = Assert.Throws<TrainingDivergedException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs)));
        Assert.Contains("agent_optim.kwargs.learning_rate", e.Message, StringComparison.Ordinal);
        Assert.Contains("No checkpoint was written yet", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(RunDir("alpha"), "checkpoint.bin")));

        var meta = Write("metalr", ExperimentRunnerTests.MetaJson(steps: "40000", metaLr: "1e30").Replace("\"grad_clip\": [1.0]", "\"grad_clip\": [-1]"));
        var m = Assert.Throws<TrainingDivergedException>(() => ExperimentRunner.Run(meta, 1, new RunOptions(Logs, CheckpointEvery: 1)));
        string[] rows = File.ReadAllLines(Path.Combine(RunDir("metalr"), "meta_train.csv"));
        long diverged = long.Parse(System.Text.RegularExpressions.Regex.Match(m.Message, @"meta-iteration (\d+)").Groups[1].Value);
        Assert.Equal(diverged - 1, rows.Length - 1); // every completed iteration has its row
        Assert.Contains($"meta-iteration {diverged - 1})", m.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A2C_divergence_keeps_the_rows_reached()
    {
        // Plain SGD with a huge step diverges after a few updates.
        var sweep = Write("a2c_div", ExperimentRunnerTests.A2CJson.Replace("\"RMSProp\", \"Adam\"", "\"SGD\"").Replace("\"learning_rate\": [1e-3]", "\"learning_rate\": [1e3]")
            .Replace("\"train_steps\": [8000]", "\"train_steps\": [80000]"));
        Assert.Throws<TrainingDivergedException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs)));
        Assert.True(File.Exists(Path.Combine(RunDir("a2c_div"), "result_catch.csv")));
    }

    [Fact]
    public async Task Resume_after_kill_9_of_a_real_process_is_exact()
    {
        const string steps = "120000"; // 300 meta-iterations
        File.WriteAllText(Path.Combine(_root, "uninterrupted.json"), ExperimentRunnerTests.MetaJson(steps: steps));
        ExperimentRunner.Run(SweepConfig.Load(Path.Combine(_root, "uninterrupted.json")), 1, new RunOptions(Logs));
        string config = Path.Combine(_root, "killed.json");
        File.WriteAllText(config, ExperimentRunnerTests.MetaJson(steps: steps));
        string cli = Path.Combine(AppContext.BaseDirectory, "Optim4RL.Cli.dll");
        string dir = RunDir("killed");
        string ckpt = Path.Combine(dir, "checkpoint.bin");
        var random = new Random(7);
        for (int kill = 0; kill <= 3; kill++)
        {
            string resume = kill == 0 ? "" : "--resume";
            var psi = new ProcessStartInfo("dotnet", $"\"{cli}\" run --config \"{config}\" --logs \"{Logs}\" --checkpoint-every 2 {resume}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (kill < 3)
            {
                // Kill (SIGKILL: no handler runs) at a random moment once the run has moved 40 iterations on.
                long target = 40L * (kill + 1);
                var watch = Stopwatch.StartNew();
                while (!p.HasExited && CheckpointIteration(ckpt) < target && watch.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
                Thread.Sleep(random.Next(0, 15));
                Assert.False(p.HasExited, $"the run ended before it could be killed: {await stderr}");
                p.Kill();
            }

            p.WaitForExit();
            string err = await stderr, output = await stdout;
            if (kill == 3) Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {err} {output}");
        }

        string reference = RunDir("uninterrupted");
        Assert.Equal(PhiArrays(reference), PhiArrays(dir));
        Assert.Equal(File.ReadAllText(Path.Combine(reference, "meta_train.csv")), File.ReadAllText(Path.Combine(dir, "meta_train.csv")));
        AssertResumedMetrics(dir, File.ReadAllText(Path.Combine(reference, RunMetrics.FileName)), processes: 4);
    }

    private static long CheckpointIteration(string path)
    {
        try
        {
            return File.Exists(path) ? CheckpointFile.ReadHeader(path)["iteration"]!.GetValue<long>() : -1;
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return -1; // being replaced right now
        }
    }
}
