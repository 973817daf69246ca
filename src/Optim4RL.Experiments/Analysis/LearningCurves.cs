using Optim4RL.Experiments;

namespace Optim4RL.Analysis;

/// <summary>The learning curve of one configuration on one task: mean over its runs and a bootstrap band.</summary>
/// <param name="Env">The task.</param>
/// <param name="Label">The configuration's label.</param>
/// <param name="Runs">Number of runs (seeds) averaged.</param>
/// <param name="Steps">The common step grid.</param>
/// <param name="Mean">Mean return over runs at each grid point.</param>
/// <param name="Low">Lower bound of the bootstrap band.</param>
/// <param name="High">Upper bound of the bootstrap band.</param>
/// <param name="Evaluation">True when the curves are deterministic evaluations (PPO), false for training returns.</param>
/// <param name="Coverage">Runs averaged at each grid point (null: all <paramref name="Runs"/> everywhere); fewer where some runs stopped logging earlier or started later.</param>
public sealed record CurveBand(string Env, string Label, int Runs, double[] Steps, double[] Mean, double[] Low, double[] High, bool Evaluation = false, int[]? Coverage = null)
{
    /// <summary>The fewest runs averaged at any grid point.</summary>
    public int MinCoverage => Coverage is { Length: > 0 } c ? c.Min() : Runs;
}

/// <summary>
/// Learning curves over seeds (docs/evaluation-protocol.md: per iteration, the mean return of the episodes that
/// finished in it, against environment steps). Each run's curve is put on a common grid of
/// steps — the average of its rows in each grid cell (the interval of steps nearer to that grid
/// point than to its neighbours), or, where a cell holds no row, the linear interpolation of its
/// rows at the grid point — then averaged over runs with a percentile-bootstrap band
/// (<see cref="Bootstrap.MeanCurve"/>). A group's grid spans the steps any of its runs covers, so a
/// run that logged further (or at other steps) keeps its tail: each grid point averages the runs whose
/// logged steps reach it (within half a grid cell), and <see cref="CurveBand.Coverage"/> says how many.
/// </summary>
public static class LearningCurves
{
    /// <summary>The default number of grid points.</summary>
    public const int DefaultPoints = 100;

    /// <summary><paramref name="points"/> evenly spaced values from <paramref name="from"/> to <paramref name="to"/> (one point when they are equal).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="points"/> is below 1.</exception>
    public static double[] Grid(double from, double to, int points)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 1);
        if (points == 1 || !(to > from)) return [from];
        var grid = new double[points];
        for (int j = 0; j < points; j++) grid[j] = from + (to - from) * j / (points - 1);
        return grid;
    }

    /// <summary>
    /// One run's curve on <paramref name="grid"/> (increasing): cell averages of its finite rows, linear
    /// interpolation of the rows (constant beyond the ends) where a cell is empty.
    /// </summary>
    /// <exception cref="ArgumentException">The curve has no finite row.</exception>
    public static double[] Resample(IReadOnlyList<ResultRow> rows, IReadOnlyList<double> grid)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(grid);
        var pts = rows.Where(r => double.IsFinite(r.Return)).OrderBy(r => r.Step).ToArray();
        if (pts.Length == 0) throw new ArgumentException("The curve has no finite return.", nameof(rows));
        int g = grid.Count;
        var sum = new double[g];
        var count = new int[g];
        foreach (ResultRow r in pts)
        {
            int j = NearestCell(grid, r.Step);
            if (j < 0) continue;
            sum[j] += r.Return;
            count[j]++;
        }

        var result = new double[g];
        for (int j = 0; j < g; j++) result[j] = count[j] > 0 ? sum[j] / count[j] : Interpolate(pts, grid[j]);
        return result;
    }

    /// <summary>The first and last finite-return steps of a curve, or null when it has none.</summary>
    public static (long First, long Last)? Span(IReadOnlyList<ResultRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        long first = long.MaxValue, last = long.MinValue;
        foreach (ResultRow r in rows)
        {
            if (!double.IsFinite(r.Return)) continue;
            first = Math.Min(first, r.Step);
            last = Math.Max(last, r.Step);
        }

        return first <= last ? (first, last) : null;
    }

    /// <summary>
    /// The bands of every group on every task, tasks in name order, groups in their order; a group
    /// appears on a task when at least one of its runs has a curve with a finite return there.
    /// </summary>
    /// <param name="groups">The configurations.</param>
    /// <param name="points">Grid points per curve.</param>
    /// <param name="level">The band's confidence level.</param>
    /// <param name="resamples">Bootstrap resamples.</param>
    /// <param name="seed">Seed of the bootstrap draws.</param>
    /// <param name="source">Which series to draw (<see cref="RunData.CurvesOf"/>); training returns by default.</param>
    /// <exception cref="ArgumentException">An argument is out of range (see <see cref="Bootstrap.MeanCurve"/>).</exception>
    public static IReadOnlyList<CurveBand> Aggregate(IReadOnlyList<RunGroup> groups, int points = DefaultPoints, double level = Bootstrap.DefaultLevel,
        int resamples = Bootstrap.DefaultResamples, ulong seed = 0, CurveSource source = CurveSource.Training)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var envs = groups.SelectMany(g => g.Runs).SelectMany(r => r.CurvesOf(source).Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var bands = new List<CurveBand>();
        foreach (string env in envs)
        {
            foreach (RunGroup group in groups)
            {
                var curves = group.Runs.Select(r => r.CurvesOf(source).TryGetValue(env, out var c) ? c : null)
                    .Where(c => c is not null && Span(c) is not null).Select(c => c!).ToList();
                if (curves.Count == 0) continue;
                var spans = curves.Select(c => Span(c)!.Value).ToList();
                double from = spans.Min(sp => sp.First), to = spans.Max(sp => sp.Last);
                double[] grid = Grid(from, Math.Max(from, to), points);
                double half = grid.Length > 1 ? (grid[1] - grid[0]) / 2 : 0;
                var resampled = curves.Select(c => Resample(c, grid)).ToList();
                bool[][] covers = spans.Select(sp => grid.Select(x => x >= sp.First - half && x <= sp.Last + half).ToArray()).ToArray();
                var (mean, lo, hi, count) = CoveredMeans(resampled, covers, level, resamples, seed);
                bool evaluation = source == CurveSource.Evaluation || (source == CurveSource.Auto && group.Runs.Any(r => r.UsesEvaluations && r.Evaluations!.ContainsKey(env)));
                bands.Add(new CurveBand(env, group.Label, curves.Count, grid, mean, lo, hi, evaluation, count));
            }
        }

        return bands;
    }

    /// <summary>
    /// Mean and band at each grid point over the runs that cover it: the grid is cut into stretches
    /// over which the same runs cover every point, and each stretch is bootstrapped over those runs.
    /// </summary>
    private static (double[] Mean, double[] Low, double[] High, int[] Count) CoveredMeans(IReadOnlyList<double[]> curves, bool[][] covers, double level, int resamples, ulong seed)
    {
        int g = curves[0].Length;
        var (mean, lo, hi, count) = (new double[g], new double[g], new double[g], new int[g]);
        int start = 0;
        while (start < g)
        {
            var who = Enumerable.Range(0, curves.Count).Where(r => covers[r][start]).ToList();
            int end = start + 1;
            while (end < g && Enumerable.Range(0, curves.Count).All(r => covers[r][end] == covers[r][start])) end++;
            if (who.Count == 0) who = Enumerable.Range(0, curves.Count).ToList(); // cannot happen: the grid spans the runs
            var (m, l, h) = Bootstrap.MeanCurve(who.Select(r => curves[r][start..end]).ToList(), level, resamples, seed);
            m.CopyTo(mean, start);
            l.CopyTo(lo, start);
            h.CopyTo(hi, start);
            Array.Fill(count, who.Count, start, end - start);
            start = end;
        }

        return (mean, lo, hi, count);
    }

    private static int NearestCell(IReadOnlyList<double> grid, double x)
    {
        int g = grid.Count;
        if (g == 1) return 0;
        double h = grid[1] - grid[0];
        if (x < grid[0] - h / 2 || x >= grid[g - 1] + h / 2) return -1;
        int j = (int)Math.Round((x - grid[0]) / h, MidpointRounding.AwayFromZero);
        return Math.Clamp(j, 0, g - 1);
    }

    private static double Interpolate(ResultRow[] pts, double x)
    {
        if (x <= pts[0].Step) return pts[0].Return;
        if (x >= pts[^1].Step) return pts[^1].Return;
        int hi = 1;
        while (pts[hi].Step < x) hi++;
        ResultRow a = pts[hi - 1], b = pts[hi];
        if (b.Step == a.Step) return (a.Return + b.Return) / 2;
        return a.Return + (b.Return - a.Return) * (x - a.Step) / (b.Step - a.Step);
    }
}
