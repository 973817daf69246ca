using System.Text.Json.Nodes;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Experiments;

/// <summary>The config key agent_optim.kwargs.state_dtype: meta runs store their state in it, record it, and resume with it; other runs refuse bfloat16.</summary>
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

        // The float32 default gives another φ, and says so.
        var f32 = Write("full32", ExperimentRunnerTests.MetaJson());
        Assert.True(ExperimentRunner.Run(f32, 1, new RunOptions(Logs)).Completed);
        Assert.Equal("float32", Numerics(Path.Combine(Logs, "full32", "1")));
        Assert.NotEqual(Arrays(Path.Combine(Logs, "full16", "1")), Arrays(Path.Combine(Logs, "full32", "1")));

        static string Arrays(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "param.json")))!["arrays"]!.ToJsonString();
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
