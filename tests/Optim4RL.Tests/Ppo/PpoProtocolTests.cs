using System.Globalization;
using System.Text.RegularExpressions;
using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Meta;
using Optim4RL.Tests.Experiments;

namespace Optim4RL.Tests.Ppo;

/// <summary>
/// The networks plain PPO and MetaPPO build from a config (value 5 × 256 and 5 × 64 unless the config
/// says otherwise), and the final return the runner prints (the evaluation protocol's rule per agent).
/// </summary>
public sealed class PpoProtocolTests : IDisposable
{
    private readonly string _logs = Path.Combine(Path.GetTempPath(), "o4rl-ppo-protocol-" + Guid.NewGuid().ToString("N"));

    public PpoProtocolTests() => ContinuousEnvRegistry.Register(PointMass.TaskName, (n, rng) => new PointMass(n, rng));

    public void Dispose()
    {
        if (Directory.Exists(_logs)) Directory.Delete(_logs, recursive: true);
    }

    private static readonly int[] Value256 = [256, 256, 256, 256, 256];
    private static readonly int[] Value64 = [64, 64, 64, 64, 64];

    private static string Json(string agent, string valueKey = "", int numEvals = 4) => $$"""
    {
      "env": [{
        "name": ["point_mass"], "train_steps": [2400], "episode_length": [50], "action_repeat": [1],
        "reward_scaling": [1], "num_envs": [8], "num_evals": [{{numEvals}}], "num_eval_envs": [8], "normalize_obs": [true]
      }],
      "agent": [{
        "name": ["{{agent}}"], "gae_lambda": [0.95], "rollout_steps": [5], "num_minibatches": [2], "inner_updates": [2],
        "clipping_epsilon": [0.3], "update_epochs": [2], "entropy_weight": [1e-3], "reset_interval": [2], "num_agents": [2],
        "policy_hidden_layer_sizes": [[16, 16]]{{valueKey}}
      }],
      "agent_optim": [{ "name": ["{{(agent == "PPO" ? "Adam" : "Optim4RL")}}"], "kwargs": [{"param_load_path": [""], "learning_rate": [1e-3], "grad_clip": [1]}] }],
      "meta_optim": [{ "name": ["Adam"], "kwargs": [{"learning_rate": [1e-3], "grad_clip": [1.0]}] }],
      "batch_size": [8], "discount": [0.95], "seed": [1], "generate_random_seed": [true]
    }
    """;

    private static RunConfig Resolve(string json) => SweepConfig.Parse(json, "ppo_protocol").ResolveRun(1);

    [Fact]
    public void Plain_ppo_defaults_to_a_5x256_value_network()
    {
        Assert.Equal(Value256, new PpoConfig().ValueHiddenSizes);
        Assert.Equal(Value256, ExperimentRunner.PpoConfigOf(Resolve(Json("PPO"))).ValueHiddenSizes);
        Assert.Equal([16, 16], ExperimentRunner.PpoConfigOf(Resolve(Json("PPO"))).PolicyHiddenSizes);
        Assert.Equal([32, 32, 32, 32], new PpoConfig().PolicyHiddenSizes);
    }

    [Theory]
    [InlineData("MetaPPO")]
    [InlineData("MetapPPO")]
    public void Meta_ppo_defaults_to_a_5x64_value_network(string agent)
    {
        var run = Resolve(Json(agent));
        Assert.Equal(Value64, ExperimentRunner.PpoConfigOf(run).ValueHiddenSizes);
        var (trainer, _) = ExperimentRunner.BuildMetaPpo(run, pipeline: agent == "MetaPPO");
        var meta = Assert.IsType<MetaPpo>(trainer);
        Assert.Equal(Value64, meta.Networks.Value.HiddenSizes);
        Assert.Equal(Value64, meta.Config.Agent.ValueHiddenSizes);
    }

    [Theory]
    [InlineData("PPO")]
    [InlineData("MetaPPO")]
    public void The_config_key_overrides_the_value_network(string agent)
    {
        var run = Resolve(Json(agent, ", \"value_hidden_layer_sizes\": [[24, 12]]"));
        Assert.Equal([24, 12], ExperimentRunner.PpoConfigOf(run).ValueHiddenSizes);
        if (agent == "MetaPPO") Assert.Equal([24, 12], ((MetaPpo)ExperimentRunner.BuildMetaPpo(run, true).Trainer).Networks.Value.HiddenSizes);
    }

    [Fact]
    public void Shipped_ppo_configs_get_the_reference_networks()
    {
        int seen = 0;
        foreach (string file in Directory.GetFiles(ShippedConfigTests.ConfigsDir(), "*.json"))
        {
            var sweep = SweepConfig.Load(file);
            var run = sweep.ResolveRun(1);
            string agent = run.GetString("agent.name", "");
            if (agent is not ("PPO" or "MetaPPO" or "MetapPPO")) continue;
            seen++;
            Assert.False(run.Has("agent.value_hidden_layer_sizes"), $"{file} sets the value network; the defaults are the reference's");
            var cfg = ExperimentRunner.PpoConfigOf(run);
            Assert.Equal(agent == "PPO" ? Value256 : Value64, cfg.ValueHiddenSizes);
            Assert.Equal([32, 32, 32, 32], cfg.PolicyHiddenSizes);
        }

        Assert.True(seen >= 20, $"only {seen} PPO configs found");
    }

    [Fact]
    public void Parameter_counts_of_the_ant_networks()
    {
        // Ant: 27 observations, 8 actions. Policy 27→32→32→32→32→16: 896 + 3·1056 + 528 = 4592.
        // Value 27→256×5→1: 7168 + 4·65792 + 257 = 270593 (plain PPO); 27→64×5→1: 1792 + 4·4160 + 65 = 18497 (MetaPPO).
        Assert.Equal(4592 + 270593, PpoNetworks.For(27, 8, new PpoConfig()).ParamCount);
        Assert.Equal(4592 + 18497, PpoNetworks.For(27, 8, new PpoConfig { ValueHiddenSizes = PpoConfig.MetaValueHiddenSizes }).ParamCount);
        Assert.Equal(4592 + 270593, new PpoNetworks(27, 8).ParamCount);
    }

    [Fact]
    public void Ppo_summary_is_the_mean_of_the_last_three_deterministic_evaluations()
    {
        // Plain PPO takes none of the meta-training keys (the config schema rejects them).
        string json = Json("PPO", ", \"value_hidden_layer_sizes\": [[16]]", numEvals: 6)
            .Replace(" \"inner_updates\": [2],", "", StringComparison.Ordinal)
            .Replace(" \"reset_interval\": [2], \"num_agents\": [2],", "", StringComparison.Ordinal)
            .Replace("\"param_load_path\": [\"\"], ", "", StringComparison.Ordinal);
        json = Regex.Replace(json, "\\s*\"meta_optim\": \\[.*?\\] \\}\\],", "");
        var outcome = ExperimentRunner.Run(SweepConfig.Parse(json, "ppo_protocol"), 1, new RunOptions(_logs, Threads: 2));
        Assert.True(outcome.Completed);
        var dir = new RunDirectory(outcome.Directory);
        var evals = ResultCsv.Read(dir.PathOf(EvaluationProtocol.DeterministicEvaluationFileName("point_mass")));
        Assert.Equal(7, evals.Count); // step 0, then 6 evaluations
        double expected = evals.TakeLast(3).Average(r => r.Return);
        string line = Assert.Single(outcome.Summary);
        Assert.Contains("last 3 deterministic evaluations", line, StringComparison.Ordinal);
        Assert.Equal(expected.ToString("F2", CultureInfo.InvariantCulture), Regex.Match(line, @"final return (-?[0-9.]+)").Groups[1].Value);
        Assert.Contains(line, File.ReadAllText(dir.LogPath), StringComparison.Ordinal);
    }

    [Fact]
    public void A2C_summary_is_the_mean_of_the_last_twenty_logged_returns()
    {
        var outcome = ExperimentRunner.Run(SweepConfig.Parse(ExperimentRunnerTests.A2CJson, "a2c_protocol"), 2, new RunOptions(_logs, Threads: 1));
        var rows = ResultCsv.Read(new RunDirectory(outcome.Directory).ResultPath("catch"));
        Assert.True(rows.Count > 20);
        string line = Assert.Single(outcome.Summary);
        Assert.Contains("last 20 logged returns", line, StringComparison.Ordinal);
        Assert.Equal(rows.TakeLast(20).Average(r => r.Return).ToString("F3", CultureInfo.InvariantCulture), Regex.Match(line, @"final return (-?[0-9.]+)").Groups[1].Value);
    }
}
