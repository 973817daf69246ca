using Optim4RL.Agents;
using Optim4RL.Meta;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Ppo;

/// <summary>
/// MetaPPO's meta-gradient (docs/algorithms.md: g constant, back-propagation through every minibatch step of
/// the learned optimizer) against finite differences of the meta-loss, on a tiny PPO agent in double
/// with fixed rollouts: the K minibatch gradients, the meta rollout, its targets and its entropy
/// noise are held fixed while φ moves.
/// </summary>
public class MetaPpoGradientTests
{
    [Fact]
    public void MetaPpo_meta_gradient_matches_finite_differences_of_the_meta_loss()
    {
        const float alpha = 0.03f;
        var cfg = new PpoConfig
        {
            UnrollLength = 4,
            BatchSize = 4,
            NumMinibatches = 2,
            UpdateEpochs = 2,
            RewardScaling = 1,
            PolicyHiddenSizes = [6],
            ValueHiddenSizes = [6],
        };
        var rng = new Rng(17);
        var env = new PointMass(4, rng.Split(0), maxEpisodeSteps: 6);
        var nets = PpoNetworks.For(env.ObservationSize, env.ActionSize, cfg);
        int p = nets.ParamCount;
        var theta = new double[p];
        var grad = new double[p];
        var agent = new PpoAgent<double>(nets, env, cfg, theta, grad, 0, rng.Split(1), withMetaBatch: true);
        agent.InitParameters();
        agent.ResetEpisodes();

        var kernel = LearnedOptimizers.Create("Optim4RL");
        var phi = new float[kernel.Layout.Count];
        var prng = rng.Split(2);
        kernel.InitMetaParams(ref prng, phi);
        for (int i = 0; i < phi.Length; i++) phi[i] += (float)(0.2 * prng.NextNormal());
        int k = 2 * cfg.OptimizerStepsPerTrainingStep; // two PPO training steps: 8 learned-optimizer steps
        var rec = new RecordingLearnedOptimizer(kernel, phi, alpha, gradClip: 0.05f, p, k);

        // Forward: two training steps, every minibatch step one recorded learned-optimizer step.
        var state = rec.Init(p);
        rec.Begin(state);
        var theta0 = (double[])theta.Clone();
        var gs = new List<float[]>();
        var g = new float[p];
        var upd = new float[p];
        for (int step = 0; step < 2; step++)
        {
            agent.CollectBatch();
            for (int e = 0; e < cfg.UpdateEpochs; e++)
            {
                agent.ShuffleSegments();
                for (int mb = 0; mb < cfg.NumMinibatches; mb++)
                {
                    agent.MinibatchGradient(mb);
                    for (int i = 0; i < p; i++) g[i] = (float)grad[i];
                    gs.Add((float[])g.Clone());
                    rec.Update(g, state, upd);
                    for (int i = 0; i < p; i++) theta[i] += upd[i];
                }
            }
        }
        Assert.Equal(k, rec.Steps);
        Assert.Contains(gs.SelectMany(x => x), v => Math.Abs(v) > 0.05f); // clipping is exercised

        // Meta-loss on a fresh rollout; its gradient is λ.
        agent.MetaLossGradient();
        var lambda = grad.Select(x => (float)x).ToArray();
        var analytic = new float[phi.Length];
        rec.MetaGradient(lambda, analytic);

        var metaSegments = Enumerable.Range(0, agent.MetaBatch!.Segments).ToArray();
        double MetaLoss(float[] f)
        {
            f.CopyTo(phi, 0); // the recorder reads the trainer's φ array
            var st = rec.Init(p);
            rec.Begin(st);
            theta0.CopyTo(theta, 0);
            foreach (var gk in gs)
            {
                rec.Update(gk, st, upd);
                for (int i = 0; i < p; i++) theta[i] += upd[i];
            }
            return agent.Loss.LossAndGradient(agent.MetaBatch!, metaSegments, recomputeTargets: false);
        }

        var phi0 = (float[])phi.Clone();
        var fd = new double[phi.Length];
        const float h = 2e-3f;
        for (int i = 0; i < phi.Length; i++)
        {
            var f = (float[])phi0.Clone();
            float plus = phi0[i] + h, minus = phi0[i] - h;
            f[i] = plus;
            double up = MetaLoss(f);
            f[i] = minus;
            double down = MetaLoss(f);
            fd[i] = (up - down) / ((double)plus - minus);
        }
        phi0.CopyTo(phi, 0);

        double dot = 0, na = 0, nf = 0;
        for (int i = 0; i < phi.Length; i++)
        {
            dot += analytic[i] * fd[i];
            na += analytic[i] * (double)analytic[i];
            nf += fd[i] * fd[i];
        }
        double cosine = dot / Math.Sqrt(na * nf);
        Assert.True(cosine > 0.999, $"cosine(analytic, finite differences) = {cosine}");
        foreach (int i in Enumerable.Range(0, phi.Length).OrderByDescending(i => Math.Abs(fd[i])).Take(20))
        {
            double rel = Math.Abs(analytic[i] - fd[i]) / Math.Abs(fd[i]);
            Assert.True(rel < 0.02, $"φ[{i}]: analytic {analytic[i]}, finite difference {fd[i]}");
        }
    }
}
