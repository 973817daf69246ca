namespace Optim4RL.Experiments;

/// <summary>
/// Summaries of a learning curve (docs/evaluation-protocol.md: per iteration, the mean return of the episodes
/// that finished in it, against environment steps).
/// </summary>
public static class LearningCurve
{
    /// <summary>(Step, Return) points of the iterations in which at least one episode finished.</summary>
    public static List<(long Step, double Return)> Points(IEnumerable<IterationLog> logs) =>
        logs.Where(l => l.Episodes > 0).Select(l => (l.Step, l.MeanReturn)).ToList();

    /// <summary>
    /// The episode-weighted mean return over the last <paramref name="fraction"/> of the iterations
    /// (10 % by default); NaN when no episode finished there. A running summary for progress displays
    /// and tests: a run's reported final return follows <see cref="EvaluationProtocol"/>
    /// (<see cref="FinalReturnRule.Of(IEnumerable{IterationLog})"/>).
    /// </summary>
    public static double FinalReturn(IReadOnlyList<IterationLog> logs, double fraction = 0.1)
    {
        if (logs.Count == 0) return double.NaN;
        int from = Math.Max(0, logs.Count - Math.Max(1, (int)Math.Ceiling(logs.Count * fraction)));
        double sum = 0;
        int n = 0;
        for (int i = from; i < logs.Count; i++)
        {
            sum += logs[i].ReturnSum;
            n += logs[i].Episodes;
        }
        return n > 0 ? sum / n : double.NaN;
    }

    /// <summary>
    /// The first environment step at which the moving average (episode-weighted, over
    /// <paramref name="window"/> iterations) of the return reaches <paramref name="threshold"/>;
    /// null when it never does.
    /// </summary>
    public static long? StepsToReach(IReadOnlyList<IterationLog> logs, double threshold, int window = 10)
    {
        double sum = 0;
        int n = 0;
        var q = new Queue<IterationLog>();
        foreach (var l in logs)
        {
            q.Enqueue(l);
            sum += l.ReturnSum;
            n += l.Episodes;
            if (q.Count > window)
            {
                var old = q.Dequeue();
                sum -= old.ReturnSum;
                n -= old.Episodes;
            }
            if (q.Count == window && n > 0 && sum / n >= threshold) return l.Step;
        }
        return null;
    }

    /// <summary>Mean and standard error of the finite values (SE is 0 for one value, NaN for none).</summary>
    public static (double Mean, double StdErr) MeanStdErr(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return (double.NaN, double.NaN);
        double mean = v.Average();
        if (v.Length == 1) return (mean, 0);
        double var = v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1);
        return (mean, Math.Sqrt(var / v.Length));
    }
}
