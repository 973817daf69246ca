using System.Text.Json.Nodes;
using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Supervised;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Analysis;

public sealed class GradientCollectionTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private sealed class Recorder : IUpdateObserver
    {
        public readonly List<(long Update, long Step, float[] G, float[] D)> Calls = [];

        public void OnUpdate(long update, long step, ReadOnlySpan<float> grad, ReadOnlySpan<float> delta) =>
            Calls.Add((update, step, grad.ToArray(), delta.ToArray()));
    }

    private static A2C NewAgent(IOptimizer opt, ulong seed = 7)
    {
        var rng = new Rng(seed);
        var env = EnvRegistry.CreateDiscrete("catch", 4, rng.Split(0));
        var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount);
        return new A2C(spec, env, opt, new A2CConfig(RolloutSteps: 5), rng.Split(1));
    }

    [Fact]
    public void A2C_observer_sees_the_gradient_and_the_update_applied_after_each_step()
    {
        const float lr = 0.01f;
        var agent = NewAgent(Optax.Sgd(lr));
        var rec = new Recorder();
        agent.Observer = rec;
        for (int i = 0; i < 3; i++)
        {
            float[] before = (float[])agent.Theta.Clone();
            agent.Step();
            var (update, step, g, d) = rec.Calls[^1];
            Assert.Equal(i + 1, update);
            Assert.Equal((i + 1) * agent.StepsPerIteration, step);
            Assert.Contains(g, x => x != 0);
            for (int j = 0; j < g.Length; j++)
            {
                Assert.Equal(-lr * g[j], d[j], 1e-7f);
                Assert.Equal(before[j] + d[j], agent.Theta[j]);
            }
        }
    }

    [Fact]
    public void A2C_observer_does_not_change_training()
    {
        var plain = NewAgent(Optax.Adam(1e-3));
        var observed = NewAgent(Optax.Adam(1e-3));
        observed.Observer = new Recorder();
        for (int i = 0; i < 4; i++)
        {
            plain.Step();
            observed.Step();
        }

        Assert.Equal(plain.Theta, observed.Theta);
    }

    private static SweepConfig Sweep(string name, string json) => SweepConfig.Parse(json, name);

    [Fact]
    public void A2Ccollect_run_writes_one_record_per_iteration_with_the_strided_subsample()
    {
        var sweep = Sweep("collect_tiny", """
        {
          "env": [{"name": [["catch"]], "num_envs": [4], "train_steps": [400]}],
          "agent": [{"name": ["A2Ccollect"], "data_reduce": [7], "rollout_steps": [20]}],
          "agent_optim": [{"name": ["RMSProp"], "kwargs": [{"learning_rate": [1e-3], "grad_clip": [1]}]}],
          "discount": [0.995], "seed": [42], "generate_random_seed": [false]
        }
        """);
        var outcome = ExperimentRunner.Run(sweep, 1, new RunOptions(_tmp.Path, Threads: 1));
        Assert.True(outcome.Completed);
        string file = Path.Combine(outcome.Directory, "grads_catch.bin");
        Assert.Equal([file], GradientFile.Find(outcome.Directory));
        var data = GradientFile.Read(file);
        Assert.True(data.Complete);
        Assert.Equal(5, data.Records); // 400 / (4 envs × 20 steps)
        Assert.Equal(GradientFileHeader.KindRl, data.Header.Kind);
        Assert.Equal("RMSProp", data.Header.Optimizer);
        Assert.Equal(7, data.Header.Stride);
        Assert.Equal((data.Header.ParamCount + 6) / 7, data.Header.Coords);
        Assert.Equal([80L, 160, 240, 320, 400], data.Steps);
        Assert.Equal([1L, 2, 3, 4, 5], data.Updates);
        // grad_clip 1 is inside the optimizer: the recorded g is the raw gradient, Δθ follows RMSProp.
        Assert.All(data.Deltas, d => Assert.True(float.IsFinite(d)));
        Assert.True(File.Exists(Path.Combine(outcome.Directory, "result_catch.csv")));
    }

    [Fact]
    public void A2Ccollect_without_data_reduce_names_the_key()
    {
        var sweep = Sweep("collect_bad", """
        {
          "env": [{"name": [["catch"]], "num_envs": [4], "train_steps": [400]}],
          "agent": [{"name": ["A2Ccollect"]}],
          "agent_optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [1e-3]}]}],
          "seed": [1]
        }
        """);
        var e = Assert.Throws<ConfigException>(() => ExperimentRunner.Run(sweep, 1, new RunOptions(_tmp.Path)));
        Assert.Contains("agent.data_reduce", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SLCollect_run_trains_the_classifier_and_writes_the_same_file_format()
    {
        var sweep = Sweep("collect_sl_tiny", """
        {
          "task": [{"name": ["gaussian_mixture"], "num_classes": [4], "input_dim": [8], "components": [2], "separation": [1.0], "train_size": [512], "test_size": [256]}],
          "agent": [{"name": ["SLCollect"], "data_reduce": [3]}],
          "model": [{"name": ["MLP"], "kwargs": [{"hidden_sizes": [[16]]}]}],
          "optimizer": [{"name": ["Adam"], "kwargs": [{"learning_rate": [3e-3]}]}],
          "epochs": [4], "batch_size": [64], "seed": [5]
        }
        """);
        var outcome = ExperimentRunner.Run(sweep, 1, new RunOptions(_tmp.Path));
        Assert.True(outcome.Completed);
        var data = GradientFile.Read(Path.Combine(outcome.Directory, "grads_gaussian_mixture.bin"));
        Assert.Equal(GradientFileHeader.KindSupervised, data.Header.Kind);
        Assert.Equal(8 * 16 + 16 + 16 * 4 + 4, data.Header.ParamCount);
        Assert.Equal(4 * (512 / 64), data.Records);
        Assert.Equal(64L, data.Steps[0]);
        string[] csv = File.ReadAllLines(Path.Combine(outcome.Directory, CollectRunner.SupervisedCsvName));
        Assert.Equal(5, csv.Length);
        double firstLoss = double.Parse(csv[1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
        double lastLoss = double.Parse(csv[4].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(lastLoss < firstLoss, $"loss should fall: {firstLoss} → {lastLoss}");
    }

    [Fact]
    public void Gaussian_mixture_is_determined_by_its_seed_and_learnable()
    {
        var cfg = new GaussianMixtureConfig(NumClasses: 3, InputDim: 4, Components: 2, Separation: 3.0, TrainSize: 600, TestSize: 300);
        var a = new GaussianMixture(cfg, new Rng(1));
        var b = new GaussianMixture(cfg, new Rng(1));
        Assert.Equal(a.TrainX, b.TrainX);
        Assert.Equal(a.TestY, b.TestY);
        Assert.NotEqual(a.TrainX, new GaussianMixture(cfg, new Rng(2)).TrainX);
        Assert.All(a.TrainY, y => Assert.InRange(y, 0, 2));

        var model = new Classifier(a, [32], Optax.Adam(1e-2), 50, new Rng(3));
        double before = model.TestAccuracy();
        for (int e = 0; e < 15; e++) model.TrainEpoch();
        Assert.True(model.TestAccuracy() > Math.Max(0.8, before), $"accuracy {before} → {model.TestAccuracy()}");
    }

    [Fact]
    public void Shipped_collect_configs_resolve_to_the_collect_agents()
    {
        string dir = Experiments.ShippedConfigTests.ConfigsDir();
        foreach (string name in new[] { "collect_bdl", "quick_collect_bdl", "collect_catch", "quick_collect_catch" })
        {
            var sweep = SweepConfig.Load(Path.Combine(dir, name + ".json"));
            Assert.Equal(2, sweep.Total);
            var run = sweep.ResolveRun(1);
            Assert.Equal("A2Ccollect", run.GetString("agent.name"));
            Assert.True(run.GetInt("agent.data_reduce") >= 1);
            Assert.Equal("RMSProp", run.GetString("agent_optim.name"));
            Assert.Equal("Adam", sweep.ResolveRun(2).GetString("agent_optim.name"));
        }

        var sl = SweepConfig.Load(Path.Combine(dir, "collect_sl.json")).ResolveRun(2);
        Assert.Equal("SLCollect", sl.GetString("agent.name"));
        Assert.Equal("Adam", sl.GetString("optimizer.name"));
        Assert.IsType<JsonObject>(sl.ToJsonObject()["task"]);
    }
}
