using Optim4RL.Analysis;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Analysis;

public sealed class BootstrapTests
{
    [Fact]
    public void Ninety_percent_interval_covers_the_true_mean_in_most_repetitions()
    {
        // 300 experiments of 10 seeds from N(2, 1.5²); the percentile bootstrap's coverage at n = 10
        // is a little below nominal (about 0.85), so accept [0.78, 0.95].
        var rng = new Rng(123);
        int covered = 0;
        const int experiments = 300;
        for (int e = 0; e < experiments; e++)
        {
            var seeds = Enumerable.Range(0, 10).Select(_ => 2 + 1.5 * rng.NextNormal()).ToArray();
            var ci = Bootstrap.Mean(seeds, 0.9, 1000, (ulong)e);
            Assert.True(ci.Low <= ci.Mean && ci.Mean <= ci.High);
            if (ci.Low <= 2 && 2 <= ci.High) covered++;
        }

        Assert.InRange(covered / (double)experiments, 0.78, 0.95);
    }

    [Fact]
    public void Interval_is_deterministic_for_a_seed_and_narrows_with_more_seeds()
    {
        double[] values = [0.1, 0.5, 0.3, 0.9, 0.7, 0.2];
        var a = Bootstrap.Mean(values, seed: 4);
        var b = Bootstrap.Mean(values, seed: 4);
        var c = Bootstrap.Mean(values, seed: 5);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(values.Average(), a.Mean, 12);
        Assert.Equal(6, a.Count);

        var rng = new Rng(9);
        var few = Enumerable.Range(0, 5).Select(_ => rng.NextNormal()).ToArray();
        var many = Enumerable.Range(0, 200).Select(_ => rng.NextNormal()).ToArray();
        Assert.True(Bootstrap.Mean(many).HalfWidth < Bootstrap.Mean(few).HalfWidth);
        // For many seeds the percentile interval approaches mean ± 1.645·σ/√n.
        double se = Math.Sqrt(many.Select(x => (x - many.Average()) * (x - many.Average())).Average() / many.Length);
        Assert.Equal(1.645 * se, Bootstrap.Mean(many, resamples: 4000).HalfWidth, 0.15 * 1.645 * se);
    }

    [Fact]
    public void One_seed_gives_a_degenerate_interval_and_bad_input_is_rejected()
    {
        var one = Bootstrap.Mean([0.42]);
        Assert.Equal((0.42, 0.42, 0.42), (one.Mean, one.Low, one.High));
        Assert.Throws<ArgumentException>(() => Bootstrap.Mean([]));
        Assert.Throws<ArgumentException>(() => Bootstrap.Mean([1, double.NaN]));
        Assert.Throws<ArgumentException>(() => Bootstrap.Mean([1, 2], level: 1));
    }

    [Fact]
    public void Curve_band_resamples_whole_runs()
    {
        // Two runs that are constant curves 0 and 1: every resample mean is k/2, the same at every point.
        var (mean, lo, hi) = Bootstrap.MeanCurve([new double[] { 0, 0, 0 }, new double[] { 1, 1, 1 }], 0.9, 500, 1);
        Assert.Equal([0.5, 0.5, 0.5], mean);
        Assert.All(lo, v => Assert.Equal(lo[0], v));
        Assert.All(hi, v => Assert.Equal(hi[0], v));
        Assert.Equal(0.0, lo[0]);
        Assert.Equal(1.0, hi[0]);
    }

    [Fact]
    public void Quantile_interpolates_like_numpy()
    {
        double[] s = [1, 2, 3, 4];
        Assert.Equal(1.0, Bootstrap.Quantile(s, 0));
        Assert.Equal(4.0, Bootstrap.Quantile(s, 1));
        Assert.Equal(2.5, Bootstrap.Quantile(s, 0.5));
        Assert.Equal(1.15, Bootstrap.Quantile(s, 0.05), 12);
    }
}
