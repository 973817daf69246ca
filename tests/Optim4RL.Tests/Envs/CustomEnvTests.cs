using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Meta;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Envs;

/// <summary>A user's own discrete environment: A2C trains on it directly, and once registered MetaA2C meta-trains on it by name.</summary>
public class CustomEnvTests
{
    /// <summary>
    /// A line of 5 cells; the agent starts in a random cell (its own stream) and is rewarded +1 for reaching
    /// the right end, −0.1 for the left end; both end the episode; 12 steps at most.
    /// </summary>
    private sealed class Line : IDiscreteVectorEnv
    {
        private const int Cells = 5, MaxSteps = 12;
        private readonly Rng[] _rngs;
        private readonly int[] _cell, _steps;
        private readonly float _scale;

        public Line(string name, int numEnvs, Rng rng, float rewardScaling)
        {
            Name = name;
            NumEnvs = numEnvs;
            _scale = rewardScaling;
            _rngs = Enumerable.Range(0, numEnvs).Select(i => rng.Split((ulong)i)).ToArray();
            _cell = new int[numEnvs];
            _steps = new int[numEnvs];
            Reset();
        }

        public string Name { get; }
        public int NumEnvs { get; }
        public IReadOnlyList<int> ObservationShape { get; } = [Cells];
        public int ObservationSize => Cells;
        public int ActionCount => 2;

        public void Reset()
        {
            for (int i = 0; i < NumEnvs; i++) Reset(i);
        }

        public void Reset(int env)
        {
            _cell[env] = 1 + _rngs[env].NextInt(Cells - 2);
            _steps[env] = 0;
        }

        public void Observe(Span<float> destination)
        {
            destination[..(NumEnvs * Cells)].Clear();
            for (int i = 0; i < NumEnvs; i++) destination[i * Cells + _cell[i]] = 1f;
        }

        public void Step(ReadOnlySpan<int> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
        {
            for (int i = 0; i < NumEnvs; i++)
            {
                _cell[i] += actions[i] == 1 ? 1 : -1;
                _steps[i]++;
                terminated[i] = _cell[i] is 0 or Cells - 1;
                truncated[i] = !terminated[i] && _steps[i] == MaxSteps;
                rewards[i] = _cell[i] == Cells - 1 ? _scale : _cell[i] == 0 ? -0.1f * _scale : 0f;
                if (terminated[i] || truncated[i]) Reset(i);
            }
        }

        public void SaveState(BinaryWriter writer)
        {
            for (int i = 0; i < NumEnvs; i++)
            {
                writer.Write(_rngs[i].Key);
                writer.Write(_rngs[i].Counter);
                writer.Write(_cell[i]);
                writer.Write(_steps[i]);
            }
        }

        public void LoadState(BinaryReader reader)
        {
            for (int i = 0; i < NumEnvs; i++)
            {
                _rngs[i] = new Rng(reader.ReadUInt64(), reader.ReadUInt64());
                _cell[i] = reader.ReadInt32();
                _steps[i] = reader.ReadInt32();
            }
        }
    }

    [Fact]
    public void A_registered_task_is_created_by_name_with_its_own_network()
    {
        EnvRegistry.RegisterDiscrete("Custom_Test_Line", (n, rng, scale) => new Line("custom_test_line", n, rng, scale), hiddenSize: 12);
        Assert.True(EnvRegistry.IsDiscrete("custom_test_line"));
        Assert.Equal("custom_test_line", EnvRegistry.Resolve(" CUSTOM_TEST_LINE "));
        var env = EnvRegistry.CreateDiscrete("custom_test_line", 3, new Rng(1), rewardScaling: 2f);
        Assert.IsType<Line>(env);
        Assert.Equal(3, env.NumEnvs);
        var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape, env.ActionCount);
        Assert.Equal(12, spec.HiddenSize);
        Assert.Equal(5 * 12 + 12 + 12 * 2 + 2 + 12 + 1, spec.Layout.Count);
        Assert.Equal(2, A2C.CreateShards("custom_test_line", 5, 2, new Rng(1)).Length);

        // Unknown names still list the built-in tasks first, then the registered ones.
        var e = Assert.Throws<ArgumentException>(() => EnvRegistry.CreateDiscrete("custom_test_nothing", 1, new Rng(1)));
        Assert.StartsWith("Unknown task 'custom_test_nothing'. Valid tasks: catch,", e.Message, StringComparison.Ordinal);
        Assert.Contains("custom_test_line", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Built_in_names_cannot_be_taken_and_a_factory_must_make_what_was_asked()
    {
        foreach (string name in new[] { "catch", "SDL", "small_dense_long", "ant", "Hopper-v4" })
            Assert.Throws<ArgumentException>(() => EnvRegistry.RegisterDiscrete(name, (n, rng, s) => new Line(name, n, rng, s)));
        Assert.Throws<ArgumentException>(() => EnvRegistry.RegisterDiscrete(" ", (n, rng, s) => new Line("x", n, rng, s)));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnvRegistry.RegisterDiscrete("custom_test_zero", (n, rng, s) => new Line("custom_test_zero", n, rng, s), hiddenSize: 0));

        EnvRegistry.RegisterDiscrete("custom_test_misnamed", (n, rng, s) => new Line("something_else", n, rng, s));
        var e = Assert.Throws<InvalidOperationException>(() => EnvRegistry.CreateDiscrete("custom_test_misnamed", 2, new Rng(1)));
        Assert.Contains("named 'custom_test_misnamed'", e.Message, StringComparison.Ordinal);
        EnvRegistry.RegisterDiscrete("custom_test_miscounted", (n, rng, s) => new Line("custom_test_miscounted", n + 1, rng, s));
        Assert.Throws<InvalidOperationException>(() => EnvRegistry.CreateDiscrete("custom_test_miscounted", 2, new Rng(1)));
    }

    [Fact]
    public void A2C_learns_on_a_users_environment_without_registration()
    {
        var env = new Line("my_line", 16, new Rng(3), 1f);
        var agent = new A2C(new NetworkSpec(env.ObservationShape, env.ActionCount, hiddenSize: 16), env, Optax.Adam(1e-2), new A2CConfig(), new Rng(4));
        var logs = agent.Train(16 * 20 * 150);
        double Mean(IEnumerable<IterationLog> l) => l.Sum(x => x.ReturnSum) / Math.Max(1, l.Sum(x => x.Episodes));
        double early = Mean(logs.Take(10)), late = Mean(logs.TakeLast(20));
        Assert.True(late > 0.9 && late > early + 0.2, $"mean return {early:F2} at first, {late:F2} at the end");
    }

    [Fact]
    public void MetaA2C_meta_trains_on_a_registered_task_and_its_phi_trains_an_agent()
    {
        EnvRegistry.RegisterDiscrete("custom_test_meta_line", (n, rng, s) => new Line("custom_test_meta_line", n, rng, s), hiddenSize: 8);
        var cfg = new MetaA2CConfig([new MetaTaskConfig("custom_test_meta_line", NumAgents: 4, LearningRate: 1e-2f, ResetInterval: 4)],
            TrainSteps: 4 * 20 * 3 * 6, InnerUpdates: 2, Pipeline: true, GradClip: -1, MaxNorm: 1, Agent: new A2CConfig(), Seed: 9);
        var meta = new MetaA2C(cfg, LearnedOptimizers.Create("Optim4RL"), Optax.Adam(3e-3));
        float[] phi0 = (float[])meta.Phi.Clone();
        Assert.Equal(6, meta.Iterations);
        for (int i = 0; i < meta.Iterations; i++)
        {
            var log = meta.Step();
            Assert.True(double.IsFinite(log.MetaLoss) && double.IsFinite(log.MetaGradNorm));
        }

        Assert.NotEqual(phi0, meta.Phi);
        Assert.All(meta.Phi, x => Assert.True(float.IsFinite(x)));

        // Checkpoints of a registered task round-trip like those of a built-in one.
        using var ms = new MemoryStream();
        meta.SaveCheckpoint(ms);
        ms.Position = 0;
        var resumed = new MetaA2C(cfg, LearnedOptimizers.Create("Optim4RL"), Optax.Adam(3e-3));
        resumed.LoadCheckpoint(ms);
        Assert.Equal(meta.Phi, resumed.Phi);

        var env = EnvRegistry.CreateDiscrete("custom_test_meta_line", 8, new Rng(1));
        var agent = new A2C(NetworkSpec.ForTask(env.Name, env.ObservationShape, env.ActionCount), env,
            new LearnedOptimizer(meta.LearnedOptimizer, meta.Phi, 1e-2f), new A2CConfig(), new Rng(2));
        Assert.All(agent.Train(8 * 20 * 10), l => Assert.True(double.IsFinite(l.Loss)));
    }
}
