using System.Text.Json.Nodes;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Experiments;

public class RunConfigTests
{
    private static RunConfig Config(string json, int configIdx = 1, int total = 1) =>
        new(JsonNode.Parse(json)!.AsObject(), "exp", configIdx, total);

    private static readonly RunConfig Sample = Config("""
        {
          "env": {"name": "catch", "num_envs": 64, "train_steps": 5e5, "reward_scaling": [1e3, 1e2]},
          "agent": {"name": "MetaA2C", "reset_interval": "abc", "inner_updates": 4.5, "flag": 1},
          "agent_optim": {"name": "Optim4RL", "kwargs": {"learning_rate": 1e-3, "grad_clip": -1, "param_load_path": ""}},
          "discount": 0.995,
          "seed": 42,
          "generate_random_seed": true
        }
        """);

    [Fact]
    public void Typed_getters_read_dotted_paths()
    {
        Assert.Equal("MetaA2C", Sample.GetString("agent.name"));
        Assert.Equal(1e-3, Sample.GetDouble("agent_optim.kwargs.learning_rate"));
        Assert.Equal(-1, Sample.GetInt("agent_optim.kwargs.grad_clip"));
        Assert.Equal(0.995, Sample.GetDouble("discount"));
        Assert.True(Sample.GetBool("generate_random_seed"));
        Assert.True(Sample.GetBool("agent.flag"));
        Assert.Equal("", Sample.GetString("agent_optim.kwargs.param_load_path"));
    }

    [Fact]
    public void Integral_exponent_numbers_are_integers()
    {
        Assert.Equal(500_000, Sample.GetInt("env.train_steps"));
        Assert.Equal(500_000L, Sample.GetLong("env.train_steps"));
        Assert.Equal(30_000_000, Config("""{"n": 3e7}""").GetInt("n"));
        Assert.Equal(100_000_000_000L, Config("""{"n": 1e11}""").GetLong("n"));
    }

    [Fact]
    public void Optional_getters_return_the_default_only_when_absent()
    {
        Assert.Equal(0, Sample.GetInt("agent.missing", 0));
        Assert.Equal(2.5, Sample.GetDouble("agent_optim.kwargs.max_norm", 2.5));
        Assert.Equal("x", Sample.GetString("nowhere.at.all", "x"));
        Assert.False(Sample.GetBool("save_param", false));
        Assert.Equal(64, Sample.GetInt("env.num_envs", 1));
        ConfigException e = Assert.Throws<ConfigException>(() => Sample.GetInt("agent.reset_interval", 32));
        Assert.Equal("config key 'agent.reset_interval' must be an integer, found string \"abc\"", e.Message);
    }

    [Fact]
    public void Has_finds_present_keys_only()
    {
        Assert.True(Sample.Has("agent_optim.kwargs.grad_clip"));
        Assert.True(Sample.Has("env"));
        Assert.False(Sample.Has("agent_optim.kwargs.grad_norm"));
        Assert.False(Sample.Has("meta_optim.kwargs.max_norm"));
    }

    [Fact]
    public void String_or_list_of_strings_becomes_a_list()
    {
        Assert.Equal(["catch"], Sample.GetStringList("env.name"));
        Assert.Equal(["a", "b"], Config("""{"env": {"name": ["a", "b"]}}""").GetStringList("env.name"));
    }

    [Fact]
    public void Number_or_list_of_numbers_becomes_a_list_and_per_task_array()
    {
        Assert.Equal([1e3, 1e2], Sample.GetDoubleList("env.reward_scaling"));
        Assert.Equal([1e-3], Sample.GetDoubleList("agent_optim.kwargs.learning_rate"));
        Assert.Equal([1e-3, 1e-3, 1e-3], Sample.GetDoublePerTask("agent_optim.kwargs.learning_rate", 3));
        Assert.Equal([1e3, 1e2], Sample.GetDoublePerTask("env.reward_scaling", 2));
        Assert.Equal([1.0, 1.0], Sample.GetDoublePerTask("env.missing_scale", 2, 1.0));
        Assert.Equal([72, 144], Config("""{"r": [72, 1.44e2]}""").GetIntPerTask("r", 2));
        Assert.Equal([-1, -1], Config("""{"r": -1}""").GetIntPerTask("r", 2));
    }

    [Fact]
    public void Per_task_list_of_the_wrong_length_is_an_error()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => Sample.GetDoublePerTask("env.reward_scaling", 6));
        Assert.Equal("config key 'env.reward_scaling' has 2 values but there are 6 tasks; give one value or one per task", e.Message);
    }

    [Fact]
    public void Wrong_type_names_key_path_expected_type_and_found_value()
    {
        Assert.Equal(
            "config key 'agent.reset_interval' must be an integer or a list of integers, found string \"abc\"",
            Assert.Throws<ConfigException>(() => Sample.GetIntList("agent.reset_interval")).Message);
        Assert.Equal(
            "config key 'agent.inner_updates' must be an integer, found number 4.5",
            Assert.Throws<ConfigException>(() => Sample.GetInt("agent.inner_updates")).Message);
        Assert.Equal(
            "config key 'env.num_envs' must be a string, found number 64",
            Assert.Throws<ConfigException>(() => Sample.GetString("env.num_envs")).Message);
        Assert.Equal(
            "config key 'agent.name' must be a number, found string \"MetaA2C\"",
            Assert.Throws<ConfigException>(() => Sample.GetDouble("agent.name")).Message);
        Assert.Equal(
            "config key 'discount' must be a boolean (true or false), found number 0.995",
            Assert.Throws<ConfigException>(() => Sample.GetBool("discount")).Message);
        Assert.Equal(
            "config key 'env.reward_scaling' must be a string or a list of strings, found list [1e3,1e2]",
            Assert.Throws<ConfigException>(() => Sample.GetStringList("env.reward_scaling")).Message);
        string longValue = Assert.Throws<ConfigException>(() => Sample.GetDouble("env")).Message;
        Assert.StartsWith("config key 'env' must be a number, found object {\"name\":\"catch\",\"num_envs\":64,", longValue);
        Assert.EndsWith("...", longValue);
        Assert.DoesNotContain('\n', longValue);
    }

    [Fact]
    public void Missing_key_and_non_object_parent_are_reported_by_path()
    {
        Assert.Equal(
            "config key 'meta_optim.kwargs.learning_rate' is missing",
            Assert.Throws<ConfigException>(() => Sample.GetDouble("meta_optim.kwargs.learning_rate")).Message);
        Assert.Equal(
            "config key 'discount.value' cannot be read: 'discount' must be an object, found number 0.995",
            Assert.Throws<ConfigException>(() => Sample.GetDouble("discount.value")).Message);
    }

    [Fact]
    public void Out_of_range_integer_is_an_error()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => Config("""{"n": 3e10}""").GetInt("n"));
        Assert.Equal("config key 'n' is out of range: it must be an integer between -2147483648 and 2147483647, found number 3e10", e.Message);
        e = Assert.Throws<ConfigException>(() => Config("""{"n": 1e30}""").GetLong("n"));
        Assert.StartsWith("config key 'n' is out of range", e.Message);
    }

    [Fact]
    public void Section_keeps_full_key_paths_in_errors()
    {
        RunConfig optim = Sample.Section("agent_optim");
        Assert.Equal("Optim4RL", optim.GetString("name"));
        Assert.Equal(["name", "kwargs"], optim.Keys);
        Assert.Equal(
            "config key 'agent_optim.kwargs.param_load_path' must be a number, found string \"\"",
            Assert.Throws<ConfigException>(() => optim.GetDouble("kwargs.param_load_path")).Message);
    }

    [Fact]
    public void Seed_is_base_plus_k_minus_one_when_generate_random_seed_is_true()
    {
        Assert.Equal(42UL, Sample.Seed(1));
        Assert.Equal(43UL, Sample.Seed(2));
        Assert.Equal(141UL, Sample.Seed(100));
        Assert.Equal(Sample.Seed(7), Sample.Seed(7));
    }

    [Fact]
    public void Seed_is_the_base_seed_when_generate_random_seed_is_false_or_absent()
    {
        Assert.Equal(42UL, Config("""{"seed": 42, "generate_random_seed": false}""").Seed(5));
        Assert.Equal(7UL, Config("""{"seed": 7}""").Seed(3));
    }

    [Fact]
    public void Seed_errors_are_config_errors()
    {
        Assert.Equal("config key 'seed' is missing", Assert.Throws<ConfigException>(() => Config("{}").Seed(1)).Message);
        Assert.Equal(
            "config key 'seed' must be a non-negative integer, found number -1",
            Assert.Throws<ConfigException>(() => Config("""{"seed": -1}""").Seed(1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Sample.Seed(0));
    }

    [Fact]
    public void Config_json_records_the_derived_seed_and_run_identity()
    {
        SweepConfig sweep = SweepConfig.Parse("""{"agent": [{"name": ["A2C"]}], "lr": [1, 2], "seed": [42], "generate_random_seed": [true]}""", "demo");
        RunConfig run = sweep.ResolveRun(4);
        JsonObject written = JsonNode.Parse(run.ToConfigJson())!.AsObject();
        Assert.Equal(45, written["seed"]!.GetValue<int>());
        Assert.Equal(42, written["base_seed"]!.GetValue<int>());
        Assert.Equal(4, written["config_idx"]!.GetValue<int>());
        Assert.Equal(2, written["num_combinations"]!.GetValue<int>());
        Assert.Equal("demo", written["exp"]!.GetValue<string>());
        Assert.Equal(2, written["lr"]!.GetValue<int>());
        Assert.Equal(["agent", "lr", "seed", "generate_random_seed", "base_seed", "config_idx", "num_combinations", "exp"], written.Select(p => p.Key));

        string dir = Path.Combine(Path.GetTempPath(), "o4rl-cfg-" + Guid.NewGuid().ToString("N"));
        try
        {
            RunDirectory runDir = RunDirectory.Create(sweep, 4, dir);
            run.WriteConfigJson(runDir.ConfigPath);
            Assert.Equal(run.ToConfigJson(), File.ReadAllText(Path.Combine(dir, "demo", "4", "config.json")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Constructor_copies_the_values()
    {
        JsonObject values = JsonNode.Parse("""{"a": 1}""")!.AsObject();
        var run = new RunConfig(values);
        values["a"] = 2;
        Assert.Equal(1, run.GetInt("a"));
    }
}
