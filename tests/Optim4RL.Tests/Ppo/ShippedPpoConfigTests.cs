using Optim4RL.Experiments;
using Optim4RL.Meta;
using Optim4RL.Tests.Experiments;

namespace Optim4RL.Tests.Ppo;

/// <summary>Every shipped PPO / MetaPPO configuration has a valid batch geometry (Brax's divisibility rules).</summary>
public class ShippedPpoConfigTests
{
    public static TheoryData<string> PpoFiles => new(Directory.GetFiles(ShippedConfigTests.ConfigsDir(), "*.json")
        .Select(RunDirectory.ExperimentName)
        .Where(n => n.Contains("ppo_", StringComparison.Ordinal) || n.EndsWith("_ant", StringComparison.Ordinal) || n.EndsWith("_humanoid", StringComparison.Ordinal)
                    || n.Contains("_grid_", StringComparison.Ordinal))
        .Order());

    [Theory]
    [MemberData(nameof(PpoFiles))]
    public void Shipped_ppo_config_has_a_valid_batch_geometry(string name)
    {
        var sweep = SweepConfig.Load(Path.Combine(ShippedConfigTests.ConfigsDir(), name + ".json"));
        for (int k = 1; k <= Math.Min(sweep.Total, 12); k++)
        {
            RunConfig run = sweep.ResolveRun(k);
            string agent = run.GetString("agent.name");
            Assert.Contains(agent, new[] { "PPO", "MetaPPO", "MetapPPO" });
            var cfg = ExperimentRunner.PpoConfigOf(run);
            int envs = run.GetInt("env.num_envs");
            if (agent == "PPO")
            {
                cfg.Validate(envs);
                Assert.True(run.GetLong("env.train_steps") / (Math.Max(1, run.GetInt("env.num_evals", 1)) * cfg.EnvStepsPerTrainingStep) >= 1);
                continue;
            }
            var meta = new MetaPpoConfig(run.GetString("env.name"), envs, run.GetInt("agent.num_agents"), run.GetLong("env.train_steps"),
                run.GetInt("agent.inner_updates"), agent == "MetaPPO", Math.Max(1, run.GetInt("agent.reset_interval")), 3e-4f, 1, -1, cfg, 1);
            meta.Validate();
            Assert.True(meta.Iterations >= 10);
        }
    }
}
