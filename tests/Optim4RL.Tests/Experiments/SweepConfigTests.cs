using System.Text.Json.Nodes;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Experiments;

public class SweepConfigTests
{
    // The example of docs/experiment-configs.md: agent_optim.name sweeps RMSProp/Adam, everything else single-valued.
    private const string SpecExample = """
        {
          "env": [{"name": [["catch"]], "num_envs": [64], "train_steps": [5e5]}],
          "agent_optim": [{
            "name": ["RMSProp", "Adam"],
            "kwargs": [{"learning_rate": [1e-3], "grad_clip": [-1]}]
          }],
          "seed": [42]
        }
        """;

    // Hand-checked nested example.
    // a: 2 plain alternatives.
    // b: [ {x: [1,2,3]} (3), "plain" (1), {y: [true,false], z: ["p","q"]} (4) ] -> 8.
    // c: 1.  Total = 2 * 8 * 1 = 16.
    private const string Nested = """
        {
          "a": [10, 20],
          "b": [
            {"x": [1, 2, 3]},
            "plain",
            {"y": [true, false], "z": ["p", "q"]}
          ],
          "c": [[1, 2]]
        }
        """;

    private static string Name(JsonObject o) => o["agent_optim"]!["name"]!.GetValue<string>();

    [Fact]
    public void Spec_example_has_total_two_and_alternates_rmsprop_adam()
    {
        SweepConfig sweep = SweepConfig.Parse(SpecExample);
        Assert.Equal(2, sweep.Total);
        Assert.Equal("RMSProp", Name(sweep.Resolve(1)));
        Assert.Equal("Adam", Name(sweep.Resolve(2)));
        Assert.Equal("RMSProp", Name(sweep.Resolve(3)));
        Assert.Equal("Adam", Name(sweep.Resolve(4)));
    }

    [Fact]
    public void Resolved_config_is_plain_with_keys_in_file_order()
    {
        JsonObject config = SweepConfig.Parse(SpecExample).Resolve(2);
        Assert.Equal(
            """{"env":{"name":["catch"],"num_envs":64,"train_steps":5e5},"agent_optim":{"name":"Adam","kwargs":{"learning_rate":1e-3,"grad_clip":-1}},"seed":42}""",
            config.ToJsonString());
    }

    [Fact]
    public void A_list_inside_a_list_is_one_alternative()
    {
        SweepConfig sweep = SweepConfig.Parse("""{"name": [["a", "b"]], "rs": [[1, 2], [3]]}""");
        Assert.Equal(2, sweep.Total);
        Assert.Equal("""{"name":["a","b"],"rs":[1,2]}""", sweep.Resolve(1).ToJsonString());
        Assert.Equal("""{"name":["a","b"],"rs":[3]}""", sweep.Resolve(2).ToJsonString());
    }

    [Fact]
    public void First_key_varies_fastest()
    {
        SweepConfig sweep = SweepConfig.Parse("""{"p": [1, 2], "q": ["a", "b", "c"]}""");
        Assert.Equal(6, sweep.Total);
        string[] expected = ["1a", "2a", "1b", "2b", "1c", "2c"];
        for (int k = 1; k <= 6; k++)
        {
            JsonObject c = sweep.Resolve(k);
            Assert.Equal(expected[k - 1], $"{c["p"]}{c["q"]}");
        }
    }

    [Fact]
    public void Nested_example_total_counts_object_alternatives_by_their_own_count()
    {
        Assert.Equal(16, SweepConfig.Parse(Nested).Total);
    }

    [Fact]
    public void Nested_example_objects_in_a_list_take_consecutive_ranges()
    {
        SweepConfig sweep = SweepConfig.Parse(Nested);

        // i = k - 1; a = i mod 2; j = (i div 2) mod 8 selects b:
        // j 0..2 -> {x: 1,2,3}; j 3 -> "plain"; j 4..7 -> {y,z} with y fastest.
        string[] expectedB =
        [
            """{"x":1}""", """{"x":2}""", """{"x":3}""", "\"plain\"",
            """{"y":true,"z":"p"}""", """{"y":false,"z":"p"}""", """{"y":true,"z":"q"}""", """{"y":false,"z":"q"}""",
        ];
        for (int k = 1; k <= 16; k++)
        {
            int i = k - 1;
            JsonObject c = sweep.Resolve(k);
            Assert.Equal(i % 2 == 0 ? 10 : 20, c["a"]!.GetValue<int>());
            Assert.Equal(expectedB[i / 2], c["b"]!.ToJsonString());
            Assert.Equal("[1,2]", c["c"]!.ToJsonString());
        }
    }

    [Fact]
    public void Index_k_and_k_plus_total_give_identical_configs()
    {
        SweepConfig sweep = SweepConfig.Parse(Nested);
        for (int k = 1; k <= sweep.Total; k++)
        {
            string first = sweep.Resolve(k).ToJsonString();
            Assert.Equal(first, sweep.Resolve(k + sweep.Total).ToJsonString());
            Assert.Equal(first, sweep.Resolve(k + (7 * sweep.Total)).ToJsonString());
        }
    }

    [Fact]
    public void Negative_k_counts_from_the_end()
    {
        SweepConfig sweep = SweepConfig.Parse(Nested);
        Assert.Equal(16, sweep.NormalizeIndex(-1));
        Assert.Equal(1, sweep.NormalizeIndex(-16));
        Assert.Equal(sweep.Resolve(16).ToJsonString(), sweep.Resolve(-1).ToJsonString());
        Assert.Equal(sweep.Resolve(1).ToJsonString(), sweep.Resolve(-16).ToJsonString());
        Assert.Equal(5, sweep.CombinationIndex(-11));
    }

    [Fact]
    public void Index_zero_and_below_minus_total_are_errors()
    {
        SweepConfig sweep = SweepConfig.Parse(SpecExample);
        ConfigException zero = Assert.Throws<ConfigException>(() => sweep.Resolve(0));
        Assert.Contains("config index 0 is invalid", zero.Message);
        ConfigException low = Assert.Throws<ConfigException>(() => sweep.Resolve(-3));
        Assert.Contains("config index -3 is out of range: negative indices go down to -2", low.Message);
    }

    [Fact]
    public void Resolve_returns_a_fresh_object_each_time()
    {
        SweepConfig sweep = SweepConfig.Parse(SpecExample);
        JsonObject first = sweep.Resolve(1);
        first["seed"] = 7;
        Assert.Equal(42, sweep.Resolve(1)["seed"]!.GetValue<int>());
    }

    [Fact]
    public void Empty_object_alternative_counts_once()
    {
        SweepConfig sweep = SweepConfig.Parse("""{"a": [{}, 1]}""");
        Assert.Equal(2, sweep.Total);
        Assert.Equal("""{"a":{}}""", sweep.Resolve(1).ToJsonString());
    }

    [Fact]
    public void Malformed_json_reports_line_and_position()
    {
        const string text = "{\n  \"seed\": [42],\n  \"env\": [1,, 2]\n}";
        ConfigException e = Assert.Throws<ConfigException>(() => SweepConfig.Parse(text, "bad", "configs/bad.json"));
        Assert.StartsWith("configs/bad.json: invalid JSON at line 3, position ", e.Message);
        Assert.DoesNotContain("LineNumber", e.Message);
    }

    [Fact]
    public void Top_level_value_that_is_not_a_list_is_rejected_with_an_example()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => SweepConfig.Parse("""{"env": [{"n": [1]}], "seed": 42}""", "x", "x.json"));
        Assert.Equal("x.json: key 'seed' must be a list of alternatives, e.g. \"seed\": [42]", e.Message);
    }

    [Fact]
    public void Nested_value_that_is_not_a_list_names_its_key_path()
    {
        ConfigException e = Assert.Throws<ConfigException>(() =>
            SweepConfig.Parse("""{"agent": [{"name": ["A2C"], "reset_interval": 32}]}""", "x", "x.json"));
        Assert.Equal("x.json: key 'agent.reset_interval' must be a list of alternatives, e.g. \"reset_interval\": [32]", e.Message);

        ConfigException obj = Assert.Throws<ConfigException>(() => SweepConfig.Parse("""{"env": {"name": ["catch"]}}""", "x", "x.json"));
        Assert.Equal("x.json: key 'env' must be a list of alternatives, e.g. \"env\": [{...}]", obj.Message);
    }

    [Fact]
    public void Key_path_of_an_error_inside_one_of_several_objects_gives_its_position()
    {
        ConfigException e = Assert.Throws<ConfigException>(() =>
            SweepConfig.Parse("""{"meta_optim": [{"kwargs": [{"lr": [1]}, {"lr": "x"}]}]}""", "x", "x.json"));
        Assert.Contains("key 'meta_optim.kwargs[1].lr' must be a list of alternatives", e.Message);
    }

    [Fact]
    public void Empty_list_is_rejected()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => SweepConfig.Parse("""{"env": [{"num_envs": []}]}""", "x", "x.json"));
        Assert.StartsWith("x.json: key 'env.num_envs' has an empty list of alternatives", e.Message);
    }

    [Fact]
    public void Top_level_must_be_an_object()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => SweepConfig.Parse("[1, 2]", "x", "x.json"));
        Assert.StartsWith("x.json: a sweep file must be a JSON object", e.Message);
    }

    [Fact]
    public void Repeated_key_is_rejected()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => SweepConfig.Parse("""{"seed": [1], "seed": [2]}""", "x", "x.json"));
        Assert.Equal("x.json: key 'seed' appears twice", e.Message);
    }

    [Fact]
    public void Too_many_combinations_is_an_error_not_an_overflow()
    {
        string ten = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
        string text = "{" + string.Join(", ", Enumerable.Range(0, 10).Select(i => $"\"k{i}\": {ten}")) + "}";
        ConfigException e = Assert.Throws<ConfigException>(() => SweepConfig.Parse(text, "x", "x.json"));
        Assert.Contains("more than 2147483647 combinations", e.Message);
    }

    [Fact]
    public void Load_names_the_experiment_after_the_file()
    {
        string dir = Path.Combine(Path.GetTempPath(), "o4rl-sweep-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "my_exp.json");
            File.WriteAllText(path, SpecExample);
            SweepConfig sweep = SweepConfig.Load(path);
            Assert.Equal("my_exp", sweep.Name);
            RunConfig run = sweep.ResolveRun(-1);
            Assert.Equal(2, run.ConfigIdx);
            Assert.Equal(2, run.Total);
            Assert.Equal("my_exp", run.Experiment);
            Assert.Equal("Adam", run.GetString("agent_optim.name"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
