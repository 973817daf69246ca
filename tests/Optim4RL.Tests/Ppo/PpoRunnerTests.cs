using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Tests.Experiments;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Ppo;

/// <summary>PPO, MetaPPO and MetapPPO from config files through <see cref="ExperimentRunner"/>, on the test task.</summary>
public sealed class PpoRunnerTests : IDisposable
{
    private readonly string _logs = Path.Combine(Path.GetTempPath(), "o4rl-ppo-" + Guid.NewGuid().ToString("N"));

    public PpoRunnerTests() => ContinuousEnvRegistry.Register(PointMass.TaskName, (n, rng) => new PointMass(n, rng));

    public void Dispose()
    {
        if (Directory.Exists(_logs)) Directory.Delete(_logs, recursive: true);
    }

    internal const string PpoJson = """
    {
      "env": [{
        "name": ["point_mass"], "train_steps": [2400], "episode_length": [50], "action_repeat": [1],
        "reward_scaling": [1], "num_envs": [8], "num_evals": [3], "num_eval_envs": [8], "normalize_obs": [true]
      }],
      "agent": [{
        "name": ["PPO"], "gae_lambda": [0.95], "rollout_steps": [5], "num_minibatches": [2],
        "clipping_epsilon": [0.3], "update_epochs": [2], "entropy_weight": [1e-3],
        "policy_hidden_layer_sizes": [[16, 16]], "value_hidden_layer_sizes": [[16, 16]]
      }],
      "optim": [{ "name": ["RMSProp", "Adam"], "kwargs": [{"learning_rate": [1e-3], "grad_clip": [1]}] }],
      "batch_size": [8], "discount": [0.95], "max_devices_per_host": [-1], "seed": [1], "generate_random_seed": [true]
    }
    """;

    internal static string MetaJson(string agent, int reset) => $$"""
    {
      "env": [{
        "name": ["point_mass"], "train_steps": [480], "episode_length": [50], "action_repeat": [1],
        "reward_scaling": [1], "num_envs": [8], "normalize_obs": [true]
      }],
      "agent": [{
        "name": ["{{agent}}"], "inner_updates": [2], "gae_lambda": [0.95], "rollout_steps": [5], "num_minibatches": [2],
        "clipping_epsilon": [0.3], "update_epochs": [2], "entropy_weight": [1e-3], "reset_interval": [{{reset}}], "num_agents": [2],
        "policy_hidden_layer_sizes": [[16]], "value_hidden_layer_sizes": [[16]]
      }],
      "agent_optim": [{ "name": ["Optim4RL"], "kwargs": [{"param_load_path": [""], "learning_rate": [3e-3], "grad_clip": [1]}] }],
      "meta_optim": [{ "name": ["Adam"], "kwargs": [{"learning_rate": [1e-3], "grad_clip": [1.0]}] }],
      "display_interval": [1], "batch_size": [8], "discount": [0.95], "max_devices_per_host": [-1], "seed": [1], "generate_random_seed": [true]
    }
    """;

    [Fact]
    public void Ppo_config_writes_training_and_evaluation_curves()
    {
        var sweep = SweepConfig.Parse(PpoJson, "ppo_point_mass");
        Assert.Equal(2, sweep.Total);
        var outcome = ExperimentRunner.Run(sweep, 2, new RunOptions(_logs, Threads: 2));
        Assert.True(outcome.Completed);
        var dir = new RunDirectory(outcome.Directory);
        Assert.True(File.Exists(dir.ConfigPath));
        var train = ResultCsv.Read(dir.ResultPath("point_mass"));
        Assert.NotEmpty(train);
        Assert.All(train, r => Assert.InRange(r.Step, 80, 2400));
        foreach (string kind in new[] { "stochastic", "deterministic" })
        {
            var eval = ResultCsv.Read(dir.PathOf($"eval_{kind}_point_mass.csv"));
            Assert.Equal([0L, 800, 1600, 2400], eval.Select(r => r.Step));
            Assert.All(eval, r => Assert.True(double.IsFinite(r.Return)));
        }
        Assert.Contains("evaluation return", File.ReadAllText(dir.LogPath));
    }

    [Fact]
    public void MetaPpo_config_writes_phi_that_a_ppo_config_can_load()
    {
        var meta = SweepConfig.Parse(MetaJson("MetaPPO", 2), "meta_rl_point_mass");
        var outcome = ExperimentRunner.Run(meta, 1, new RunOptions(_logs, Threads: 2));
        Assert.True(outcome.Completed);
        var dir = new RunDirectory(outcome.Directory);
        Assert.True(File.Exists(dir.ParamPath));
        Assert.True(File.Exists(dir.PathOf(ExperimentRunner.CheckpointFileName)));
        // 480 steps ÷ (8 × 5 × 2 × 2) = 3 meta-iterations.
        Assert.Equal(4, File.ReadAllLines(dir.PathOf("meta_train.csv")).Length);

        string lopt = PpoJson.Replace("\"name\": [\"RMSProp\", \"Adam\"], \"kwargs\": [{\"learning_rate\": [1e-3], \"grad_clip\": [1]}]",
            $"\"name\": [\"Optim4RL\"], \"kwargs\": [{{\"param_load_path\": [\"{dir.ParamPath.Replace("\\", "/")}\"], \"learning_rate\": [3e-3], \"grad_clip\": [1]}}]");
        Assert.Contains("Optim4RL", lopt);
        var run = ExperimentRunner.Run(SweepConfig.Parse(lopt, "lopt_rl_point_mass"), 1, new RunOptions(_logs, Threads: 2));
        Assert.True(run.Completed);
        Assert.Contains("loaded φ of Optim4RL", File.ReadAllText(new RunDirectory(run.Directory).LogPath));
    }

    [Fact]
    public void No_pipeline_meta_configs_accept_reset_interval_minus_one()
    {
        var outcome = ExperimentRunner.Run(SweepConfig.Parse(MetaJson("MetapPPO", -1), "meta_rlp_point_mass"), 1, new RunOptions(_logs, Threads: 1));
        Assert.True(outcome.Completed);
        string a2c = File.ReadAllText(Path.Combine(ShippedConfigTests.ConfigsDir(), "quick_meta_rlp_catch.json")).Replace("3.2e5", "3200");
        var a2cOutcome = ExperimentRunner.Run(SweepConfig.Parse(a2c, "quick_meta_rlp_catch"), 1, new RunOptions(_logs, Threads: 1));
        Assert.True(a2cOutcome.Completed);
    }

    [Fact]
    public void MuJoCo_tasks_are_created_and_unknown_tasks_are_named()
    {
        using (var ant = (IDisposable)ContinuousEnvRegistry.Create("ant", 2, new Rng(1)))
        {
            Assert.Equal(8, ((IContinuousVectorEnv)ant).ActionSize);
        }
        var u = Assert.Throws<ArgumentException>(() => ContinuousEnvRegistry.Create("no_such_task", 2, new Rng(1)));
        Assert.Contains("inverted_double_pendulum", u.Message);
        Assert.True(ContinuousEnvRegistry.IsAvailable("POINT_MASS"));
        Assert.Contains("PPO", ExperimentRunner.AgentNames);
        Assert.Contains("MetapPPO", ExperimentRunner.AgentNames);
    }
}
