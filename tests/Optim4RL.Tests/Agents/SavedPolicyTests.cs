using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Tensors;
using Optim4RL.Tests.Analysis;
using Optim4RL.Tests.Cli;
using Optim4RL.Tests.Ppo;

namespace Optim4RL.Tests.Agents;

/// <summary>Saved policies (policy_&lt;task&gt;.bin) and the evaluate verb: exact round trips, damaged files, evaluation of real runs.</summary>
public sealed class SavedPolicyTests : IDisposable
{
    private readonly TempDir _dir = new("o4rl-policy-");

    public SavedPolicyTests() => ContinuousEnvRegistry.Register(PointMass.TaskName, (n, rng) => new PointMass(n, rng));

    public void Dispose() => _dir.Dispose();

    /// <summary>An A2C agent on <paramref name="task"/> after <paramref name="updates"/> Adam updates.</summary>
    private static A2C TrainedA2C(string task, int updates, ConvLayout layout = ConvLayout.Reference)
    {
        var env = EnvRegistry.CreateDiscrete(task, 8, new Rng(3));
        var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount, layout);
        var a2c = new A2C(spec, env, Optax.FromConfig("Adam", 1e-2), new A2CConfig(RolloutSteps: 5), new Rng(4));
        for (int i = 0; i < updates; i++) a2c.Step();
        return a2c;
    }

    /// <summary>Observations of fresh environments after a few random steps, [n, obs].</summary>
    private static float[] Observations(string task, int n)
    {
        var env = EnvRegistry.CreateDiscrete(task, n, new Rng(9));
        var rng = new Rng(10);
        var actions = new int[n];
        for (int t = 0; t < 3; t++)
        {
            for (int i = 0; i < n; i++) actions[i] = rng.NextInt(env.ActionCount);
            env.Step(actions, new float[n], new bool[n], new bool[n]);
        }

        var obs = new float[n * env.ObservationSize];
        env.Observe(obs);
        return obs;
    }

    [Theory]
    [InlineData("catch", ConvLayout.Reference)]
    [InlineData("big_dense_long", ConvLayout.Reference)]
    [InlineData("big_sparse_short", ConvLayout.RowsCols)]
    public void A2C_policy_loaded_from_disk_acts_exactly_as_the_agent_in_memory(string task, ConvLayout layout)
    {
        var a2c = TrainedA2C(task, 3, layout);
        string path = _dir[PolicyFile.FileName(task)];
        PolicyFile.SaveA2C(path, a2c, 1f);
        var loaded = PolicyFile.Load(path);

        Assert.Equal(PolicyKind.A2C, loaded.Kind);
        Assert.Equal(task, loaded.Task);
        Assert.Equal(a2c.Theta, loaded.Theta); // bit for bit
        Assert.Equal(3 * a2c.StepsPerIteration, loaded.TrainedSteps);
        var spec = loaded.Network!;
        Assert.Equal(layout, spec.ConvLayout);
        Assert.Equal(a2c.Spec.Layout.Entries.Select(e => (e.Name, e.Offset, string.Join("x", e.Shape))),
            spec.Layout.Entries.Select(e => (e.Name, e.Offset, string.Join("x", e.Shape))));

        const int n = 16;
        float[] obs = Observations(task, n);
        var inMemory = new DiscreteActor(a2c.Spec, a2c.Theta, n);
        var fromDisk = loaded.CreateDiscreteActor(n);
        foreach (bool deterministic in new[] { false, true })
        {
            var (r1, r2) = (new Rng(77), new Rng(77));
            var (a1, a2) = (new int[n], new int[n]);
            var (l1, l2) = (new double[n], new double[n]);
            inMemory.Act(obs, deterministic, ref r1, a1, l1);
            fromDisk.Act(obs, deterministic, ref r2, a2, l2);
            Assert.Equal(a1, a2);
            Assert.Equal(l1, l2);
            Assert.All(l1, l => Assert.InRange(l, double.NegativeInfinity, 0));
        }
    }

    [Fact]
    public void Discrete_actor_log_probabilities_are_the_log_softmax_of_the_logits()
    {
        var a2c = TrainedA2C("catch", 2);
        const int n = 4;
        float[] obs = Observations("catch", n);
        // Independent forward pass: the network graph itself, then log-softmax by hand.
        var g = new Optim4RL.Autodiff.Graph<float>();
        var input = g.Input([n, .. a2c.Spec.ObservationShape]);
        var (logits, _) = a2c.Spec.Build(g, input, a2c.Theta, new float[a2c.Theta.Length], 0);
        obs.CopyTo(input.Value.Span);
        g.Forward();
        var z = logits.Value.Span.ToArray();
        var actor = new DiscreteActor(a2c.Spec, a2c.Theta, n);
        var rng = new Rng(1);
        var actions = new int[n];
        var logp = new double[n];
        actor.Act(obs, deterministic: true, ref rng, actions, logp);
        for (int i = 0; i < n; i++)
        {
            var row = z.AsSpan(i * 3, 3).ToArray();
            Assert.Equal(Array.IndexOf(row, row.Max()), actions[i]);
            double lse = Math.Log(row.Sum(x => Math.Exp(x)));
            Assert.Equal(row[actions[i]] - lse, logp[i], 1e-6);
        }
    }

    [Fact]
    public void Ppo_policy_loaded_from_disk_acts_exactly_as_the_agent_in_memory()
    {
        var cfg = new PpoConfig { BatchSize = 4, NumMinibatches = 2, UnrollLength = 5, UpdateEpochs = 1, PolicyHiddenSizes = [8, 8], ValueHiddenSizes = [8] };
        var env = new PointMass(8, new Rng(1));
        var nets = PpoNetworks.For(env.ObservationSize, env.ActionSize, cfg);
        var ppo = new Optim4RL.Agents.Ppo(nets, env, Optax.FromConfig("Adam", 1e-3), cfg, new Rng(2));
        for (int i = 0; i < 3; i++) ppo.TrainingStep();
        Assert.True(ppo.Agent.Normalizer.Count > 0); // the normaliser has moved away from the identity
        string path = _dir["policy_point_mass.bin"];
        PolicyFile.SavePpo(path, ppo);
        var loaded = PolicyFile.Load(path);

        Assert.Equal(PolicyKind.Ppo, loaded.Kind);
        Assert.Equal(ppo.Theta, loaded.Theta);
        Assert.Equal(ppo.Agent.Normalizer.Mean.ToArray(), loaded.Normalizer!.Mean.ToArray());
        Assert.Equal(ppo.Agent.Normalizer.Std.ToArray(), loaded.Normalizer.Std.ToArray());
        Assert.Equal(nets.ParamCount, loaded.PpoNetworks!.ParamCount);

        const int n = 8;
        var obs = new float[n * 2];
        var fresh = new PointMass(n, new Rng(5));
        fresh.Observe(obs);
        var inMemory = new PpoActor<float>(nets, n, ppo.Theta, new float[ppo.Theta.Length], 0);
        var fromDisk = loaded.CreatePpoActor(n);
        foreach (bool deterministic in new[] { false, true })
        {
            var (r1, r2) = (new Rng(8), new Rng(8));
            var (act1, act2, raw1, raw2) = (new float[n], new float[n], new float[n], new float[n]);
            var (lp1, lp2) = (new float[n], new float[n]);
            inMemory.Act(obs, ppo.Agent.Normalizer, deterministic, ref r1, act1, raw1, lp1);
            fromDisk.Act(obs, loaded.Normalizer, deterministic, ref r2, act2, raw2, lp2);
            Assert.Equal(act1, act2);
            Assert.Equal(raw1, raw2);
            Assert.Equal(lp1, lp2);
        }
    }

    [Fact]
    public void Damaged_or_foreign_files_are_refused_with_the_file_named()
    {
        var a2c = TrainedA2C("catch", 1);
        string path = _dir["policy_catch.bin"];
        PolicyFile.SaveA2C(path, a2c, 1f);
        byte[] bytes = File.ReadAllBytes(path);

        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => PolicyFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("checksum", e.Message);

        File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => PolicyFile.Load(path)).Message);

        // A verified container of another kind (a checkpoint) is not taken for a policy.
        Optim4RL.Io.CheckpointFile.Write(path, new System.Text.Json.Nodes.JsonObject { ["content"] = "meta_state" }, w => w.Write(1));
        Assert.Contains("not a saved policy", Assert.Throws<InvalidDataException>(() => PolicyFile.Load(path)).Message);
    }

    private const string CatchJson = """
        {
          "env": [{"name": ["catch"], "num_envs": [64], "train_steps": [100000]}],
          "agent": [{"name": ["A2C"], "rollout_steps": [20], "gae_lambda": [0.95], "critic_loss_weight": [0.5], "entropy_weight": [0.01]}],
          "agent_optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [1e-2], "grad_clip": [-1]}]}],
          "discount": [0.995], "seed": [1], "generate_random_seed": [true]
        }
        """;

    [Fact]
    public void Evaluating_a_catch_run_reproduces_the_return_it_logged_at_the_end()
    {
        var outcome = ExperimentRunner.Run(SweepConfig.Parse(CatchJson, "catch_policy"), 1, new RunOptions(_dir["logs"], Threads: 2));
        var rows = ResultCsv.Read(Path.Combine(outcome.Directory, "result_catch.csv"));
        var last = rows.TakeLast(20).Select(r => r.Return).ToList();
        double logged = last.Average();
        double loggedSe = Math.Sqrt(last.Sum(x => (x - logged) * (x - logged)) / (last.Count - 1) / last.Count);

        var report = Assert.Single(RunPolicies.Evaluate(outcome.Directory, 2000, deterministic: false, seed: 5));
        var e = report.Evaluation;
        Assert.Equal(2000, e.Returns.Count);
        Assert.Equal(2000, e.Finished); // a Catch episode lasts 9 steps
        Assert.All(e.Returns, r => Assert.True(r is 1 or -1));
        Assert.Equal(logged, report.LoggedFinal, 12);
        // The saved θ is the one after the last logged update: within sampling noise of the last logged returns.
        Assert.True(Math.Abs(e.Mean - logged) <= 4 * Math.Sqrt(e.StdErr * e.StdErr + loggedSe * loggedSe) + 0.01,
            $"evaluation {e.Mean:F4} ± {e.StdErr:F4} vs logged {logged:F4} ± {loggedSe:F4}");
        Assert.True(e.Mean > 0.8, $"the trained policy should catch most balls: {e.Mean}");

        // The same seed gives the same numbers; the untrained network (same seed) does far worse, so θ was really loaded.
        Assert.Equal(e.Returns, RunPolicies.Evaluate(outcome.Directory, 2000, false, 5)[0].Evaluation.Returns);
        var untrained = TrainedA2C("catch", 0);
        string fresh = _dir["policy_untrained.bin"];
        PolicyFile.SaveA2C(fresh, untrained, 1f);
        Assert.True(PolicyFile.Load(fresh).Evaluate(2000, false, 5).Mean < e.Mean - 0.5);

        // The CLI prints it on one line, with the episode count and the logged value.
        var (code, stdout, stderr) = CliHarness.Run("evaluate", "--run", outcome.Directory, "--episodes", "300", "--deterministic");
        Assert.True(code == 0, stderr);
        string line = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("catch: return ", line);
        Assert.Contains("over 300 episodes", line);
        Assert.Contains("deterministic policy", line);
        Assert.Contains("the run logged", line);
    }

    [Fact]
    public void Evaluate_explains_what_is_wrong_in_one_line()
    {
        string Err(params string[] args)
        {
            var (code, _, err) = CliHarness.Run(["evaluate", .. args]);
            Assert.Equal(1, code);
            Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.DoesNotContain("   at ", err);
            return err;
        }

        Assert.Contains("does not exist", Err("--run", _dir["nowhere"]));
        File.WriteAllText(_dir["file.txt"], "x");
        Assert.Contains("is a file", Err("--run", _dir["file.txt"]));
        Directory.CreateDirectory(_dir["empty"]);
        Assert.Contains("not a run directory", Err("--run", _dir["empty"]));

        // A meta-training run: how to evaluate φ instead.
        string meta = _dir["meta"];
        Directory.CreateDirectory(meta);
        File.WriteAllText(Path.Combine(meta, "config.json"), """{"agent": {"name": "MetaA2C"}}""");
        File.WriteAllText(Path.Combine(meta, "param.json"), "{}");
        string m = Err("--run", meta);
        Assert.Contains("meta-training run", m);
        Assert.Contains("param_load_path", m);

        // A damaged policy file.
        string run = _dir["run"];
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "config.json"), """{"agent": {"name": "A2C"}}""");
        File.WriteAllBytes(Path.Combine(run, "policy_catch.bin"), new byte[100]);
        Assert.Contains("policy_catch.bin", Err("--run", run));
        Assert.Contains("no policy for task 'ant'", Err("--run", run, "--task", "ant"));
        Assert.Contains("--episodes must be", Err("--run", run, "--episodes", "0"));
    }

    [Fact]
    public void A_quick_ppo_run_on_a_mujoco_task_saves_a_policy_that_evaluate_reloads()
    {
        // configs/quick_ppo_inverted_pendulum.json (quick_ppo_ant.json on a task whose untrained episodes are short) cut down to four training steps.
        string config = _dir["quick_ppo_inverted_pendulum.json"];
        File.WriteAllText(config, File.ReadAllText(Path.Combine(Optim4RL.Tests.Docs.ExternalProcess.RepoRoot(), "configs", "quick_ppo_inverted_pendulum.json"))
            .Replace("\"train_steps\": [5e5]", "\"train_steps\": [320]").Replace("\"num_envs\": [64]", "\"num_envs\": [8]")
            .Replace("\"num_evals\": [5]", "\"num_evals\": [1]").Replace("\"num_eval_envs\": [8]", "\"num_eval_envs\": [2]")
            .Replace("\"num_minibatches\": [32]", "\"num_minibatches\": [2]").Replace("\"batch_size\": [32]", "\"batch_size\": [8]"));
        var (code, _, err) = CliHarness.Run("run", "--config", config, "--config-idx", "2", "--logs", _dir["logs"], "--threads", "2");
        Assert.True(code == 0, err);
        string dir = Path.Combine(_dir["logs"], "quick_ppo_inverted_pendulum", "2");
        Assert.True(File.Exists(Path.Combine(dir, "metrics.csv")));
        Assert.Single(Directory.GetFiles(dir, "events.out.tfevents.*"));
        var policy = PolicyFile.Load(Path.Combine(dir, "policy_inverted_pendulum.bin"));
        Assert.Equal(PolicyKind.Ppo, policy.Kind);
        Assert.Equal(4, policy.PpoNetworks!.ObservationSize);
        Assert.Equal(1, policy.PpoNetworks.ActionSize);
        Assert.True(policy.Normalizer!.Enabled && policy.Normalizer.Count > 0);

        var (code2, stdout, err2) = CliHarness.Run("evaluate", "--run", dir, "--episodes", "8", "--deterministic");
        Assert.True(code2 == 0, err2);
        Assert.StartsWith("inverted_pendulum: return ", stdout);
        Assert.Contains("over 8 episodes", stdout);
        Assert.Contains("PPO after 320 environment steps", stdout);
        // The CLI printed what the library computes for the same policy, seed and episodes.
        var direct = policy.Evaluate(8, deterministic: true, seed: 0);
        Assert.Equal(8, direct.Finished); // the untrained pendulum falls long before 1000 steps
        string printed = stdout["inverted_pendulum: return ".Length..stdout.IndexOf(" ±", StringComparison.Ordinal)];
        Assert.Equal(direct.Mean, double.Parse(printed, System.Globalization.CultureInfo.InvariantCulture), 0.051);
    }
}
