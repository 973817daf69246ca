using Optim4RL.Agents;
using Optim4RL.Autodiff;
using static Optim4RL.Tests.Ppo.PpoTestData;

namespace Optim4RL.Tests.Ppo;

/// <summary>The PPO loss of docs/algorithms.md: its value against an independent computation, its gradient against finite differences.</summary>
public class PpoLossTests
{
    private static readonly int[] Segments = [4, 1, 3, 0];

    [Fact]
    public void Ppo_loss_gradient_matches_finite_differences_in_double()
    {
        var cfg = TinyConfig();
        var nets = TinyNets(cfg);
        var theta = Theta(nets, 7);
        var batch = Batch(nets, theta, 5, 11);
        var grad = new double[theta.Length];
        var loss = new PpoLoss<double>(nets, cfg, 4, 4, theta, grad, 0);
        FillNoise(loss.EntropyNoise, 3);
        loss.LossAndGradient(batch, Segments);
        var analytic = (double[])grad.Clone();
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-3);

        const double h = 1e-6;
        for (int i = 0; i < theta.Length; i++)
        {
            double orig = theta[i];
            theta[i] = orig + h;
            double up = loss.LossAndGradient(batch, Segments, recomputeTargets: false);
            theta[i] = orig - h;
            double down = loss.LossAndGradient(batch, Segments, recomputeTargets: false);
            theta[i] = orig;
            double numeric = (up - down) / (2 * h);
            double err = Math.Abs(numeric - analytic[i]);
            Assert.True(err <= 1e-6 * Math.Max(Math.Abs(numeric), Math.Abs(analytic[i])) + 1e-8,
                $"θ[{i}]: analytic {analytic[i]:R}, numeric {numeric:R}");
        }
    }

    [Fact]
    public void Ppo_loss_value_matches_an_independent_computation()
    {
        var cfg = TinyConfig();
        var nets = TinyNets(cfg);
        var theta = Theta(nets, 5);
        var batch = Batch(nets, theta, 5, 13);
        var loss = new PpoLoss<double>(nets, cfg, 4, 2, theta, new double[theta.Length], 0);
        FillNoise(loss.EntropyNoise, 8);
        double actual = loss.LossAndGradient(batch, Segments);

        // Independent: values by a separate graph, λ-returns by the TD(λ) recursion, log π by the
        // change-of-variables formula, then the three terms.
        int m = Segments.Length, n = m * T;
        var g = new Graph<double>();
        var x = g.Input(m * (T + 1), Obs);
        var vNode = nets.BuildValue(g, x, theta, new double[theta.Length], 0);
        var pNode = nets.BuildPolicy(g, x, theta, new double[theta.Length], 0);
        for (int p = 0; p < m; p++)
            for (int t = 0; t <= T; t++)
                for (int k = 0; k < Obs; k++)
                    x.Value.Span[(p * (T + 1) + t) * Obs + k] = batch.Observation(Segments[p], t)[k];
        g.Forward();
        double V(int p, int t) => vNode.Value.Span[p * (T + 1) + t];

        var vs = new double[n];
        var adv = new double[n];
        for (int p = 0; p < m; p++)
        {
            int seg = Segments[p];
            double next = V(p, T); // G at the end of the segment: the bootstrap value
            for (int t = T - 1; t >= 0; t--)
            {
                int i = seg * T + t;
                double r = cfg.RewardScaling * batch.Rewards[i];
                double gamma = batch.Terminations[i] ? 0 : cfg.Discount;
                double ret = batch.Truncations[i] ? V(p, t) : r + gamma * ((1 - cfg.GaeLambda) * V(p, t + 1) + cfg.GaeLambda * next);
                vs[p * T + t] = ret;
                next = ret;
            }
            for (int t = 0; t < T; t++)
            {
                int i = seg * T + t;
                double vsNext = t + 1 < T ? vs[p * T + t + 1] : V(p, T);
                double gamma = batch.Terminations[i] ? 0 : cfg.Discount;
                adv[p * T + t] = batch.Truncations[i] ? 0 : cfg.RewardScaling * batch.Rewards[i] + gamma * vsNext - V(p, t);
            }
        }
        double mean = adv.Average();
        double std = Math.Sqrt(adv.Select(a => (a - mean) * (a - mean)).Average());
        for (int i = 0; i < n; i++) adv[i] = (adv[i] - mean) / (std + 1e-8);

        double policy = 0, value = 0, entropy = 0;
        for (int p = 0; p < m; p++)
            for (int t = 0; t < T; t++)
            {
                int i = Segments[p] * T + t, row = p * T + t;
                double logp = 0;
                for (int a = 0; a < Act; a++)
                {
                    double loc = pNode.Value.Span[(p * (T + 1) + t) * 2 * Act + a];
                    double scale = Math.Log(1 + Math.Exp(pNode.Value.Span[(p * (T + 1) + t) * 2 * Act + Act + a])) + 0.001;
                    double u = batch.RawActions[i * Act + a];
                    logp += -0.5 * Math.Pow((u - loc) / scale, 2) - Math.Log(scale * Math.Sqrt(2 * Math.PI)) - Math.Log(1 - Math.Pow(Math.Tanh(u), 2));
                    double z = loc + scale * loss.EntropyNoise[row * Act + a];
                    entropy += 0.5 + 0.5 * Math.Log(2 * Math.PI) + Math.Log(scale) + Math.Log(1 - Math.Pow(Math.Tanh(z), 2));
                }
                double rho = Math.Exp(logp - batch.LogProbs[i]);
                policy += Math.Min(rho * adv[row], Math.Clamp(rho, 0.7, 1.3) * adv[row]);
                value += Math.Pow(vs[row] - V(p, t), 2);
            }
        double expected = -policy / n + 0.25 * value / n - cfg.EntropyCost * entropy / n;
        Assert.Equal(expected, actual, 1e-9);
        Assert.Equal(-policy / n, loss.LastTerms.Policy, 1e-9);
        Assert.Equal(0.25 * value / n, loss.LastTerms.Value, 1e-9);
        Assert.Equal(-cfg.EntropyCost * entropy / n, loss.LastTerms.Entropy, 1e-9);
    }

    [Fact]
    public void Chunked_loss_equals_the_single_graph_loss()
    {
        var cfg = TinyConfig();
        var nets = TinyNets(cfg);
        var theta = Theta(nets, 2);
        var batch = Batch(nets, theta, 5, 4);
        var g1 = new double[theta.Length];
        var g4 = new double[theta.Length];
        var one = new PpoLoss<double>(nets, cfg, 4, 4, theta, g1, 0);
        var four = new PpoLoss<double>(nets, cfg, 4, 1, theta, g4, 0) { Parallelism = new ParallelOptions { MaxDegreeOfParallelism = 2 } };
        FillNoise(one.EntropyNoise, 1);
        FillNoise(four.EntropyNoise, 1);
        Assert.Equal(one.LossAndGradient(batch, Segments), four.LossAndGradient(batch, Segments), 1e-12);
        for (int i = 0; i < g1.Length; i++) Assert.Equal(g1[i], g4[i], 1e-12);
    }

    [Fact]
    public void Loss_at_an_offset_in_a_shared_theta_touches_only_its_slice()
    {
        var cfg = TinyConfig();
        var nets = TinyNets(cfg);
        int p = nets.ParamCount;
        var theta = Theta(nets, 2);
        var batch = Batch(nets, theta, 5, 4);
        var g0 = new double[p];
        var big = new double[3 * p];
        var bigGrad = new double[3 * p];
        Array.Fill(bigGrad, 9.0);
        theta.CopyTo(big, p);
        var l0 = new PpoLoss<double>(nets, cfg, 4, 2, theta, g0, 0);
        var l1 = new PpoLoss<double>(nets, cfg, 4, 2, big, bigGrad, p);
        FillNoise(l0.EntropyNoise, 6);
        FillNoise(l1.EntropyNoise, 6);
        Assert.Equal(l0.LossAndGradient(batch, Segments), l1.LossAndGradient(batch, Segments));
        Assert.Equal(g0, bigGrad.AsSpan(p, p).ToArray());
        Assert.All(bigGrad.AsSpan(0, p).ToArray(), v => Assert.Equal(9.0, v));
        Assert.All(bigGrad.AsSpan(2 * p, p).ToArray(), v => Assert.Equal(9.0, v));
    }

    [Fact]
    public void Float_and_double_losses_agree()
    {
        var cfg = TinyConfig();
        var nets = TinyNets(cfg);
        var thetaD = Theta(nets, 3);
        var thetaF = thetaD.Select(v => (float)v).ToArray();
        var batch = Batch(nets, thetaD, 5, 9);
        var gD = new double[thetaD.Length];
        var gF = new float[thetaF.Length];
        var lD = new PpoLoss<double>(nets, cfg, 4, 4, thetaD, gD, 0);
        var lF = new PpoLoss<float>(nets, cfg, 4, 4, thetaF, gF, 0);
        FillNoise(lD.EntropyNoise, 2);
        FillNoise(lF.EntropyNoise, 2);
        Assert.Equal(lD.LossAndGradient(batch, Segments), lF.LossAndGradient(batch, Segments), 1e-4);
        double maxG = gD.Max(Math.Abs);
        for (int i = 0; i < gD.Length; i++) Assert.True(Math.Abs(gD[i] - gF[i]) <= 1e-4 * maxG, $"θ[{i}]: {gD[i]} vs {gF[i]}");
    }

    [Fact]
    public void Bad_segment_counts_are_rejected()
    {
        var cfg = TinyConfig();
        var nets = TinyNets(cfg);
        var theta = Theta(nets, 1);
        var loss = new PpoLoss<double>(nets, cfg, 4, 2, theta, new double[theta.Length], 0);
        var batch = Batch(nets, theta, 5, 1);
        Assert.Throws<ArgumentException>(() => loss.LossAndGradient(batch, [0, 1, 2]));
        Assert.Throws<ArgumentException>(() => loss.LossAndGradient(batch, [0, 1, 2, 3, 4, 0]));
        Assert.Throws<ArgumentException>(() => new PpoLoss<double>(nets, cfg, 4, 3, theta, new double[theta.Length], 0));
    }
}
