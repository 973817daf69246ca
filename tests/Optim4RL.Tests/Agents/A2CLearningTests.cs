using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Agents;

/// <summary>Statistical checks that A2C learns (docs/algorithms.md), kept short enough for the default test run.</summary>
public class A2CLearningTests
{
    private static double FinalCatchReturn(IOptimizer optimizer, ulong seed, long steps)
    {
        var rng = new Rng(seed);
        var env = EnvRegistry.CreateDiscrete("catch", 32, rng.Split(0));
        var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount);
        var agent = new A2C(spec, env, optimizer, new A2CConfig(), rng.Split(1));
        return LearningCurve.FinalReturn(agent.Train(steps));
    }

    [Fact]
    public void Adam_learns_catch_on_every_seed()
    {
        // A uniformly random policy scores about −0.6 on Catch; three seeds of 1.5e5 steps must all beat 0.5.
        var finals = Enumerable.Range(0, 3).Select(s => FinalCatchReturn(Optax.Adam(1e-3), (ulong)s, 150_000)).ToArray();
        Assert.All(finals, f => Assert.True(f > 0.5, $"final returns {string.Join(", ", finals)}"));
    }

    [Fact]
    public void Zero_learning_rate_does_not_learn()
    {
        var final = FinalCatchReturn(Optax.Sgd(0), 0, 40_000);
        Assert.InRange(final, -0.9, -0.2);
    }
}

public class A2CShardTests
{
    [Fact]
    public void Sharded_gradient_is_the_environment_weighted_mean_of_the_shard_gradients()
    {
        var rng = new Rng(8);
        var cfg = new A2CConfig(RolloutSteps: 6);
        IDiscreteVectorEnv Make(int n, ulong s) => EnvRegistry.CreateDiscrete("small_dense_short", n, new Rng(s));
        var spec = NetworkSpec.ForTask("small_dense_short", Make(1, 0).ObservationShape.ToArray(), 9);
        var a2c = new A2C(spec, [Make(3, 1), Make(5, 2)], Optax.Sgd(1.0), cfg, rng);
        var theta0 = (float[])a2c.Theta.Clone();
        a2c.Step();

        // Independently: the same environments, θ and action streams, one A2CLoss per shard.
        int p = spec.Layout.Count;
        var expected = new double[p];
        (int N, ulong Seed)[] shards = [(3, 1), (5, 2)];
        for (int s = 0; s < 2; s++)
        {
            var env = Make(shards[s].N, shards[s].Seed);
            env.Reset();
            var theta = (float[])theta0.Clone();
            var grad = new float[p];
            var loss = new A2CLoss<float>(spec, env, cfg, theta, grad, 0);
            var act = rng.Split(1 + (ulong)s);
            loss.RolloutAndGradient(ref act, null);
            for (int i = 0; i < p; i++) expected[i] += grad[i] * shards[s].N / 8.0;
        }
        for (int i = 0; i < p; i++) Assert.Equal(theta0[i] - expected[i], a2c.Theta[i], 5);
    }

    [Fact]
    public void Sharded_training_gives_the_same_numbers_for_any_thread_count()
    {
        float[] Train(int threads)
        {
            var rng = new Rng(9);
            var shards = A2C.CreateShards("catch", 24, 3, rng.Split(0));
            var spec = NetworkSpec.ForTask("catch", [10, 5], 3);
            var a2c = new A2C(spec, shards, Optax.Adam(1e-3), new A2CConfig(), rng.Split(1)) { MaxDegreeOfParallelism = threads };
            for (int i = 0; i < 5; i++) a2c.Step();
            return a2c.Theta;
        }
        Assert.Equal(Train(1), Train(3));
    }

    [Fact]
    public void Shard_count_depends_on_the_environment_count_only()
    {
        Assert.Equal(1, A2C.DefaultShards(64));
        Assert.Equal(2, A2C.DefaultShards(256));
        Assert.Equal(4, A2C.DefaultShards(512));
        Assert.Equal(4, A2C.DefaultShards(4096));
        Assert.Equal([4, 4, 3], A2C.CreateShards("catch", 11, 3, new Rng(1)).Select(e => e.NumEnvs));
        Assert.Throws<ArgumentException>(() => A2C.CreateShards("catch", 2, 3, new Rng(1)));
    }
}
