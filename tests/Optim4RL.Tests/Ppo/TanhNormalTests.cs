using Optim4RL.Agents;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Ppo;

/// <summary>Brax's tanh-squashed Gaussian against direct formulas and numerical integration.</summary>
public class TanhNormalTests
{
    [Theory]
    [InlineData(0.3, 0.1, 0.7)]
    [InlineData(-1.5, 0.4, 0.2)]
    [InlineData(2.5, -1.0, 1.3)]
    [InlineData(0.0, 0.0, 0.001)]
    public void Log_prob_is_gaussian_density_over_tanh_jacobian(double u, double loc, double scale)
    {
        double gauss = Math.Exp(-0.5 * Math.Pow((u - loc) / scale, 2)) / (scale * Math.Sqrt(2 * Math.PI));
        double jacobian = 1 - Math.Tanh(u) * Math.Tanh(u);
        Assert.Equal(Math.Log(gauss / jacobian), TanhNormal.LogProb(u, loc, scale), 1e-9);
    }

    [Fact]
    public void Log_det_jacobian_is_stable_for_large_raw_actions()
    {
        // log(1 − tanh²u) ≈ log 4 − 2|u| for large |u|; the direct form underflows to −∞.
        Assert.Equal(Math.Log(4) - 60, TanhNormal.LogDetJacobian(30), 1e-9);
        Assert.Equal(Math.Log(4) - 60, TanhNormal.LogDetJacobian(-30), 1e-9);
        Assert.Equal(Math.Log(1 - Math.Pow(Math.Tanh(0.8), 2)), TanhNormal.LogDetJacobian(0.8), 1e-12);
    }

    [Fact]
    public void Squashed_density_integrates_to_one_over_the_action_interval()
    {
        const double loc = 0.4, scale = 0.6;
        const int n = 200_000;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double a = -1 + (i + 0.5) * 2.0 / n;
            sum += Math.Exp(TanhNormal.LogProb(Math.Atanh(a), loc, scale)) * 2.0 / n;
        }
        Assert.Equal(1.0, sum, 1e-4);
    }

    [Fact]
    public void Entropy_estimate_is_unbiased_for_the_squashed_entropy()
    {
        const double loc = -0.3, scale = 0.8;
        // Exact: −∫ p(a) log p(a) da over (−1, 1), by the midpoint rule.
        const int n = 400_000;
        double exact = 0;
        for (int i = 0; i < n; i++)
        {
            double a = -1 + (i + 0.5) * 2.0 / n;
            double lp = TanhNormal.LogProb(Math.Atanh(a), loc, scale);
            exact -= Math.Exp(lp) * lp * 2.0 / n;
        }
        var rng = new Rng(3);
        double mc = 0;
        const int samples = 400_000;
        for (int i = 0; i < samples; i++) mc += TanhNormal.EntropyEstimate(loc, scale, rng.NextNormal());
        mc /= samples;
        Assert.Equal(exact, mc, 2e-3);
    }

    [Fact]
    public void Sampling_draws_loc_plus_scale_noise_and_returns_its_log_prob()
    {
        // Network output for A = 2: loc (0.5, −1), raw scale (0.2, −2).
        double[] output = [0.5, -1.0, 0.2, -2.0];
        double[] scale = [TanhNormal.Scale(0.2), TanhNormal.Scale(-2.0)];
        Assert.Equal(Math.Log(1 + Math.Exp(0.2)) + 0.001, scale[0], 1e-12);
        var rng = new Rng(9);
        var actions = new float[2];
        var raw = new float[2];
        double[] sum = new double[2], sumSq = new double[2];
        const int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            double logp = TanhNormal.Sample<double>(output, ref rng, actions, raw);
            Assert.Equal(TanhNormal.LogProb(raw[0], 0.5, scale[0]) + TanhNormal.LogProb(raw[1], -1.0, scale[1]), logp, 1e-9);
            for (int a = 0; a < 2; a++)
            {
                Assert.Equal(MathF.Tanh(raw[a]), actions[a]);
                sum[a] += raw[a];
                sumSq[a] += raw[a] * (double)raw[a];
            }
        }
        for (int a = 0; a < 2; a++)
        {
            double mean = sum[a] / n, std = Math.Sqrt(sumSq[a] / n - mean * mean);
            Assert.Equal(output[a], mean, 0.01);
            Assert.Equal(scale[a], std, 0.01);
        }
        TanhNormal.Mode<double>(output, actions);
        Assert.Equal((float)Math.Tanh(0.5), actions[0]);
        Assert.Equal((float)Math.Tanh(-1.0), actions[1]);
    }
}
