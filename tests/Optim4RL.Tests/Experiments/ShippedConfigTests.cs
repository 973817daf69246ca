using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Experiments;

public partial class ShippedConfigTests
{
    // Totals computed by hand from each file (product over keys of the per-key alternative counts).
    public static readonly TheoryData<string, int> Totals = new()
    {
        { "a2c_catch", 2 },          // optimizer 2
        { "a2c_grid", 12 },          // optimizer 2 x learning rate 6
        { "meta_rl_catch", 20 },     // reset_interval 2 x meta kwargs (5 grad_norm + 5 grad_clip)
        { "meta_rlp_catch", 10 },    // meta kwargs 5 + 5
        { "meta_rl_sdl", 40 },       // reset_interval 4 x meta kwargs 10
        { "meta_rlp_sdl", 10 },
        { "meta_rl_bdl", 40 },
        { "meta_rlp_bdl", 10 },
        { "meta_rl_grid", 96 },      // reset_interval 4 x meta lr 6 x grad_clip 2 x max_norm 2
        { "lopt_rl_catch", 20 },     // one param_load_path per meta_rl_catch run
        { "lopt_rlp_catch", 10 },
        { "lopt_rl_sdl", 40 },
        { "lopt_rlp_sdl", 10 },
        { "lopt_rl_bdl", 40 },
        { "lopt_rlp_bdl", 10 },
        { "meta_lin_catch", 20 },    // baselines (LinearOptim, L2LGD2, STAR): same sweeps as meta_rl_*
        { "meta_lin_sdl", 40 },
        { "meta_lin_bdl", 40 },
        { "meta_l2l_catch", 20 },
        { "meta_l2l_sdl", 40 },
        { "meta_l2l_bdl", 40 },
        { "meta_star_catch", 20 },
        { "meta_star_sdl", 40 },
        { "meta_star_bdl", 40 },
        { "lopt_lin_catch", 20 },
        { "lopt_lin_sdl", 40 },
        { "lopt_lin_bdl", 40 },
        { "lopt_l2l_catch", 20 },
        { "lopt_l2l_sdl", 40 },
        { "lopt_l2l_bdl", 40 },
        { "lopt_star_catch", 20 },
        { "lopt_star_sdl", 40 },
        { "lopt_star_bdl", 40 },
        { "meta_es_catch", 2 },      // ES (meta_estimator): truncated and full inner runs
        { "meta_es_sdl", 1 },
        { "meta_es_ant", 1 },
        { "quick_a2c_catch", 2 },
        { "quick_a2c_grid", 2 },
        { "quick_meta_rl_catch", 1 },
        { "quick_meta_rlp_catch", 1 },
        { "quick_meta_rl_sdl", 1 },
        { "quick_meta_rlp_sdl", 1 },
        { "quick_meta_rl_bdl", 1 },
        { "quick_meta_rlp_bdl", 1 },
        { "quick_meta_rl_grid", 1 },
        { "quick_meta_es_catch", 2 },     // ES: truncated and full inner runs
        { "quick_meta_es_sdl", 1 },
        { "quick_meta_es_ant", 1 },
        { "quick_lopt_rl_catch", 1 },
        { "quick_lopt_rlp_catch", 1 },
        { "quick_lopt_rl_sdl", 1 },
        { "quick_lopt_rlp_sdl", 1 },
        { "quick_lopt_rl_bdl", 1 },
        { "quick_lopt_rlp_bdl", 1 },
        { "collect_bdl", 2 },          // optimizer 2 (A2Ccollect; generate_random_seed false as in the reference)
        { "collect_catch", 2 },
        { "collect_sl", 2 },           // SLCollect, optimizer 2
        { "quick_collect_bdl", 2 },
        { "quick_collect_catch", 2 },
        { "ppo_ant", 2 },               // PPO (issue 4): optimizer {RMSProp, Adam}
        { "ppo_humanoid", 2 },
        { "ppo_pendulum", 2 },          // inverted_double_pendulum, the reference's name
        { "ppo_walker2d", 2 },
        { "ppo_inverted_pendulum", 2 }, // ours, Brax-like defaults
        { "ppo_halfcheetah", 2 },
        { "ppo_hopper", 2 },
        { "meta_rl_ant", 50 },          // reset_interval 5 x meta kwargs (5 grad_norm + 5 grad_clip)
        { "meta_rlp_ant", 10 },
        { "meta_rl_humanoid", 50 },
        { "meta_rlp_humanoid", 10 },
        { "lopt_rl_ant", 50 },          // one param_load_path per meta_rl_ant run
        { "lopt_rlp_ant", 10 },
        { "lopt_rl_humanoid", 50 },
        { "lopt_rlp_humanoid", 10 },
        { "lopt_rl_grid_ant", 96 },     // one param_load_path per meta_rl_grid run
        { "lopt_rl_grid_humanoid", 96 },
        { "lopt_rl_grid_pendulum", 96 },
        { "lopt_rl_grid_walker2d", 96 },
        { "quick_ppo_ant", 2 },
        { "quick_ppo_humanoid", 2 },
        { "quick_ppo_pendulum", 2 },
        { "quick_ppo_walker2d", 2 },
        { "quick_ppo_inverted_pendulum", 2 },
        { "quick_ppo_halfcheetah", 2 },
        { "quick_ppo_hopper", 2 },
        { "quick_meta_rl_ant", 1 },
        { "quick_meta_rlp_ant", 1 },
        { "quick_meta_rl_humanoid", 1 },
        { "quick_meta_rlp_humanoid", 1 },
        { "quick_lopt_rl_ant", 1 },
        { "quick_lopt_rlp_ant", 1 },
        { "quick_lopt_rl_humanoid", 1 },
        { "quick_lopt_rlp_humanoid", 1 },
        { "quick_lopt_rl_grid_ant", 1 },
        { "quick_lopt_rl_grid_humanoid", 1 },
        { "quick_lopt_rl_grid_pendulum", 1 },
        { "quick_lopt_rl_grid_walker2d", 1 },
        { "quick_meta_lin_catch", 1 },
        { "quick_meta_lin_sdl", 1 },
        { "quick_meta_lin_bdl", 1 },
        { "quick_meta_l2l_catch", 1 },
        { "quick_meta_l2l_sdl", 1 },
        { "quick_meta_l2l_bdl", 1 },
        { "quick_meta_star_catch", 1 },
        { "quick_meta_star_sdl", 1 },
        { "quick_meta_star_bdl", 1 },
        { "quick_lopt_lin_catch", 1 },
        { "quick_lopt_lin_sdl", 1 },
        { "quick_lopt_lin_bdl", 1 },
        { "quick_lopt_l2l_catch", 1 },
        { "quick_lopt_l2l_sdl", 1 },
        { "quick_lopt_l2l_bdl", 1 },
        { "quick_lopt_star_catch", 1 },
        { "quick_lopt_star_sdl", 1 },
        { "quick_lopt_star_bdl", 1 },
    };

    public static TheoryData<string, int> LoptTotals => Where(name => name.Contains("lopt_", StringComparison.Ordinal));

    public static TheoryData<string> QuickConfigs => new(Totals.Select(row => (string)row[0]).Where(name => name.StartsWith("quick_", StringComparison.Ordinal)));

    private static TheoryData<string, int> Where(Func<string, bool> keep)
    {
        var data = new TheoryData<string, int>();
        foreach (object[] row in Totals)
        {
            if (keep((string)row[0]))
            {
                data.Add((string)row[0], (int)row[1]);
            }
        }

        return data;
    }

    internal static string ConfigsDir()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Optim4RL.slnx")) && Directory.Exists(Path.Combine(dir.FullName, "configs")))
            {
                return Path.Combine(dir.FullName, "configs");
            }
        }

        throw new DirectoryNotFoundException("configs/ not found above " + AppContext.BaseDirectory);
    }

    private static SweepConfig Load(string name) => SweepConfig.Load(Path.Combine(ConfigsDir(), name + ".json"));

    [Theory]
    [MemberData(nameof(Totals))]
    public void Shipped_config_parses_with_its_hand_computed_total(string name, int total)
    {
        SweepConfig sweep = Load(name);
        Assert.Equal(name, sweep.Name);
        Assert.Equal(total, sweep.Total);
        for (int k = 1; k <= total; k++)
        {
            RunConfig run = sweep.ResolveRun(k);
            Assert.NotEmpty(run.GetString("agent.name"));
            // Derived seeds (RunConfig.Seed): seed + (k − 1), or the base seed for every k when generate_random_seed is false.
            ulong seed = (ulong)run.GetLong("seed");
            Assert.Equal(run.GetBool("generate_random_seed") ? seed + (ulong)(k - 1) : seed, run.RunSeed);
            if (run.GetString("agent.name") == "SLCollect")
            {
                Assert.True(run.GetInt("epochs") > 0);
                continue; // the supervised contrast has no environment
            }

            Assert.NotEmpty(run.GetStringList("env.name"));
            Assert.True(run.GetInt("env.num_envs") > 0);
            Assert.True(run.GetLong("env.train_steps") > 0);
            if (run.GetString("agent.name").Contains("A2C", StringComparison.Ordinal)) Assert.Equal(20, run.GetInt("agent.rollout_steps"));
            else Assert.Contains(run.GetInt("agent.rollout_steps"), new[] { 5, 10, 20 });
        }
    }

    [Theory]
    [MemberData(nameof(Totals))]
    public void Every_index_of_a_shipped_config_passes_its_schema(string name, int total)
    {
        SweepConfig sweep = Load(name);
        for (int k = 1; k <= total; k++)
        {
            RunConfig run = sweep.ResolveRun(k);
            var e = Record.Exception(() => ConfigSchema.Validate(run));
            Assert.True(e is null, $"{name} #{k}: {e?.Message}");
        }
    }

    public static TheoryData<string> ExperimentConfigs => new(
        Directory.GetFiles(Path.Combine(Path.GetDirectoryName(ConfigsDir())!, "experiments"), "*.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.GetDirectoryName(ConfigsDir())!, f)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(ExperimentConfigs))]
    public void Every_index_of_an_experiment_script_config_passes_its_schema(string relative)
    {
        SweepConfig sweep = SweepConfig.Load(Path.Combine(Path.GetDirectoryName(ConfigsDir())!, relative));
        for (int k = 1; k <= sweep.Total; k++)
        {
            var e = Record.Exception(() => ConfigSchema.Validate(sweep.ResolveRun(k)));
            Assert.True(e is null, $"{relative} #{k}: {e?.Message}");
        }
    }

    [Fact]
    public void Every_shipped_config_is_listed_with_a_total()
    {
        var listed = Totals.Select(row => (string)row[0]).Order().ToArray();
        var shipped = Directory.GetFiles(ConfigsDir(), "*.json").Select(RunDirectory.ExperimentName).Order().ToArray();
        Assert.Equal(listed, shipped);
    }

    [Fact]
    public void Meta_rl_catch_enumerates_reset_interval_fastest_then_meta_optimizer_kwargs()
    {
        SweepConfig sweep = Load("meta_rl_catch");
        double[] lrs = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2];
        for (int k = 1; k <= 20; k++)
        {
            RunConfig run = sweep.ResolveRun(k);
            int i = k - 1;
            Assert.Equal(i % 2 == 0 ? 32 : 64, run.GetInt("agent.reset_interval"));
            int j = i / 2;
            Assert.Equal(lrs[j % 5], run.GetDouble("meta_optim.kwargs.learning_rate"));
            Assert.Equal(j < 5, run.Has("meta_optim.kwargs.grad_norm"));
            Assert.Equal(j >= 5, run.Has("meta_optim.kwargs.grad_clip"));
        }
    }

    [Fact]
    public void Meta_rl_grid_carries_per_task_settings_of_the_spec()
    {
        RunConfig run = Load("meta_rl_grid").ResolveRun(1);
        string[] envs = run.GetStringList("env.name").ToArray();
        Assert.Equal(["small_dense_long", "small_dense_short", "big_sparse_short", "big_dense_short", "big_sparse_long", "big_dense_long"], envs);
        Assert.Equal([1e3, 1e2, 1e2, 1e1, 1e1, 1.0], run.GetDoublePerTask("env.reward_scaling", 6));
        Assert.Equal([1e-3, 3e-3, 3e-3, 3e-3, 1e-3, 3e-3], run.GetDoublePerTask("agent_optim.kwargs.learning_rate", 6));
        Assert.Equal(1.0, run.GetDouble("agent_optim.kwargs.grad_clip"));
        Assert.Equal(30_000_000, run.GetInt("env.train_steps"));
        Assert.Equal(512, run.GetInt("env.num_envs"));

        // k = 1 + 4*6 = 25: reset back to 72 (first key of 4), lr back to 1e-5, grad_clip -> -1.0.
        RunConfig k25 = Load("meta_rl_grid").ResolveRun(25);
        Assert.Equal(72, k25.GetInt("agent.reset_interval"));
        Assert.Equal(1e-5, k25.GetDouble("meta_optim.kwargs.learning_rate"));
        Assert.Equal(-1.0, k25.GetDouble("meta_optim.kwargs.grad_clip"));
        Assert.Equal(0.5, k25.GetDouble("meta_optim.kwargs.max_norm"));
    }

    [Fact]
    public void No_pipeline_configs_use_MetapA2C_without_resets()
    {
        foreach (string name in new[] { "meta_rlp_catch", "meta_rlp_sdl", "meta_rlp_bdl", "quick_meta_rlp_catch", "quick_meta_rlp_sdl", "quick_meta_rlp_bdl" })
        {
            RunConfig run = Load(name).ResolveRun(1);
            Assert.Equal("MetapA2C", run.GetString("agent.name"));
            Assert.Equal(-1, run.GetInt("agent.reset_interval"));
        }
    }

    // docs/algorithms.md, "PPO" (the reference's per-task table): steps, envs, unroll, batch, minibatches, epochs, γ, reward scale, entropy, lr.
    private static readonly (string File, string Env, double Steps, int Envs, int Unroll, int Batch, int Minibatches, int Epochs, double Gamma, double Scale, double Entropy, double Lr)[] ReferencePpo =
    [
        ("ppo_ant", "ant", 1e8, 4096, 5, 2048, 32, 4, 0.97, 10, 1e-2, 3e-4),
        ("ppo_humanoid", "humanoid", 1e8, 2048, 10, 1024, 32, 8, 0.97, 0.1, 1e-3, 3e-4),
        ("ppo_pendulum", "inverted_double_pendulum", 2e7, 2048, 5, 1024, 32, 4, 0.97, 10, 1e-2, 3e-4),
        ("ppo_walker2d", "walker2d", 5e7, 2048, 20, 512, 32, 8, 0.997, 5, 1e-3, 3e-5),
    ];

    [Fact]
    public void Ppo_configs_carry_the_reference_hyper_parameters()
    {
        foreach (var r in ReferencePpo)
        {
            foreach (string file in new[] { r.File, r.File.Replace("ppo_", "lopt_rl_grid_", StringComparison.Ordinal) })
            {
                RunConfig run = Load(file).ResolveRun(1);
                Assert.Equal(r.Env, run.GetString("env.name"));
                Assert.Equal((long)r.Steps, run.GetLong("env.train_steps"));
                Assert.Equal(r.Envs, run.GetInt("env.num_envs"));
                Assert.Equal(r.Unroll, run.GetInt("agent.rollout_steps"));
                Assert.Equal(r.Batch, run.GetInt("batch_size"));
                Assert.Equal(r.Minibatches, run.GetInt("agent.num_minibatches"));
                Assert.Equal(r.Epochs, run.GetInt("agent.update_epochs"));
                Assert.Equal(r.Gamma, run.GetDouble("discount"));
                Assert.Equal(r.Scale, run.GetDouble("env.reward_scaling"));
                Assert.Equal(r.Entropy, run.GetDouble("agent.entropy_weight"));
                Assert.Equal(r.Lr, run.GetDouble("optim.kwargs.learning_rate"));
                Assert.Equal(0.3, run.GetDouble("agent.clipping_epsilon"));
                Assert.Equal(0.95, run.GetDouble("agent.gae_lambda"));
                Assert.Equal(1.0, run.GetDouble("optim.kwargs.grad_clip"));
                Assert.True(run.GetBool("env.normalize_obs"));
            }
            var names = Enumerable.Range(1, 2).Select(k => Load(r.File).ResolveRun(k).GetString("optim.name")).ToArray();
            Assert.Equal(["RMSProp", "Adam"], names);
        }
    }

    [Fact]
    public void Scaled_down_ppo_experiments_keep_each_tasks_reference_settings()
    {
        // The 2-core transfer experiments shrink only the environment count (and the batch with it) and the steps;
        // every other PPO setting and the α of every optimizer stay the task's own (Humanoid and Walker2d differ from Ant).
        string root = Path.GetDirectoryName(ConfigsDir())!;
        string[] files = Directory.GetFiles(Path.Combine(root, "experiments", "transfer"), "exp4_ppo_*.json")
            .Concat(Directory.GetFiles(Path.Combine(root, "experiments", "paper_scale", "grid6"), "transfer_*.json"))
            .Concat(ReferencePpo.Select(r => Path.Combine(ConfigsDir(), "quick_" + r.File + ".json")))
            .ToArray();
        Assert.True(files.Length >= 10, $"found only {files.Length} scaled-down PPO files");
        foreach (string file in files)
        {
            SweepConfig sweep = SweepConfig.Load(file);
            for (int k = 1; k <= sweep.Total; k++)
            {
                RunConfig run = sweep.ResolveRun(k);
                var r = ReferencePpo.Single(x => x.Env == run.GetString("env.name"));
                string at = $"{Path.GetFileName(file)} #{k}";
                Assert.True(r.Batch * run.GetInt("env.num_envs") == r.Envs * run.GetInt("batch_size"), $"{at}: batch/envs ratio differs from the reference");
                Assert.True(r.Unroll == run.GetInt("agent.rollout_steps"), $"{at}: rollout_steps");
                Assert.True(r.Minibatches == run.GetInt("agent.num_minibatches"), $"{at}: num_minibatches");
                Assert.True(r.Epochs == run.GetInt("agent.update_epochs"), $"{at}: update_epochs");
                Assert.True(r.Gamma == run.GetDouble("discount"), $"{at}: discount");
                Assert.True(r.Scale == run.GetDouble("env.reward_scaling"), $"{at}: reward_scaling");
                Assert.True(r.Entropy == run.GetDouble("agent.entropy_weight"), $"{at}: entropy_weight");
                Assert.True(r.Lr == run.GetDouble("optim.kwargs.learning_rate"), $"{at}: learning_rate");
            }
        }
    }

    [Fact]
    public void No_pipeline_ppo_configs_use_MetapPPO_without_resets()
    {
        foreach (string name in new[] { "meta_rlp_ant", "meta_rlp_humanoid", "quick_meta_rlp_ant", "quick_meta_rlp_humanoid" })
        {
            RunConfig run = Load(name).ResolveRun(1);
            Assert.Equal("MetapPPO", run.GetString("agent.name"));
            Assert.Equal(-1, run.GetInt("agent.reset_interval"));
        }
        Assert.Equal("MetaPPO", Load("meta_rl_ant").ResolveRun(1).GetString("agent.name"));
    }

    [Theory]
    [MemberData(nameof(LearnedOptimizerConfigs))]
    public void Meta_and_lopt_configs_name_a_registered_learned_optimizer(string name)
    {
        RunConfig run = Load(name).ResolveRun(1);
        // PPO files (continuous-control tasks) name the optimizer under `optim`, as Brax-style reference files do.
        bool ppo = Optim4RL.Envs.EnvRegistry.IsContinuous(run.GetStringList("env.name")[0]);
        string opt = run.GetString(run.Has("agent_optim.name") ? "agent_optim.name" : "optim.name");
        Assert.Contains(opt, Optim4RL.Optimizers.Learned.LearnedOptimizers.Names, StringComparer.OrdinalIgnoreCase);
        string expected = name.Contains("_lin_", StringComparison.Ordinal) ? "LinearOptim"
            : name.Contains("_l2l_", StringComparison.Ordinal) ? "L2LGD2"
            : name.Contains("_star_", StringComparison.Ordinal) ? "STAR" : "Optim4RL";
        Assert.Equal(expected, Optim4RL.Optimizers.Learned.LearnedOptimizers.Create(opt).Name);
        string family = ppo ? "PPO" : "A2C";
        Assert.Equal(name.Contains("meta_", StringComparison.Ordinal) ? (name.Contains("rlp_", StringComparison.Ordinal) ? $"Metap{family}" : $"Meta{family}") : family,
            run.GetString("agent.name"));
    }

    public static TheoryData<string> LearnedOptimizerConfigs =>
        new(Totals.Select(row => (string)row[0]).Where(name => name.Contains("meta_", StringComparison.Ordinal) || name.Contains("lopt_", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(LoptTotals))]
    public void Lopt_param_paths_point_to_runs_of_a_shipped_meta_config(string name, int total)
    {
        SweepConfig sweep = Load(name);
        var seen = new HashSet<string>();
        // lopt_rl_grid_<task> transfers φ meta-trained on the gridworlds (meta_rl_grid) to PPO on <task>.
        string expectedMeta = name.Contains("_rl_grid_", StringComparison.Ordinal)
            ? name[..name.IndexOf("lopt_", StringComparison.Ordinal)] + "meta_rl_grid"
            : name.Replace("lopt_", "meta_", StringComparison.Ordinal);
        for (int k = 1; k <= total; k++)
        {
            RunConfig run = sweep.ResolveRun(k);
            string section = run.Has("optim") ? "optim" : "agent_optim"; // the reference's PPO files use "optim"
            string path = run.GetString(section + ".kwargs.param_load_path");
            Match m = ParamPath().Match(path);
            Assert.True(m.Success, $"{name} #{k}: '{path}' is not logs/<meta config>/<k>/param.json");
            string meta = m.Groups[1].Value;
            int metaIdx = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(expectedMeta, meta);
            Assert.InRange(metaIdx, 1, Load(meta).Total);
            Assert.Equal(RunDirectory.For(meta, metaIdx).ParamPath.Replace('\\', '/'), path);
            seen.Add(path);
        }

        Assert.Equal(total, seen.Count);
    }

    [Theory]
    [MemberData(nameof(QuickConfigs))]
    public void Quick_variant_has_the_same_keys_as_its_full_config(string name)
    {
        JsonObject quick = Load(name).Resolve(1);
        SweepConfig full = Load(name["quick_".Length..]);
        List<string> quickKeys = KeyPaths(quick);
        Assert.Contains(
            Enumerable.Range(1, full.Total).Select(k => string.Join(",", KeyPaths(full.Resolve(k)))),
            keys => keys == string.Join(",", quickKeys));

        RunConfig run = new(quick);
        if (run.GetString("agent.name").Contains("PPO", StringComparison.Ordinal))
        {
            // PPO: training steps of batch_size × num_minibatches × rollout_steps env steps (× inner_updates per meta-iteration).
            long perStep = (long)run.GetInt("batch_size") * run.GetInt("agent.num_minibatches") * run.GetInt("agent.rollout_steps") * run.GetInt("agent.inner_updates", 1);
            long steps = run.GetLong("env.train_steps") / perStep;
            Assert.Equal(0, run.GetInt("batch_size") * run.GetInt("agent.num_minibatches") % run.GetInt("env.num_envs"));
            if (run.Has("agent.inner_updates")) Assert.InRange(steps, 10, 100);
            else Assert.InRange(steps, 20, 200);
            return;
        }

        if (run.Has("meta_estimator.name"))
        {
            // ES: (population + 1) runs of inner_steps (0: inner_updates) updates of num_envs × rollout_steps steps per meta-iteration.
            int updates = run.GetInt("meta_estimator.inner_steps", 0) is > 0 and var l ? l : run.GetInt("agent.inner_updates");
            long perEs = (run.GetInt("meta_estimator.population") + 1L) * updates * run.GetInt("env.num_envs") * run.GetInt("agent.rollout_steps");
            Assert.InRange(run.GetLong("env.train_steps") / perEs, 10, 200);
            return;
        }

        int perIteration = run.GetInt("env.num_envs") * run.GetInt("agent.rollout_steps") * (run.GetInt("agent.inner_updates", 0) + 1);
        long iterations = run.GetLong("env.train_steps") / perIteration;
        if (run.Has("agent.inner_updates"))
        {
            Assert.InRange(iterations, 60, 200);
        }
        else
        {
            Assert.InRange(iterations, 200, 1000);
        }
    }

    private static List<string> KeyPaths(JsonObject obj, string prefix = "")
    {
        var paths = new List<string>();
        foreach ((string key, JsonNode? value) in obj)
        {
            paths.Add(prefix + key);
            if (value is JsonObject child)
            {
                paths.AddRange(KeyPaths(child, prefix + key + "."));
            }
        }

        return paths;
    }

    [GeneratedRegex(@"^logs/([a-z0-9_]+)/([0-9]+)/param\.json$")]
    private static partial Regex ParamPath();
}
