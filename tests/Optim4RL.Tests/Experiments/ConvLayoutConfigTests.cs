using Optim4RL.Io;
using System.Text.Json.Nodes;
using Optim4RL.Agents;
using Optim4RL.Experiments;
using Optim4RL.Meta;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tests.Analysis;

namespace Optim4RL.Tests.Experiments;

/// <summary><c>agent.conv_layout</c>: parsed, validated, and used by A2C, A2Ccollect and MetaA2C/MetapA2C runs.</summary>
public sealed class ConvLayoutConfigTests : IDisposable
{
    // big_dense_long (15 × 11 map, 5 maps, 9 actions).
    private const int ReferenceP = 39_482, RowsColsP = 85_178;

    private readonly TempDir _tmp = new("o4rl-conv-");

    public void Dispose() => _tmp.Dispose();

    private static RunConfig Run(string agentJson) => new(JsonNode.Parse($$"""{"agent": {{agentJson}}}""")!.AsObject());

    [Fact]
    public void Default_is_the_reference_layout_and_both_names_parse()
    {
        Assert.Equal(ConvLayout.Reference, ExperimentRunner.ConvLayoutOf(Run("""{"name": "A2C"}""")));
        Assert.Equal(ConvLayout.Reference, ExperimentRunner.ConvLayoutOf(Run("""{"conv_layout": "reference"}""")));
        Assert.Equal(ConvLayout.RowsCols, ExperimentRunner.ConvLayoutOf(Run("""{"conv_layout": "rows_cols"}""")));
        Assert.Equal(ConvLayout.RowsCols, ExperimentRunner.ConvLayoutOf(Run("""{"conv_layout": "Rows_Cols"}""")));
        Assert.Equal(["reference", "rows_cols"], ConvLayouts.Names);
        Assert.All(Enum.GetValues<ConvLayout>(), l => Assert.True(ConvLayouts.TryParse(ConvLayouts.NameOf(l), out var back) && back == l));
    }

    [Theory]
    [InlineData("\"channels_last\"")]
    [InlineData("\"\"")]
    [InlineData("3")]
    public void Unknown_values_name_the_key_and_the_valid_ones(string value)
    {
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.ConvLayoutOf(Run($$"""{"conv_layout": {{value}}}""")));
        Assert.Contains("agent.conv_layout", e.Message, StringComparison.Ordinal);
        if (value.StartsWith('"'))
        {
            Assert.Contains("reference", e.Message, StringComparison.Ordinal);
            Assert.Contains("rows_cols", e.Message, StringComparison.Ordinal);
        }
    }

    private static string CollectJson(string layout) => $$"""
        {
          "env": [{"name": [["big_dense_long"]], "num_envs": [2], "train_steps": [80]}],
          "agent": [{"name": ["A2Ccollect"], "data_reduce": [100], "rollout_steps": [20]{{layout}}}],
          "agent_optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [1e-3]}]}],
          "discount": [0.995], "seed": [3], "generate_random_seed": [false]
        }
        """;

    [Theory]
    [InlineData("", ReferenceP)]
    [InlineData(", \"conv_layout\": [\"reference\"]", ReferenceP)]
    [InlineData(", \"conv_layout\": [\"rows_cols\"]", RowsColsP)]
    public void A2C_and_gradient_collection_build_the_configured_network(string layout, int expectedP)
    {
        var sweep = SweepConfig.Parse(CollectJson(layout), "conv_collect");
        var outcome = ExperimentRunner.Run(sweep, 1, new RunOptions(_tmp.Path, Threads: 1));
        Assert.True(outcome.Completed);
        var data = GradientFile.Read(Path.Combine(outcome.Directory, GradientFile.FileName("big_dense_long")));
        Assert.Equal(expectedP, data.Header.ParamCount);
        Assert.Equal(2, data.Records); // 80 steps / (2 envs × 20)
    }

    [Theory]
    [InlineData("A2C")]
    [InlineData("A2Ccollect")]
    [InlineData("MetapA2C")]
    public void Runs_reject_an_unknown_layout(string agent)
    {
        string json = agent.StartsWith("Meta", StringComparison.Ordinal)
            ? MetaJson(", \"conv_layout\": [\"cols_rows\"]")
            : agent == "A2C"
                ? CollectJson(", \"conv_layout\": [\"cols_rows\"]").Replace("\"A2Ccollect\", \"data_reduce\": [100]", "\"A2C\"", StringComparison.Ordinal) // data_reduce is A2Ccollect's key
                : CollectJson(", \"conv_layout\": [\"cols_rows\"]");
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(SweepConfig.Parse(json, "conv_bad"), 1, new RunOptions(_tmp.Path)));
        Assert.Contains("agent.conv_layout", e.Message, StringComparison.Ordinal);
        Assert.Contains("cols_rows", e.Message, StringComparison.Ordinal);
        Assert.Contains("rows_cols", e.Message, StringComparison.Ordinal);
    }

    private static string MetaJson(string layout) => $$"""
        {
          "env": [{"name": [["big_dense_long"]], "num_envs": [2], "train_steps": [200]}],
          "agent": [{"name": ["MetapA2C"], "inner_updates": [4], "rollout_steps": [20], "reset_interval": [-1]{{layout}}}],
          "agent_optim": [{"name": ["Optim4RL"], "kwargs": [{"param_load_path": [""], "learning_rate": [3e-3], "grad_clip": [1]}]}],
          "meta_optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [1e-3], "grad_clip": [1.0]}]}],
          "discount": [0.995], "seed": [42]
        }
        """;

    private static MetaA2C MetaFor(ConvLayout layout) =>
        new(new MetaA2CConfig([new MetaTaskConfig("big_dense_long", 2, 3e-3f, 1f, 1)], 200, 4, false, 1, -1, new A2CConfig(), 42, layout),
            LearnedOptimizers.Create("Optim4RL"), Optax.FromConfig("Adam", 1e-3, gradClip: 1.0));

    [Theory]
    [InlineData(ConvLayout.Reference)]
    [InlineData(ConvLayout.RowsCols)]
    public void Meta_runs_build_the_configured_network(ConvLayout layout)
    {
        string key = $", \"conv_layout\": [\"{ConvLayouts.NameOf(layout)}\"]";
        var outcome = ExperimentRunner.Run(SweepConfig.Parse(MetaJson(key), "conv_meta"), 1, new RunOptions(_tmp.Path, Threads: 1));
        Assert.True(outcome.Completed);
        string ckpt = Path.Combine(outcome.Directory, ExperimentRunner.CheckpointFileName);

        // The checkpoint records each task's P: it loads into a trainer of the same layout only.
        CheckpointFile.Read(ckpt, (_, r) => MetaFor(layout).LoadCheckpoint(r.BaseStream));
        var other = layout == ConvLayout.Reference ? ConvLayout.RowsCols : ConvLayout.Reference;
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(ckpt, (_, r) => MetaFor(other).LoadCheckpoint(r.BaseStream)));
        int p = layout == ConvLayout.Reference ? ReferenceP : RowsColsP;
        Assert.Contains($"× {p} parameters", e.Message, StringComparison.Ordinal);
    }
}
