using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Optim4RL.Experiments;
using Optim4RL.Tests.Analysis;

namespace Optim4RL.Tests.Experiments;

/// <summary>The per-run-kind configuration schema: unknown keys, types, ranges, rules, memory and nothing written on failure.</summary>
public sealed partial class ConfigSchemaTests : IDisposable
{
    private readonly TempDir _tmp = new("o4rl-schema-");

    public void Dispose() => _tmp.Dispose();

    internal const string A2CJson = """
        {
          "env": [{"name": [["catch"]], "num_envs": [8], "train_steps": [8000]}],
          "agent": [{"name": ["A2C"], "gae_lambda": [0.95], "rollout_steps": [20], "critic_loss_weight": [0.5], "entropy_weight": [0.01]}],
          "agent_optim": [{"name": ["RMSProp"], "kwargs": [{"learning_rate": [1e-3], "grad_clip": [-1]}]}],
          "discount": [0.995], "seed": [42], "generate_random_seed": [true]
        }
        """;

    internal const string MetaJson = """
        {
          "env": [{"name": [["catch"]], "num_envs": [4], "train_steps": [4000]}],
          "agent": [{"name": ["MetaA2C"], "inner_updates": [4], "rollout_steps": [20], "reset_interval": [3]}],
          "agent_optim": [{"name": ["Optim4RL"], "kwargs": [{"param_load_path": [""], "learning_rate": [3e-3], "grad_clip": [1]}]}],
          "meta_optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [1e-3], "grad_clip": [1.0]}]}],
          "discount": [0.995], "seed": [42], "display_interval": [5]
        }
        """;

    internal const string PpoJson = """
        {
          "env": [{"name": ["ant"], "num_envs": [4], "train_steps": [1e5], "num_evals": [2], "episode_length": [1000], "action_repeat": [1]}],
          "agent": [{"name": ["PPO"], "rollout_steps": [5], "num_minibatches": [4], "update_epochs": [2]}],
          "optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [3e-4], "grad_clip": [1]}]}],
          "batch_size": [8], "discount": [0.97], "max_devices_per_host": [-1], "seed": [1], "generate_random_seed": [true]
        }
        """;

    private static RunConfig Resolve(string json) => SweepConfig.Parse(json, "t").ResolveRun(1);

    private static string Error(string json, ConfigChecks checks = ConfigChecks.Static) =>
        Assert.Throws<ConfigException>(() => ConfigSchema.Validate(Resolve(json), checks)).Message;

    [Fact]
    public void Valid_configs_of_each_family_pass()
    {
        ConfigSchema.Validate(Resolve(A2CJson), ConfigChecks.Run);
        ConfigSchema.Validate(Resolve(MetaJson), ConfigChecks.Run);
        ConfigSchema.Validate(Resolve(PpoJson));
    }

    [Fact]
    public void Every_agent_name_has_exactly_one_schema()
    {
        Assert.Equal(ExperimentRunner.AgentNames.Order(), ConfigSchema.Kinds.Select(k => k.Agent).Order());
        foreach (var kind in ConfigSchema.Kinds)
        {
            Assert.Equal(kind.Keys.Count, kind.Keys.Select(k => k.Path).Distinct().Count());
            Assert.All(kind.Keys, k => Assert.False(string.IsNullOrWhiteSpace(k.Meaning)));
        }
    }

    [Fact]
    public void A_misspelled_key_names_the_closest_valid_key_in_one_line()
    {
        string e = Error(A2CJson.Replace("\"entropy_weight\"", "\"entropy_weigth\""));
        Assert.Equal("config key 'agent.entropy_weigth' is not a key of A2C configs (did you mean 'agent.entropy_weight'?); every key is listed in docs/configs.md.", e);
        Assert.Contains("did you mean 'agent.entropy_weight'", Error(A2CJson.Replace("\"discount\"", "\"entropy_weight\": [0.1], \"discount\"")));
        Assert.Contains("did you mean 'agent_optim.kwargs.learning_rate'", Error(A2CJson.Replace("\"learning_rate\"", "\"learnig_rate\"")));
        Assert.Contains("did you mean 'agent_optim'", Error(A2CJson.Replace("\"agent_optim\"", "\"agent_optm\"")));
        Assert.StartsWith("config key 'optim' is not a key of A2C configs (did you mean 'agent_optim'?)", Error(A2CJson.Replace("\"agent_optim\"", "\"optim\"")));
    }

    [Fact]
    public void Keys_another_kind_reads_are_unknown_here()
    {
        Assert.Contains("'meta_optim' is not a key of A2C configs", Error(A2CJson.Replace("\"discount\"", "\"meta_optim\": [{\"name\": [\"Adam\"]}], \"discount\"")));
        Assert.Contains("'agent_optim.kwargs.grad_norm' is not a key of MetaA2C configs", Error(MetaJson.Replace("\"grad_clip\": [1]", "\"grad_norm\": [1]")));
    }

    [Theory]
    [InlineData("\"num_envs\": [8]", "\"num_envs\": [1e30]", "config key 'env.num_envs' is out of range: it must be ≥ 1 (an integer up to 2147483647), found number 1e30")]
    [InlineData("\"num_envs\": [8]", "\"num_envs\": [0]", "config key 'env.num_envs' is out of range: it must be ≥ 1 (an integer up to 2147483647), found number 0")]
    [InlineData("\"num_envs\": [8]", "\"num_envs\": [8.5]", "config key 'env.num_envs' must be an integer, found number 8.5")]
    [InlineData("\"num_envs\": [8]", "\"num_envs\": [\"8\"]", "config key 'env.num_envs' must be an integer, found string \"8\"")]
    [InlineData("\"seed\": [42]", "\"seed\": [1e30]", "config key 'seed' is out of range: it must be ≥ 0 (a 64-bit integer), found number 1e30")]
    [InlineData("\"seed\": [42]", "\"seed\": [-1]", "config key 'seed' is out of range: it must be ≥ 0 (a 64-bit integer), found number -1")]
    [InlineData("\"learning_rate\": [1e-3]", "\"learning_rate\": [0]", "config key 'agent_optim.kwargs.learning_rate' is out of range: it must be > 0, found number 0")]
    [InlineData("\"discount\": [0.995]", "\"discount\": [1.5]", "config key 'discount' is out of range: it must be 0 to 1, found number 1.5")]
    [InlineData("\"grad_clip\": [-1]", "\"grad_clip\": [1e400]", "config key 'agent_optim.kwargs.grad_clip' is out of range: it must be a finite number, found number 1e400")]
    [InlineData("\"generate_random_seed\": [true]", "\"generate_random_seed\": [\"yes\"]", "config key 'generate_random_seed' must be a boolean (true or false), found string \"yes\"")]
    public void Types_and_ranges_are_one_line_errors(string from, string to, string expected) =>
        Assert.Equal(expected, Error(A2CJson.Replace(from, to)));

    [Fact]
    public void Names_outside_their_set_name_the_closest()
    {
        Assert.Equal("config key 'agent_optim.name': unknown optimizer 'Adamm' (did you mean 'Adam'?). Valid: SGD, Adam, RMSProp, Lion, Optim4RL, LinearOptim, L2LGD2, STAR.",
            Error(A2CJson.Replace("\"RMSProp\"", "\"Adamm\"")));
        Assert.Contains("unknown learned optimizer 'Adam'", Error(MetaJson.Replace("\"Optim4RL\"", "\"Adam\"")));
        Assert.Contains("unknown task 'catchh' (did you mean 'catch'?)", Error(A2CJson.Replace("\"catch\"", "\"catchh\"")));
        Assert.Contains("unknown agent 'A2CC' (did you mean 'A2C'?)", Error(A2CJson.Replace("\"A2C\"", "\"A2CC\"")));
        Assert.Contains("config key 'agent.conv_layout': unknown layout 'cols'", Error(A2CJson.Replace("\"entropy_weight\": [0.01]", "\"entropy_weight\": [0.01], \"conv_layout\": [\"cols\"]")));
    }

    [Fact]
    public void Missing_required_keys_say_what_they_are_for()
    {
        Assert.StartsWith("config key 'seed' is missing: A2C needs it", Error(A2CJson.Replace("\"seed\": [42],", "")));
        Assert.StartsWith("config key 'meta_optim.name' is missing", Error(MetaJson.Replace("\"name\": [\"Adam\"], ", "")));
        Assert.StartsWith("config key 'optim.name' is missing", Error(PpoJson.Replace("\"name\": [\"Adam\"], ", "")));
        Assert.Contains("config key 'agent_optim.name' is missing: PPO needs it (the agent's optimizer (letter case ignored)) (or 'optim.name').",
            Error(PpoJson.Replace("\"optim\": [{\"name\": [\"Adam\"], \"kwargs\": [{\"learning_rate\": [3e-4], \"grad_clip\": [1]}]}],", "")));
    }

    [Fact]
    public void Rules_between_keys_name_the_key()
    {
        Assert.Contains("'env.train_steps' (100) is below one iteration", Error(A2CJson.Replace("[8000]", "[100]")));
        Assert.Contains("below one meta-iteration", Error(MetaJson.Replace("[4000]", "[399]")));
        ConfigSchema.Validate(Resolve(MetaJson.Replace("\"inner_updates\"", "\"envs_per_agent\": [2], \"inner_updates\"")));
        Assert.Contains("'env.num_envs' (4) must be a multiple of agent.envs_per_agent (3): the agents share the environments evenly.",
            Error(MetaJson.Replace("\"inner_updates\"", "\"envs_per_agent\": [3], \"inner_updates\"")));
        Assert.Contains("'agent.envs_per_agent'", Error(MetaJson.Replace("\"inner_updates\"", "\"envs_per_agent\": [0], \"inner_updates\"")));
        Assert.Contains("'agent_optim.kwargs.grad_norm' (1) and grad_clip (1) are both > 0", Error(A2CJson.Replace("\"grad_clip\": [-1]", "\"grad_clip\": [1], \"grad_norm\": [1]")));
        Assert.Contains("'agent_optim.kwargs.param_load_path' is empty", Error(A2CJson.Replace("\"RMSProp\"", "\"Optim4RL\"")));
        Assert.Contains("'agent_optim.kwargs.param_load_path' is set but RMSProp", Error(A2CJson.Replace("\"grad_clip\": [-1]", "\"param_load_path\": [\"x.json\"]")));
        Assert.Contains("has 2 values but env.name has 1 task", Error(A2CJson.Replace("\"learning_rate\": [1e-3]", "\"learning_rate\": [[1e-3, 1e-4]]")));
        Assert.Contains("'env.num_envs' (3) does not divide the segments of a training step: batch_size × num_minibatches = 32 must be a multiple of num_envs (3)",
            Error(PpoJson.Replace("\"num_envs\": [4]", "\"num_envs\": [3]")));
        string metaPpo = PpoJson.Replace("\"PPO\"", "\"MetaPPO\"").Replace("\"num_evals\": [2], ", "").Replace("\"optim\": [{\"name\": [\"Adam\"]", "\"agent_optim\": [{\"name\": [\"Optim4RL\"]")
            .Replace("\"batch_size\"", "\"meta_optim\": [{\"name\": [\"Adam\"], \"kwargs\": [{\"learning_rate\": [1e-4]}]}], \"batch_size\"");
        ConfigSchema.Validate(Resolve(metaPpo));
        Assert.Contains("'env.name' names 2 tasks: MetaPPO trains on one task.", Error(metaPpo.Replace("[\"ant\"]", "[[\"ant\", \"hopper\"]]")));
        Assert.Contains("'env.num_envs' (4) must be a multiple of agent.num_agents (3)", Error(metaPpo.Replace("\"rollout_steps\"", "\"num_agents\": [3], \"rollout_steps\"")));
    }

    [Fact]
    public void Aliases_and_ignored_keys_are_accepted()
    {
        ConfigSchema.Validate(Resolve(PpoJson.Replace("\"optim\"", "\"agent_optim\"")));
        Assert.Contains("'optim' and 'agent_optim' name the same section",
            Error(PpoJson.Replace("\"batch_size\"", "\"agent_optim\": [{\"name\": [\"Adam\"]}], \"batch_size\"")));
        ConfigSchema.Validate(Resolve(A2CJson.Replace("\"grad_clip\": [-1]", "\"grad_clip\": [-1], \"train_steps\": [5e5]")));
        Assert.Contains("did you mean 'optim.kwargs.learning_rate'", Error(PpoJson.Replace("\"learning_rate\"", "\"learning_rat\"")));
    }

    [Fact]
    public void Multi_task_meta_files_take_per_task_lists()
    {
        string grid = File.ReadAllText(Path.Combine(ShippedConfigTests.ConfigsDir(), "meta_rl_grid.json"));
        ConfigSchema.Validate(SweepConfig.Parse(grid, "g").ResolveRun(7));
        Assert.Contains("has 5 values but env.name has 6 tasks", Error(grid.Replace("[[1e3, 1e2, 1e2, 1e1, 1e1, 1e0]]", "[[1e3, 1e2, 1e2, 1e1, 1e1]]")));
    }

    [Fact]
    public void Huge_num_envs_is_a_memory_error_that_suggests_force_and_writes_nothing()
    {
        string logs = _tmp["logs"];
        var meta = SweepConfig.Parse(MetaJson.Replace("\"num_envs\": [4]", "\"num_envs\": [1e8]").Replace("[4000]", "[1e18]"), "huge_meta");
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(meta, 1, new RunOptions(logs)));
        Assert.Matches(@"^config key 'env\.num_envs' asks for too much memory: the run needs an estimated [0-9.]+ [KMGTPE]iB .* is available; lower env\.num_envs, or pass --force to start anyway\.$", e.Message);
        var forced = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(meta, 1, new RunOptions(logs, Force: true)));
        Assert.Contains("even with --force", forced.Message);

        var a2c = SweepConfig.Parse(A2CJson.Replace("\"num_envs\": [8]", "\"num_envs\": [2e9]").Replace("[8000]", "[1e18]"), "huge_a2c");
        Assert.Contains("--force", Assert.Throws<ConfigException>(() => ExperimentRunner.Run(a2c, 1, new RunOptions(logs))).Message);
        Assert.Contains("even with --force", Assert.Throws<ConfigException>(() => ExperimentRunner.Run(a2c, 1, new RunOptions(logs, Force: true))).Message);
        Assert.False(Directory.Exists(logs));
    }

    [Fact]
    public void Static_checks_skip_memory_and_files()
    {
        // 50 tasks of 9000 agents: every task's buffers fit in arrays, but together they need about 1 TiB.
        string tasks = string.Join(", ", Enumerable.Repeat("\"catch\"", 50));
        var run = Resolve(MetaJson.Replace("\"num_envs\": [4]", "\"num_envs\": [9000]").Replace("[4000]", "[1e18]").Replace("[[\"catch\"]]", $"[[{tasks}]]"));
        ConfigSchema.Validate(run);
        Assert.Contains("too much memory", Assert.Throws<ConfigException>(() => ConfigSchema.Validate(run, ConfigChecks.Memory)).Message);
        var lopt = Resolve(A2CJson.Replace("\"RMSProp\"", "\"Optim4RL\"").Replace("\"grad_clip\": [-1]", "\"param_load_path\": [\"/nonexistent/param.json\"]"));
        ConfigSchema.Validate(lopt);
        Assert.ThrowsAny<IOException>(() => ConfigSchema.Validate(lopt, ConfigChecks.Files));
    }

    [Fact]
    public void Every_key_a_runner_reads_by_name_is_in_a_schema()
    {
        string dir = Path.Combine(Path.GetDirectoryName(ShippedConfigTests.ConfigsDir())!, "src", "Optim4RL.Experiments", "Experiments");
        var known = ConfigSchema.Kinds.SelectMany(k => k.Keys.Select(key => key.Path).Concat(k.Aliases.Select(a => a.Alias))).ToHashSet();
        var read = new SortedSet<string>();
        foreach (string file in new[] { "ExperimentRunner.cs", "CollectRunner.cs" })
        {
            foreach (Match m in RunKey().Matches(File.ReadAllText(Path.Combine(dir, file))))
                read.Add(m.Groups[1].Value);
        }

        Assert.True(read.Count > 40, $"only {read.Count} keys found; has the way runners read keys changed?");
        var missing = read.Where(k => !known.Contains(k) && !known.Any(p => p.StartsWith(k + ".", StringComparison.Ordinal))).ToArray();
        Assert.True(missing.Length == 0, "read but in no schema: " + string.Join(", ", missing));
    }

    [Fact]
    public void Edit_distance_and_closest()
    {
        Assert.Equal(0, ConfigSchema.EditDistance("abc", "abc"));
        Assert.Equal(2, ConfigSchema.EditDistance("weigth", "weight"));
        Assert.Equal(3, ConfigSchema.EditDistance("", "abc"));
        Assert.Equal("agent.rollout_steps", ConfigSchema.Closest("agent.rolout_steps", ["agent.rollout_steps", "env.train_steps"]));
        Assert.Null(ConfigSchema.Closest("x", []));
    }

    [GeneratedRegex(@"run\.(?:Get\w+|Has)\(""([a-z_.]+)""")]
    private static partial Regex RunKey();
}
