using Optim4RL.Agents;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Ppo;

/// <summary>GAE with Brax's truncation handling against an independent λ-return recursion and hand cases.</summary>
public class GaeTests
{
    /// <summary>
    /// Independent: the TD(λ) return G_t = r_t + γ_t[(1 − λ)v_{t+1} + λG_{t+1}] with G_T = v_T and
    /// γ_t = 0 on termination; a truncated step's return is its own value (no usable next state),
    /// which the step before bootstraps from. Advantage = r_t + γ_t·G_{t+1} − v_t, zero when truncated.
    /// </summary>
    private static (double[] Vs, double[] Adv) Reference(float[] r, double scale, bool[] term, bool[] trunc, double[] v, double boot, double gamma, double lambda)
    {
        int n = r.Length;
        var g = new double[n];
        double next = boot;
        for (int t = n - 1; t >= 0; t--)
        {
            double vNext = t + 1 < n ? v[t + 1] : boot;
            double gt = term[t] ? 0 : gamma;
            g[t] = trunc[t] ? v[t] : scale * r[t] + gt * ((1 - lambda) * vNext + lambda * next);
            next = g[t];
        }
        var adv = new double[n];
        for (int t = 0; t < n; t++)
        {
            double gNext = t + 1 < n ? g[t + 1] : boot;
            adv[t] = trunc[t] ? 0 : scale * r[t] + (term[t] ? 0 : gamma) * gNext - v[t];
        }
        return (g, adv);
    }

    [Fact]
    public void Gae_matches_the_lambda_return_recursion_with_terminations_and_truncations()
    {
        var rng = new Rng(4);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = 1 + rng.NextInt(12);
            var r = Enumerable.Range(0, n).Select(_ => (float)rng.NextNormal()).ToArray();
            var v = Enumerable.Range(0, n).Select(_ => rng.NextNormal()).ToArray();
            var term = new bool[n];
            var trunc = new bool[n];
            for (int t = 0; t < n; t++)
            {
                double u = rng.NextDouble();
                if (u < 0.15) term[t] = true;
                else if (u < 0.3) trunc[t] = true;
            }
            double boot = rng.NextNormal(), gamma = 0.5 + 0.5 * rng.NextDouble(), lambda = rng.NextDouble(), scale = 0.1 + 3 * rng.NextDouble();
            var vs = new double[n];
            var adv = new double[n];
            Gae.Compute(r, scale, term, trunc, v, boot, gamma, lambda, vs, adv);
            var (eVs, eAdv) = Reference(r, scale, term, trunc, v, boot, gamma, lambda);
            for (int t = 0; t < n; t++)
            {
                Assert.Equal(eVs[t], vs[t], 1e-10);
                Assert.Equal(eAdv[t], adv[t], 1e-10);
            }
        }
    }

    [Fact]
    public void Termination_does_not_bootstrap_and_truncation_bootstraps_from_its_own_observation()
    {
        // γ = 1, λ = 1: targets are plain sums of rewards until the episode boundary.
        float[] r = [1, 2, 3, 4];
        double[] v = [10, 20, 30, 40];
        var vs = new double[4];
        var adv = new double[4];
        // Terminated at t = 1: vs_0 = 1 + 2, vs_1 = 2; then a new episode: vs_2 = 3 + 4 + boot.
        Gae.Compute(r, 1, [false, true, false, false], [false, false, false, false], v, 100, 1, 1, vs, adv);
        Assert.Equal([3, 2, 107, 104], vs);
        Assert.Equal([3 - 10, 2 - 20, 107 - 30, 104 - 40], adv);
        // Truncated at t = 2: that step is dropped (vs = v, A = 0); t = 1 bootstraps from v_2 = 30.
        Gae.Compute(r, 1, [false, false, false, false], [false, false, true, false], v, 100, 1, 1, vs, adv);
        Assert.Equal([1 + 2 + 30, 2 + 30, 30, 104], vs);
        Assert.Equal([33 - 10, 32 - 20, 0, 104 - 40], adv);
    }
}
