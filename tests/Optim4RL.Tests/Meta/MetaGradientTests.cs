using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Nn;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Meta;

/// <summary>
/// The meta-gradient of docs/algorithms.md (g constant, BPTT through K learned-optimizer steps) against
/// finite differences of the meta-loss on a tiny agent with fixed rollouts: the K inner
/// gradients, the meta rollout and its λ-return targets are held fixed while φ moves.
/// </summary>
public class MetaGradientTests
{
    [Fact]
    public void Meta_gradient_matches_finite_differences_of_the_meta_loss()
    {
        const int K = 4;
        const float alpha = 0.05f;
        var rng = new Rng(21);
        var env = EnvRegistry.CreateDiscrete("small_sparse_short", 1, rng.Split(0));
        env.Reset();
        var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount);
        int p = spec.Layout.Count;
        var theta = new double[p];
        var grad = new double[p];
        var init = rng.Split(1);
        spec.InitParams<double>(theta, ref init);
        var theta0 = (double[])theta.Clone();
        var loss = new A2CLoss<double>(spec, env, new A2CConfig(), theta, grad, 0);

        var lopt = LearnedOptimizers.Create("Optim4RL");
        var phi = new float[lopt.Layout.Count];
        var prng = rng.Split(2);
        lopt.InitMetaParams(ref prng, phi);
        // Move the heads away from their near-zero init so every path carries signal.
        for (int i = 0; i < phi.Length; i++) phi[i] += (float)(0.2 * prng.NextNormal());

        var state0 = new float[lopt.StateSize * p];
        var state = new float[state0.Length];
        var gs = new float[K * p];
        var upd = new float[p];
        var act = rng.Split(3);

        // Forward: K inner updates whose gradients are recorded, then the meta rollout.
        for (int k = 0; k < K; k++)
        {
            loss.RolloutAndGradient(ref act, null);
            for (int i = 0; i < p; i++) gs[k * p + i] = (float)grad[i];
            lopt.Step(phi, state, gs.AsSpan(k * p, p), upd, alpha);
            for (int i = 0; i < p; i++) theta[i] += upd[i];
        }
        loss.Rollout(ref act, null);
        loss.LossAndGradient(recomputeTargets: true);
        var lambda = grad.Select(x => (float)x).ToArray();
        var analytic = new float[phi.Length];
        lopt.MetaGradient(phi, state0, gs, K, lambda, alpha, analytic);

        double MetaLoss(float[] f)
        {
            Array.Clear(state);
            theta0.CopyTo(theta, 0);
            for (int k = 0; k < K; k++)
            {
                lopt.Step(f, state, gs.AsSpan(k * p, p), upd, alpha);
                for (int i = 0; i < p; i++) theta[i] += upd[i];
            }
            return loss.LossAndGradient(recomputeTargets: false);
        }

        var fd = new double[phi.Length];
        const float h = 2e-3f;
        for (int i = 0; i < phi.Length; i++)
        {
            var f = (float[])phi.Clone();
            float plus = phi[i] + h, minus = phi[i] - h;
            f[i] = plus;
            double up = MetaLoss(f);
            f[i] = minus;
            double down = MetaLoss(f);
            fd[i] = (up - down) / ((double)plus - minus);
        }

        double dot = 0, na = 0, nf = 0;
        for (int i = 0; i < phi.Length; i++)
        {
            dot += analytic[i] * fd[i];
            na += analytic[i] * (double)analytic[i];
            nf += fd[i] * fd[i];
        }
        double cosine = dot / Math.Sqrt(na * nf);
        Assert.True(cosine > 0.999, $"cosine(analytic, finite differences) = {cosine}");
        // The largest components agree individually.
        foreach (int i in Enumerable.Range(0, phi.Length).OrderByDescending(i => Math.Abs(fd[i])).Take(20))
        {
            double rel = Math.Abs(analytic[i] - fd[i]) / Math.Abs(fd[i]);
            Assert.True(rel < 0.02, $"φ[{i}]: analytic {analytic[i]}, finite difference {fd[i]}");
        }
    }
}
