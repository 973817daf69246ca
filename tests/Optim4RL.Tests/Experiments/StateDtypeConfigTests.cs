using System.Text.Json.Nodes;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Experiments;

/// <summary>The config key agent_optim.kwargs.state_dtype: meta runs store their state in it (bfloat16 by default where supported), record it, and resume with it; other runs refuse bfloat16.</summary>
public sealed class StateDtypeConfigTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "o4rl-dtype-" + Guid.NewGuid().ToString("N"));

    public StateDtypeConfigTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Logs => Path.Combine(_root, "logs");

    private SweepConfig Write(string name, string json)
    {
        string path = Path.Combine(_root, name + ".json");
        File.WriteAllText(path, json);
        return SweepConfig.Load(path);
    }

    private static string WithDtype(string json, string dtype) =>
        json.Replace("\"grad_clip\": [1]}]", $"\"grad_clip\": [1], \"state_dtype\": [\"{dtype}\"]}}]");

    private static string Numerics(string dir) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["provenance"]!["numerics"]!["state_dtype"]!.GetValue<string>();

    [Fact]
    public void A_bfloat16_meta_run_records_its_state_type_and_resumes_to_the_uninterrupted_phi()
    {
        string json = WithDtype(ExperimentRunnerTests.MetaJson(), "bfloat16");
        Assert.Contains("bfloat16", json);
        var full = Write("full16", json);
        Assert.True(ExperimentRunner.Run(full, 1, new RunOptions(Logs)).Completed);
        Assert.Equal("bfloat16", Numerics(Path.Combine(Logs, "full16", "1")));

        var part = Write("part16", json);
        using var cts = new CancellationTokenSource();
        var first = ExperimentRunner.Run(part, 1, new RunOptions(Logs, CheckpointEvery: 3), new SyncProgress(p => { if (p.Done >= 4) cts.Cancel(); }), cts.Token);
        Assert.False(first.Completed);
        Assert.True(ExperimentRunner.Run(part, 1, new RunOptions(Logs, Resume: true)).Completed);
        Assert.Equal(Arrays(Path.Combine(Logs, "full16", "1")), Arrays(Path.Combine(Logs, "part16", "1")));

        // float32 gives another φ, and says so.
        var f32 = Write("full32", WithDtype(ExperimentRunnerTests.MetaJson(), "float32"));
        Assert.True(ExperimentRunner.Run(f32, 1, new RunOptions(Logs)).Completed);
        Assert.Equal("float32", Numerics(Path.Combine(Logs, "full32", "1")));
        Assert.NotEqual(Arrays(Path.Combine(Logs, "full16", "1")), Arrays(Path.Combine(Logs, "full32", "1")));

        // Without the key MetaA2C with Optim4RL uses bfloat16: the φ of the explicit bfloat16 run, bit for bit.
        var byDefault = Write("default", ExperimentRunnerTests.MetaJson());
        Assert.True(ExperimentRunner.Run(byDefault, 1, new RunOptions(Logs)).Completed);
        Assert.Equal("bfloat16", Numerics(Path.Combine(Logs, "default", "1")));
        Assert.Equal(Arrays(Path.Combine(Logs, "full16", "1")), Arrays(Path.Combine(Logs, "default", "1")));
    }

    private static string Arrays(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "param.json")))!["arrays"]!.ToJsonString();

    [Fact]
    public void Without_the_key_STAR_and_plain_agents_keep_float32()
    {
        var star = Write("star32", ExperimentRunnerTests.MetaJson("MetaA2C", "1600").Replace("\"Optim4RL\"", "\"STAR\""));
        Assert.True(ExperimentRunner.Run(star, 1, new RunOptions(Logs)).Completed);
        Assert.Equal("float32", Numerics(Path.Combine(Logs, "star32", "1")));

        var a2c = Write("a2c32", ExperimentRunnerTests.A2CJson);
        Assert.True(ExperimentRunner.Run(a2c, 1, new RunOptions(Logs)).Completed);
        Assert.Equal("float32", Numerics(Path.Combine(Logs, "a2c32", "1")));
    }

    [Fact]
    public void A_float32_checkpoint_resumed_without_the_key_names_the_setting_that_continues_it()
    {
        string json = WithDtype(ExperimentRunnerTests.MetaJson(), "float32");
        var part = Write("old32", json);
        using var cts = new CancellationTokenSource();
        Assert.False(ExperimentRunner.Run(part, 1, new RunOptions(Logs, CheckpointEvery: 3), new SyncProgress(p => { if (p.Done >= 4) cts.Cancel(); }), cts.Token).Completed);
        string checkpoint = Path.Combine(Logs, "old32", "1", ExperimentRunner.CheckpointFileName);
        byte[] before = File.ReadAllBytes(checkpoint);

        // The same experiment without the key (as configs written before bfloat16 became the default).
        File.WriteAllText(Path.Combine(_root, "old32.json"), ExperimentRunnerTests.MetaJson());
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(SweepConfig.Load(Path.Combine(_root, "old32.json")), 1, new RunOptions(Logs, Resume: true)));
        Assert.Contains("\"state_dtype\": [\"float32\"]", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Equal(before, File.ReadAllBytes(checkpoint)); // nothing computed is lost

        // With the key named, it continues to the φ of an uninterrupted float32 run.
        File.WriteAllText(Path.Combine(_root, "old32.json"), json);
        Assert.True(ExperimentRunner.Run(SweepConfig.Load(Path.Combine(_root, "old32.json")), 1, new RunOptions(Logs, Resume: true)).Completed);
        var full = Write("whole32", json);
        Assert.True(ExperimentRunner.Run(full, 1, new RunOptions(Logs)).Completed);
        Assert.Equal(Arrays(Path.Combine(Logs, "whole32", "1")), Arrays(Path.Combine(Logs, "old32", "1")));
    }

    [Fact]
    public void Unknown_types_and_runs_without_bfloat16_state_name_the_key()
    {
        var bad = Write("bad", WithDtype(ExperimentRunnerTests.MetaJson(), "float16"));
        var e1 = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(bad, 1, new RunOptions(Logs)));
        Assert.Contains("agent_optim.kwargs.state_dtype", e1.Message);
        Assert.Contains("bfloat16", e1.Message);

        var star = Write("star", WithDtype(ExperimentRunnerTests.MetaJson(), "bfloat16").Replace("\"Optim4RL\"", "\"STAR\""));
        var e2 = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(star, 1, new RunOptions(Logs)));
        Assert.Contains("agent_optim.kwargs.state_dtype", e2.Message);
        Assert.Contains("STAR", e2.Message);

        var a2c = Write("a2c", ExperimentRunnerTests.A2CJson.Replace("\"grad_clip\": [-1]", "\"grad_clip\": [-1], \"state_dtype\": [\"bfloat16\"]"));
        var e3 = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(a2c, 1, new RunOptions(Logs)));
        Assert.Contains("agent_optim.kwargs.state_dtype", e3.Message);
        Assert.False(Directory.Exists(Path.Combine(Logs, "a2c", "1")) && File.Exists(Path.Combine(Logs, "a2c", "1", "config.json")));
    }
}
