using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Optimizers;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Ppo;

/// <summary>The PPO training step's structure: rollout, normaliser, minibatches, optimizer steps.</summary>
public class PpoAgentTests
{
    private static readonly PpoConfig Small = new()
    {
        UnrollLength = 5,
        BatchSize = 8,
        NumMinibatches = 3,
        UpdateEpochs = 2,
        RewardScaling = 1,
        PolicyHiddenSizes = [8],
        ValueHiddenSizes = [8],
    };

    /// <summary>Counts environment steps.</summary>
    private sealed class CountingEnv(IContinuousVectorEnv inner) : IContinuousVectorEnv
    {
        public long Steps;
        public string Name => inner.Name;
        public int NumEnvs => inner.NumEnvs;
        public IReadOnlyList<int> ObservationShape => inner.ObservationShape;
        public int ObservationSize => inner.ObservationSize;
        public int ActionSize => inner.ActionSize;
        public int MaxEpisodeSteps => inner.MaxEpisodeSteps;
        public void Reset() => inner.Reset();
        public void Reset(int env) => inner.Reset(env);
        public void Observe(Span<float> destination) => inner.Observe(destination);
        public void SaveState(BinaryWriter writer) => inner.SaveState(writer);
        public void LoadState(BinaryReader reader) => inner.LoadState(reader);

        public void Step(ReadOnlySpan<float> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
        {
            Steps += NumEnvs;
            inner.Step(actions, rewards, terminated, truncated);
        }
    }

    /// <summary>Counts optimizer steps.</summary>
    private sealed class CountingOptimizer(IOptimizer inner) : IOptimizer
    {
        public int Updates;
        public string Name => inner.Name;
        public OptimizerState Init(int paramCount) => inner.Init(paramCount);

        public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
        {
            Updates++;
            inner.Update(grads, state, updates);
        }
    }

    [Fact]
    public void Minibatch_shuffling_covers_every_segment_once_per_epoch()
    {
        var ppo = PpoLearningTests.MakeToyPpo(3, Small, numEnvs: 4);
        var agent = ppo.Agent;
        agent.CollectBatch();
        int s = agent.Batch.Segments;
        Assert.Equal(Small.BatchSize * Small.NumMinibatches, s);
        var seen = new List<int[]>();
        for (int epoch = 0; epoch < 4; epoch++)
        {
            agent.ShuffleSegments();
            var all = Enumerable.Range(0, Small.NumMinibatches).SelectMany(i => agent.Minibatch(i).ToArray()).ToArray();
            Assert.Equal(Enumerable.Range(0, s), all.Order());
            Assert.All(Enumerable.Range(0, Small.NumMinibatches), i => Assert.Equal(Small.BatchSize, agent.Minibatch(i).Length));
            seen.Add(all);
        }
        Assert.True(seen.Distinct(new SeqComparer()).Count() >= 3, "epochs should see different permutations");
    }

    private sealed class SeqComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? x, int[]? y) => x!.SequenceEqual(y!);
        public int GetHashCode(int[] obj) => obj.Aggregate(17, (h, v) => h * 31 + v);
    }

    [Fact]
    public void Training_step_collects_the_configured_batch_and_makes_epochs_times_minibatches_updates()
    {
        var rng = new Rng(1);
        var env = new CountingEnv(new PointMass(4, rng.Split(0)));
        var opt = new CountingOptimizer(Optax.Adam(1e-3));
        var ppo = new Optim4RL.Agents.Ppo(PpoNetworks.For(2, 1, Small), env, opt, Small, rng.Split(1));
        Assert.Equal(6, Small.UnrollsPerStep(4));
        var log = ppo.TrainingStep();
        Assert.Equal(Small.SegmentsPerStep * Small.UnrollLength, env.Steps);
        Assert.Equal(env.Steps, ppo.StepsPerIteration);
        Assert.Equal(env.Steps, log.Step);
        Assert.Equal(Small.UpdateEpochs * Small.NumMinibatches, opt.Updates);
        Assert.Equal(env.Steps, ppo.Agent.Normalizer.Count);
        Assert.True(double.IsFinite(log.Loss));
    }

    [Fact]
    public void Rollout_records_consistent_observations_actions_rewards_and_flags()
    {
        var cfg = Small with { NormalizeObservations = false };
        var rng = new Rng(8);
        var env = new PointMass(4, rng.Split(0), maxEpisodeSteps: 7);
        var nets = PpoNetworks.For(2, 1, cfg);
        var ppo = new Optim4RL.Agents.Ppo(nets, env, Optax.Adam(1e-3), cfg, rng.Split(1));
        ppo.Agent.CollectBatch();
        var b = ppo.Agent.Batch;
        int n = env.NumEnvs, truncations = 0, terminations = 0;
        var logp = PpoTestData.LogProbs(nets, ppo.Theta.Select(v => (double)v).ToArray(), b);
        for (int s = 0; s < b.Segments; s++)
        {
            for (int t = 0; t < b.Unroll; t++)
            {
                int i = s * b.Unroll + t;
                float x = b.Observation(s, t)[0], g = b.Observation(s, t)[1];
                float xNext = (float)(x + 0.1 * Math.Clamp(MathF.Tanh(b.RawActions[i]), -1f, 1f));
                Assert.Equal(1 - Math.Abs(xNext - g), b.Rewards[i], 1e-5);
                Assert.Equal(logp[i], b.LogProbs[i], 1e-3);
                Assert.False(b.Terminations[i] && b.Truncations[i]);
                if (b.Terminations[i]) { terminations++; Assert.True(Math.Abs(xNext) > 1); }
                if (b.Truncations[i]) truncations++;
                if (!b.Terminations[i] && !b.Truncations[i]) Assert.Equal(xNext, b.Observation(s, t + 1)[0], 1e-6);
            }
            // The bootstrap observation of unroll u is the first observation of unroll u + 1.
            if (s + n < b.Segments) Assert.Equal(b.Observation(s, b.Unroll).ToArray(), b.Observation(s + n, 0).ToArray());
        }
        Assert.True(truncations > 0);
    }

    [Fact]
    public void Normaliser_is_updated_once_per_training_step_with_the_batch_it_then_normalises()
    {
        var ppo = PpoLearningTests.MakeToyPpo(5, Small, numEnvs: 4);
        var agent = ppo.Agent;
        agent.CollectBatch();
        var b = agent.Batch;
        Assert.Equal(b.Segments * b.Unroll, agent.Normalizer.Count);
        // After the first update the statistics are the batch's own, so its step observations are standardised.
        for (int k = 0; k < 2; k++)
        {
            var col = Enumerable.Range(0, b.Segments).SelectMany(s => Enumerable.Range(0, b.Unroll).Select(t => (double)b.Observation(s, t)[k])).ToArray();
            double mean = col.Average();
            Assert.Equal(0, mean, 1e-4);
            Assert.Equal(1, Math.Sqrt(col.Select(v => (v - mean) * (v - mean)).Average()), 1e-4);
        }
        ppo.TrainingStep();
        Assert.Equal(2L * b.Segments * b.Unroll, (long)agent.Normalizer.Count);
    }

    [Fact]
    public void Invalid_batch_geometry_is_rejected()
    {
        var bad = Small with { BatchSize = 5, NumMinibatches = 3 }; // 15 segments, not a multiple of 4 envs
        Assert.Throws<ArgumentOutOfRangeException>(() => PpoLearningTests.MakeToyPpo(1, bad, numEnvs: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => PpoLearningTests.MakeToyPpo(1, Small with { LossChunks = 3 }, numEnvs: 4));
    }
}
