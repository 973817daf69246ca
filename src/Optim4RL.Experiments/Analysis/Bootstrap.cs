namespace Optim4RL.Analysis;

/// <summary>A mean with a confidence interval.</summary>
/// <param name="Mean">The sample mean.</param>
/// <param name="Low">Lower bound of the interval.</param>
/// <param name="High">Upper bound of the interval.</param>
/// <param name="Count">Number of values (seeds) it is computed from.</param>
public readonly record struct MeanCI(double Mean, double Low, double High, int Count)
{
    /// <summary>Half the interval's width, (High − Low)/2 (the reference's "± CI" column).</summary>
    public double HalfWidth => (High - Low) / 2;
}

/// <summary>
/// Percentile-bootstrap confidence intervals of a mean over seeds (the reference used
/// <c>scipy.stats.bootstrap</c>, percentile method, 90 %): draw the n seeds with replacement
/// <c>resamples</c> times, take the mean of each resample, and report the (1 − level)/2 and
/// (1 + level)/2 quantiles of those means. Draws come from the project's counter-based
/// <see cref="Rng"/> seeded with a fixed value, so the same data give the same interval.
/// With one seed the interval is that single value.
/// </summary>
public static class Bootstrap
{
    /// <summary>The default confidence level (90 %, as in the paper's figures).</summary>
    public const double DefaultLevel = 0.9;

    /// <summary>The default number of resamples.</summary>
    public const int DefaultResamples = 2000;

    /// <summary>The mean of <paramref name="values"/> and its bootstrap interval.</summary>
    /// <exception cref="ArgumentException">No values, a non-finite value, a level outside (0, 1) or fewer than 10 resamples.</exception>
    public static MeanCI Mean(IReadOnlyList<double> values, double level = DefaultLevel, int resamples = DefaultResamples, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(values);
        var curves = new double[values.Count][];
        for (int i = 0; i < values.Count; i++) curves[i] = [values[i]];
        var (mean, lo, hi) = MeanCurve(curves, level, resamples, seed);
        return new MeanCI(mean[0], lo[0], hi[0], values.Count);
    }

    /// <summary>
    /// Point-wise mean and bootstrap band of n curves on a common grid (<paramref name="curves"/>[run][point]):
    /// each resample draws whole runs, so the band's points come from the same resamples.
    /// </summary>
    /// <exception cref="ArgumentException">No curves, curves of different lengths, a non-finite value, a level outside (0, 1) or fewer than 10 resamples.</exception>
    public static (double[] Mean, double[] Low, double[] High) MeanCurve(IReadOnlyList<double[]> curves, double level = DefaultLevel, int resamples = DefaultResamples, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(curves);
        if (curves.Count == 0) throw new ArgumentException("The bootstrap needs at least one value.", nameof(curves));
        if (!(level > 0 && level < 1)) throw new ArgumentException($"The confidence level must be in (0, 1); got {level}.", nameof(level));
        if (resamples < 10) throw new ArgumentException($"At least 10 resamples are needed; got {resamples}.", nameof(resamples));
        int n = curves.Count, points = curves[0].Length;
        foreach (double[] c in curves)
        {
            if (c.Length != points) throw new ArgumentException("All curves must have the same number of points.", nameof(curves));
            foreach (double v in c)
            {
                if (!double.IsFinite(v)) throw new ArgumentException("The bootstrap needs finite values.", nameof(curves));
            }
        }

        var mean = new double[points];
        foreach (double[] c in curves)
        {
            for (int j = 0; j < points; j++) mean[j] += c[j] / n;
        }

        if (n == 1) return (mean, (double[])mean.Clone(), (double[])mean.Clone());

        var means = new double[points][];
        for (int j = 0; j < points; j++) means[j] = new double[resamples];
        var rng = new Rng(seed);
        var pick = new int[n];
        for (int b = 0; b < resamples; b++)
        {
            for (int i = 0; i < n; i++) pick[i] = rng.NextInt(n);
            for (int j = 0; j < points; j++)
            {
                double s = 0;
                for (int i = 0; i < n; i++) s += curves[pick[i]][j];
                means[j][b] = s / n;
            }
        }

        var lo = new double[points];
        var hi = new double[points];
        double a = (1 - level) / 2;
        for (int j = 0; j < points; j++)
        {
            Array.Sort(means[j]);
            lo[j] = Quantile(means[j], a);
            hi[j] = Quantile(means[j], 1 - a);
        }

        return (mean, lo, hi);
    }

    /// <summary>The q-quantile of sorted values, linear interpolation between order statistics (numpy's default).</summary>
    /// <exception cref="ArgumentException">No values, or q outside [0, 1].</exception>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0) throw new ArgumentException("No values.", nameof(sorted));
        if (!(q >= 0 && q <= 1)) throw new ArgumentException($"q must be in [0, 1]; got {q}.", nameof(q));
        double h = (sorted.Count - 1) * q;
        int i = (int)Math.Floor(h);
        if (i >= sorted.Count - 1) return sorted[^1];
        return sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]);
    }
}
