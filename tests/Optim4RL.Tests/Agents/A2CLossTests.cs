using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Nn;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Agents;

public class A2CLossTests
{
    private static (A2CLoss<double> Loss, double[] Theta, double[] Grad, NetworkSpec Spec) Make(string task, int envs, int steps, ulong seed = 1)
    {
        var rng = new Rng(seed);
        var env = EnvRegistry.CreateDiscrete(task, envs, rng.Split(0));
        env.Reset();
        var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount);
        var theta = new double[spec.Layout.Count];
        var grad = new double[theta.Length];
        var init = rng.Split(1);
        spec.InitParams<double>(theta, ref init);
        // Larger weights than LeCun init make the policy far from uniform, so every loss term matters.
        for (int i = 0; i < theta.Length; i++) theta[i] *= 3;
        var cfg = new A2CConfig(RolloutSteps: steps);
        return (new A2CLoss<double>(spec, env, cfg, theta, grad, 0), theta, grad, spec);
    }

    [Theory]
    [InlineData("small_sparse_short")]
    [InlineData("big_dense_short")]
    [InlineData("catch")]
    public void Semi_gradient_matches_finite_differences_of_the_loss_with_fixed_targets(string task)
    {
        var (loss, theta, grad, _) = Make(task, envs: 3, steps: 6);
        var rng = new Rng(9);
        loss.Rollout(ref rng, null);
        loss.LossAndGradient(recomputeTargets: true);
        var analytic = (double[])grad.Clone();

        var pick = new Rng(5);
        const double h = 1e-6;
        double worst = 0;
        for (int c = 0; c < 120; c++)
        {
            int i = pick.NextInt(theta.Length);
            double x = theta[i];
            theta[i] = x + h;
            double up = loss.LossAndGradient(recomputeTargets: false);
            theta[i] = x - h;
            double down = loss.LossAndGradient(recomputeTargets: false);
            theta[i] = x;
            double fd = (up - down) / (2 * h);
            double err = Math.Abs(fd - analytic[i]) / Math.Max(1e-6, Math.Abs(fd) + Math.Abs(analytic[i]));
            worst = Math.Max(worst, err);
        }
        Assert.True(worst < 1e-4, $"worst relative error {worst}");
    }

    [Fact]
    public void Lambda_returns_equal_the_weighted_sum_of_n_step_returns()
    {
        // Independent formula: G^λ_t = (1−λ) Σ_{n=1}^{T−t−1} λ^{n−1} G^(n)_t + λ^{T−t−1} G^(T−t)_t,
        // G^(n)_t = Σ_{i<n} (Π_{j<i} γ_{t+j}) r_{t+i} + (Π_{j<n} γ_{t+j}) v_{t+n}, γ_t = γ(1 − done_t).
        var (loss, _, _, _) = Make("catch", envs: 4, steps: 20, seed: 3);
        var rng = new Rng(11);
        loss.Rollout(ref rng, null);
        loss.LossAndGradient();
        int n = 4, T = 20;
        double gamma = 0.995, lambda = 0.95;
        var v = loss.ValueBuffer.ToArray();
        var targets = loss.TargetBuffer.ToArray();
        var adv = loss.AdvantageBuffer.ToArray();
        bool anyDone = false;
        for (int e = 0; e < n; e++)
        {
            for (int t = 0; t < T; t++)
            {
                double Gn(int steps)
                {
                    double g = 0, disc = 1;
                    for (int i = 0; i < steps; i++)
                    {
                        int r = (t + i) * n + e;
                        g += disc * loss.RewardBuffer[r];
                        disc *= loss.DoneBuffer[r] ? 0 : gamma;
                    }
                    return g + disc * v[(t + steps) * n + e];
                }
                double expected = 0;
                for (int k = 1; k <= T - t - 1; k++) expected += (1 - lambda) * Math.Pow(lambda, k - 1) * Gn(k);
                expected += Math.Pow(lambda, T - t - 1) * Gn(T - t);
                int row = t * n + e;
                anyDone |= loss.DoneBuffer[row];
                Assert.Equal(expected, targets[row], 9);
                Assert.Equal(expected - v[row], adv[row], 9);
            }
        }
        Assert.True(anyDone, "the rollout should contain an episode end to exercise the done cut");
    }

    [Fact]
    public void Loss_terms_match_a_direct_computation()
    {
        var (loss, theta, _, spec) = Make("small_sparse_short", envs: 2, steps: 4, seed: 4);
        var rng = new Rng(2);
        loss.Rollout(ref rng, null);
        double total = loss.LossAndGradient();

        // Recompute logits and values with an independent dense forward pass.
        int used = 8, rows = 10, actions = 9, obs = loss.Env.ObservationSize;
        var x = loss.ObservationBuffer.ToArray();
        var l = spec.Layout;
        double[] Dense(double[] input, int rowsIn, int inDim, int outDim, int wOff, int bOff, bool relu)
        {
            var y = new double[rowsIn * outDim];
            for (int r = 0; r < rowsIn; r++)
                for (int o = 0; o < outDim; o++)
                {
                    double s = theta[bOff + o];
                    for (int i = 0; i < inDim; i++) s += input[r * inDim + i] * theta[wOff + i * outDim + o];
                    y[r * outDim + o] = relu ? Math.Max(0, s) : s;
                }
            return y;
        }
        var e = l.Entries;
        var h = Dense(x, rows, obs, 32, e[0].Offset, e[1].Offset, true);
        var logits = Dense(h, rows, 32, actions, e[2].Offset, e[3].Offset, false);
        var values = Dense(h, rows, 32, 1, e[4].Offset, e[5].Offset, false);
        double actor = 0, critic = 0, ent = 0;
        var targets = loss.TargetBuffer.ToArray();
        for (int r = 0; r < used; r++)
        {
            double max = double.NegativeInfinity;
            for (int a = 0; a < actions; a++) max = Math.Max(max, logits[r * actions + a]);
            double z = 0;
            for (int a = 0; a < actions; a++) z += Math.Exp(logits[r * actions + a] - max);
            double logZ = max + Math.Log(z);
            double delta = targets[r] - values[r];
            actor += -(logits[r * actions + loss.ActionBuffer[r]] - logZ) * delta;
            critic += delta * delta;
            for (int a = 0; a < actions; a++)
            {
                double lp = logits[r * actions + a] - logZ;
                ent += -Math.Exp(lp) * lp;
            }
        }
        double expected = actor / used + 0.5 * critic / used - 0.01 * ent / used;
        Assert.Equal(expected, total, 9);
    }
}

public class A2CLossRowReuseTests
{
    [Theory]
    [InlineData("catch")]
    [InlineData("big_dense_short")]
    public void Gradient_from_the_rollout_activations_equals_a_full_forward_pass(string task)
    {
        var rng = new Rng(3);
        var env = EnvRegistry.CreateDiscrete(task, 5, rng.Split(0));
        env.Reset();
        var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount);
        var theta = new double[spec.Layout.Count];
        var grad = new double[theta.Length];
        var init = rng.Split(1);
        spec.InitParams<double>(theta, ref init);
        var loss = new A2CLoss<double>(spec, env, new A2CConfig(RolloutSteps: 7), theta, grad, 0);
        var act = rng.Split(2);
        double fromRollout = loss.RolloutAndGradient(ref act, null);
        var g1 = (double[])grad.Clone();
        double full = loss.LossAndGradient(); // recomputes every activation with one full forward
        Assert.Equal(full, fromRollout, 12);
        for (int i = 0; i < g1.Length; i++) Assert.Equal(grad[i], g1[i], 12);
    }
}

/// <summary>One A2C loss pointed at several agents in turn (how MetaA2C pools one graph per worker thread).</summary>
public class A2CLossRetargetTests
{
    private const int Agents = 3, Envs = 2;

    private static IDiscreteVectorEnv Env(string task, int agent, int envs = Envs)
    {
        var env = EnvRegistry.CreateDiscrete(task, envs, new Rng(40 + (ulong)agent));
        env.Reset();
        return env;
    }

    private static (NetworkSpec Spec, float[] Theta) Population(string task)
    {
        var probe = Env(task, 0);
        var spec = NetworkSpec.ForTask(probe.Name, probe.ObservationShape.ToArray(), probe.ActionCount, ConvLayout.Reference);
        int p = spec.Layout.Count;
        var theta = new float[Agents * p];
        var rng = new Rng(5);
        for (int a = 0; a < Agents; a++) spec.InitParams(theta.AsSpan(a * p, p), ref rng); // every agent its own θ
        return (spec, theta);
    }

    [Theory]
    [InlineData("catch")]
    [InlineData("big_dense_long")]
    public void A_retargeted_loss_gives_the_loss_terms_and_gradient_of_one_built_for_that_agent(string task)
    {
        var (spec, theta) = Population(task);
        int p = spec.Layout.Count;
        var cfg = new A2CConfig(RolloutSteps: 6);
        var grad = new float[theta.Length];
        var pooled = new A2CLoss<float>(spec, Env(task, 0), cfg, theta, grad, 0);
        // Forward, backward, then back to the middle: each call leaves the previous agent's activations behind.
        foreach (int agent in new[] { 0, 2, 1 })
        {
            Array.Clear(grad);
            var fresh = new A2CLoss<float>(spec, Env(task, agent), cfg, theta, grad, agent * p);
            var rng = new Rng(100 + (ulong)agent);
            double want = fresh.RolloutAndGradient(ref rng, null);
            var wantGrad = grad.AsSpan(agent * p, p).ToArray();
            var wantTerms = fresh.LastTerms;

            Array.Fill(grad, 7f); // ∇θ must be overwritten in the agent's slice and left alone elsewhere
            pooled.Retarget(Env(task, agent), agent * p);
            Assert.Equal(agent * p, pooled.Offset);
            rng = new Rng(100 + (ulong)agent);
            Assert.Equal(want, pooled.RolloutAndGradient(ref rng, null));
            Assert.Equal(wantTerms, pooled.LastTerms);
            Assert.Equal(wantGrad, grad.AsSpan(agent * p, p).ToArray());
            Assert.True(grad.AsSpan(0, agent * p).IndexOfAnyExcept(7f) < 0, "a slice before the agent's was written");
            Assert.True(grad.AsSpan((agent + 1) * p).IndexOfAnyExcept(7f) < 0, "a slice after the agent's was written");
        }
    }

    [Fact]
    public void Retargeting_to_environments_of_another_shape_or_outside_theta_throws_and_changes_nothing()
    {
        var (spec, theta) = Population("small_sparse_short");
        int p = spec.Layout.Count;
        var env = Env("small_sparse_short", 0);
        var loss = new A2CLoss<float>(spec, env, new A2CConfig(RolloutSteps: 3), theta, new float[theta.Length], p);

        var more = Assert.Throws<ArgumentException>(() => loss.Retarget(Env("small_sparse_short", 1, envs: 3), 0));
        Assert.Contains("2 environments", more.Message);
        Assert.Contains("3 environments", more.Message);
        var shape = Assert.Throws<ArgumentException>(() => loss.Retarget(Env("big_sparse_short", 1), 0)); // another grid size
        Assert.Contains("observations", shape.Message);
        var actions = Assert.Throws<ArgumentException>(() => loss.Retarget(Env("catch", 1), 0));
        Assert.Contains("9 actions", actions.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => loss.Retarget(Env("small_sparse_short", 1), 2 * p + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => loss.Retarget(Env("small_sparse_short", 1), -1));
        Assert.Same(env, loss.Env);
        Assert.Equal(p, loss.Offset);
    }
}
