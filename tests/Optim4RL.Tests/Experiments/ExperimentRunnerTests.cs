using System.Text.Json.Nodes;
using Optim4RL.Agents;
using Optim4RL.Experiments;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Experiments;

/// <summary>End-to-end runs of tiny configurations through the runner, and every bad-input path.</summary>
public sealed class ExperimentRunnerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "o4rl-runner-" + Guid.NewGuid().ToString("N"));

    public ExperimentRunnerTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Logs => Path.Combine(_root, "logs");

    private SweepConfig Write(string name, string json)
    {
        string path = Path.Combine(_root, name + ".json");
        File.WriteAllText(path, json);
        return SweepConfig.Load(path);
    }

    internal const string A2CJson = """
        {
          "env": [{"name": [["catch"]], "num_envs": [8], "train_steps": [8000]}],
          "agent": [{"name": ["A2C"], "gae_lambda": [0.95], "rollout_steps": [20], "critic_loss_weight": [0.5], "entropy_weight": [0.01]}],
          "agent_optim": [{"name": ["RMSProp", "Adam"], "kwargs": [{"learning_rate": [1e-3], "grad_clip": [-1]}]}],
          "discount": [0.995], "seed": [42], "generate_random_seed": [true]
        }
        """;

    internal static string MetaJson(string agent = "MetaA2C", string steps = "4000", string metaLr = "1e-3") => $$"""
        {
          "env": [{"name": [["small_sparse_short"]], "num_envs": [4], "train_steps": [{{steps}}]}],
          "agent": [{"name": ["{{agent}}"], "inner_updates": [4], "gae_lambda": [0.95], "rollout_steps": [20],
                     "critic_loss_weight": [0.5], "entropy_weight": [0.01], "reset_interval": [3]}],
          "agent_optim": [{"name": ["Optim4RL"], "kwargs": [{"param_load_path": [""], "learning_rate": [3e-3], "grad_clip": [1]}]}],
          "meta_optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [{{metaLr}}], "grad_clip": [1.0]}]}],
          "discount": [0.995], "seed": [42], "display_interval": [5], "generate_random_seed": [true]
        }
        """;

    [Fact]
    public void A2C_run_writes_config_log_and_results()
    {
        var sweep = Write("tiny_a2c", A2CJson);
        var outcome = ExperimentRunner.Run(sweep, 2, new RunOptions(Logs));
        Assert.True(outcome.Completed);
        string dir = Path.Combine(Logs, "tiny_a2c", "2");
        Assert.Equal(Path.GetFullPath(dir), Path.GetFullPath(outcome.Directory));
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        Assert.Equal("Adam", cfg["agent_optim"]!["name"]!.GetValue<string>());
        Assert.Equal(43, cfg["seed"]!.GetValue<long>()); // seed + (k − 1) with generate_random_seed
        var rows = ResultCsv.Read(Path.Combine(dir, "result_catch.csv"));
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.InRange(r.Return, -1, 1));
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.First.Step < p.Second.Step));
        Assert.Contains("final return", File.ReadAllText(Path.Combine(dir, "log.txt")));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));
    }

    [Fact]
    public void Same_config_index_gives_identical_results()
    {
        var sweep = Write("tiny_a2c", A2CJson);
        ExperimentRunner.Run(sweep, 1, new RunOptions(Logs));
        var first = File.ReadAllText(Path.Combine(Logs, "tiny_a2c", "1", "result_catch.csv"));
        ExperimentRunner.Run(sweep, 1, new RunOptions(Logs, Threads: 1, Overwrite: true));
        Assert.Equal(first, File.ReadAllText(Path.Combine(Logs, "tiny_a2c", "1", "result_catch.csv")));
    }

    [Fact]
    public void Meta_run_writes_phi_that_an_A2C_config_can_load()
    {
        var meta = Write("tiny_meta", MetaJson());
        var outcome = ExperimentRunner.Run(meta, 1, new RunOptions(Logs, CheckpointEvery: 2));
        Assert.True(outcome.Completed);
        string param = Path.Combine(Logs, "tiny_meta", "1", "param.json");
        var lopt = LearnedOptimizers.Create("Optim4RL");
        var phi = MetaParamsFile.Load(param, "Optim4RL", 8, lopt.Layout);
        Assert.Equal(lopt.Layout.Count, phi.Length);
        Assert.True(File.Exists(Path.Combine(Logs, "tiny_meta", "1", ExperimentRunner.CheckpointFileName)));
        Assert.Equal(1 + 10, File.ReadAllLines(Path.Combine(Logs, "tiny_meta", "1", "meta_train.csv")).Length); // 4000 / (4·20·5) = 10 iterations

        var lopt1 = Write("tiny_lopt", A2CJson.Replace("\"RMSProp\", \"Adam\"", "\"Optim4RL\"")
            .Replace("\"grad_clip\": [-1]", $"\"grad_clip\": [-1], \"param_load_path\": [\"{param.Replace("\\", "/")}\"]"));
        var run = ExperimentRunner.Run(lopt1, 1, new RunOptions(Logs));
        Assert.True(run.Completed);
        Assert.NotEmpty(ResultCsv.Read(Path.Combine(Logs, "tiny_lopt", "1", "result_catch.csv")));
    }

    [Fact]
    public void Meta_run_keeps_phi_at_every_checkpoint_equal_to_a_shorter_runs_phi()
    {
        Assert.True(ExperimentRunner.Run(Write("hist", MetaJson()), 1, new RunOptions(Logs, CheckpointEvery: 4)).Completed);
        string dir = Path.Combine(Logs, "hist", "1");
        string[] files = [.. Directory.GetFiles(Path.Combine(dir, "phi")).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];
        Assert.Equal(["param_10.json", "param_4.json", "param_8.json"], files); // checkpoints at 4 and 8, and the end
        Assert.Equal(Arrays(Path.Combine(dir, "param.json")), Arrays(Path.Combine(dir, "phi", "param_10.json")));

        // φ after 4 of 10 iterations is the φ of a run that stops after 4 (the shorter run is a prefix of the longer one).
        Assert.True(ExperimentRunner.Run(Write("short", MetaJson(steps: "1600")), 1, new RunOptions(Logs)).Completed);
        Assert.Equal(Arrays(Path.Combine(Logs, "short", "1", "param.json")), Arrays(Path.Combine(dir, "phi", "param_4.json")));
        Assert.NotEqual(Arrays(Path.Combine(dir, "phi", "param_4.json")), Arrays(Path.Combine(dir, "phi", "param_8.json")));

        static string Arrays(string path) => JsonNode.Parse(File.ReadAllText(path))!["arrays"]!.ToJsonString();
    }

    [Fact]
    public void Resume_continues_to_the_same_phi_as_an_uninterrupted_run()
    {
        var full = Write("full", MetaJson());
        ExperimentRunner.Run(full, 1, new RunOptions(Logs));
        string fullPhi = File.ReadAllText(Path.Combine(Logs, "full", "1", "param.json"));

        // Interrupt after the first checkpoint by cancelling from the progress callback.
        var part = Write("part", MetaJson());
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.Done >= 4) cts.Cancel(); });
        var first = ExperimentRunner.Run(part, 1, new RunOptions(Logs, CheckpointEvery: 3), progress, cts.Token);
        Assert.False(first.Completed);
        // φ so far is written at every checkpoint (the interruption writes one too).
        var partial = JsonNode.Parse(File.ReadAllText(Path.Combine(Logs, "part", "1", "param.json")))!.AsObject();
        Assert.Equal("4", partial["meta"]!["meta_iterations"]!.GetValue<string>());
        var second = ExperimentRunner.Run(part, 1, new RunOptions(Logs, Resume: true));
        Assert.True(second.Completed);
        Assert.Equal(Strip(fullPhi), Strip(File.ReadAllText(Path.Combine(Logs, "part", "1", "param.json"))));

        static string Strip(string json)
        {
            var o = JsonNode.Parse(json)!.AsObject();
            return o["arrays"]!.ToJsonString();
        }
    }

    [Fact]
    public void Unknown_agent_names_the_valid_ones()
    {
        var sweep = Write("bad_agent", A2CJson.Replace("\"A2C\"", "\"A3C\""));
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs)));
        Assert.Contains("A3C", e.Message);
        Assert.Contains("MetaA2C", e.Message);
    }

    [Fact]
    public void The_references_STAR_agent_names_point_to_the_shared_trainer()
    {
        var sweep = Write("star_name", MetaJson(agent: "MetaA2Cstar"));
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs)));
        Assert.Contains("'MetaA2C'", e.Message);
        Assert.Contains("STAR", e.Message);
    }

    [Fact]
    public void Unknown_task_names_the_valid_ones()
    {
        var sweep = Write("bad_task", A2CJson.Replace("[[\"catch\"]]", "[[\"catchh\"]]"));
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs)));
        Assert.Contains("env.name", e.Message);
        Assert.Contains("catchh", e.Message);
        Assert.Contains("did you mean 'catch'", e.Message);
        Assert.False(Directory.Exists(Path.Combine(Logs, "bad_task")), "nothing is written for a config that fails its schema");
        Assert.Contains("small_dense_long", e.Message);
    }

    [Fact]
    public void Wrong_type_names_the_key_path()
    {
        var sweep = Write("bad_type", A2CJson.Replace("\"num_envs\": [8]", "\"num_envs\": [\"eight\"]"));
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs)));
        Assert.Contains("env.num_envs", e.Message);
    }

    [Fact]
    public void Config_index_zero_or_below_minus_total_is_rejected()
    {
        var sweep = Write("tiny_a2c", A2CJson);
        Assert.ThrowsAny<Exception>(() => ExperimentRunner.Run(sweep, 0, new RunOptions(Logs)));
        Assert.ThrowsAny<Exception>(() => ExperimentRunner.Run(sweep, -3, new RunOptions(Logs)));
    }

    [Fact]
    public void Missing_or_mismatched_phi_file_is_a_clear_error()
    {
        var missing = Write("no_phi", A2CJson.Replace("\"RMSProp\", \"Adam\"", "\"Optim4RL\"")
            .Replace("\"grad_clip\": [-1]", "\"grad_clip\": [-1], \"param_load_path\": [\"/nonexistent/param.json\"]"));
        var e1 = Assert.ThrowsAny<IOException>(() => ExperimentRunner.Run(missing, 1, new RunOptions(Logs)));
        Assert.Contains("/nonexistent/param.json", e1.Message);

        string bad = Path.Combine(_root, "bad_param.json");
        File.WriteAllText(bad, "{ not json");
        var corrupt = Write("bad_phi", A2CJson.Replace("\"RMSProp\", \"Adam\"", "\"Optim4RL\"")
            .Replace("\"grad_clip\": [-1]", $"\"grad_clip\": [-1], \"param_load_path\": [\"{bad.Replace("\\", "/")}\"]"));
        Assert.ThrowsAny<IOException>(() => ExperimentRunner.Run(corrupt, 1, new RunOptions(Logs)));

        var empty = Write("empty_phi", A2CJson.Replace("\"RMSProp\", \"Adam\"", "\"Optim4RL\""));
        var e3 = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(empty, 1, new RunOptions(Logs)));
        Assert.Contains("param_load_path", e3.Message);
    }

    [Fact]
    public void Diverging_meta_training_stops_and_keeps_the_last_checkpoint()
    {
        // An absurd meta learning rate drives φ to Inf/NaN within a few iterations.
        var sweep = Write("diverge", MetaJson(steps: "40000", metaLr: "1e30").Replace("\"grad_clip\": [1.0]", "\"grad_clip\": [-1]"));
        var e = Assert.Throws<TrainingDivergedException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(Logs, CheckpointEvery: 1)));
        Assert.Contains("meta-iteration", e.Message);
        Assert.Contains("checkpoint", e.Message);
        Assert.True(File.Exists(Path.Combine(Logs, "diverge", "1", ExperimentRunner.CheckpointFileName)));
    }
}
