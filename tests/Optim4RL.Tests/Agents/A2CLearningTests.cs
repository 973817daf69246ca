using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Agents;

/// <summary>Statistical checks that A2C learns (spec §4.1), kept short enough for the default test run.</summary>
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
