namespace Optim4RL.Experiments;

/// <summary>The logged series of a run that a final return is computed from.</summary>
public enum ReturnSeries
{
    /// <summary>
    /// The learning curve, <c>result_&lt;env&gt;.csv</c>: one row per training iteration in which an
    /// episode finished, holding the mean return of those episodes.
    /// </summary>
    LearningCurve,

    /// <summary>The deterministic evaluations of a PPO run, <c>eval_deterministic_&lt;env&gt;.csv</c> (policy mean, no sampling).</summary>
    DeterministicEvaluations,
}

/// <summary>
/// One way of turning a run's logged series into its final return: the mean of the last
/// <see cref="Count"/> finite values of <see cref="Series"/>, or of the last ⌈<see cref="Fraction"/>·n⌉
/// of its n finite values. Fewer values than asked for: the mean of all of them; none: NaN.
/// </summary>
public sealed record FinalReturnRule
{
    // Made only by the factories below, which check their argument.
    private FinalReturnRule()
    {
    }

    /// <summary>Which series is averaged.</summary>
    public ReturnSeries Series { get; private init; }

    /// <summary>How many of the last values are averaged; 0 when the rule is a fraction.</summary>
    public int Count { get; private init; }

    /// <summary>Which fraction of the series' end is averaged; 0 when the rule is a count.</summary>
    public double Fraction { get; private init; }

    /// <summary>The mean of the last <paramref name="count"/> logged returns (rows of <c>result_&lt;env&gt;.csv</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> &lt; 1.</exception>
    public static FinalReturnRule LastLogged(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return new FinalReturnRule { Series = ReturnSeries.LearningCurve, Count = count };
    }

    /// <summary>The mean of the last <paramref name="count"/> deterministic evaluations (rows of <c>eval_deterministic_&lt;env&gt;.csv</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> &lt; 1.</exception>
    public static FinalReturnRule LastEvaluations(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return new FinalReturnRule { Series = ReturnSeries.DeterministicEvaluations, Count = count };
    }

    /// <summary>The mean of the last ⌈<paramref name="fraction"/>·n⌉ of the n logged returns.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is not in (0, 1].</exception>
    public static FinalReturnRule LastFraction(double fraction)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The fraction must be in (0, 1].");
        return new FinalReturnRule { Series = ReturnSeries.LearningCurve, Fraction = fraction };
    }

    /// <summary>The file of a run directory this rule reads for task <paramref name="env"/>.</summary>
    public string FileName(string env) => Series == ReturnSeries.LearningCurve ? ResultCsv.FileName(env) : EvaluationProtocol.DeterministicEvaluationFileName(env);

    /// <summary>How many of the last <paramref name="n"/> values the rule averages (0 when n is 0).</summary>
    public int Take(int n)
    {
        if (n <= 0) return 0;
        if (Count > 0) return Math.Min(Count, n);
        return Math.Min(n, Math.Max(1, (int)Math.Ceiling(n * Fraction - 1e-9)));
    }

    /// <summary>The final return of a series: the mean of the rule's last finite values; NaN when there are none.</summary>
    public double Of(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var finite = values.Where(double.IsFinite).ToArray();
        int take = Take(finite.Length);
        if (take == 0) return double.NaN;
        double sum = 0;
        for (int i = finite.Length - take; i < finite.Length; i++) sum += finite[i];
        return sum / take;
    }

    /// <summary>The final return of logged rows (their <see cref="ResultRow.Return"/> values).</summary>
    public double Of(IEnumerable<ResultRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return Of(rows.Select(r => r.Return));
    }

    /// <summary>
    /// The final return of a training run's iterations, as its learning curve logs them (the mean
    /// return of each iteration in which an episode finished).
    /// </summary>
    /// <exception cref="InvalidOperationException">The rule reads deterministic evaluations, which iterations do not hold.</exception>
    public double Of(IEnumerable<IterationLog> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        if (Series != ReturnSeries.LearningCurve) throw new InvalidOperationException($"The rule '{this}' reads deterministic evaluations, not training iterations.");
        return Of(LearningCurve.Points(logs).Select(p => p.Return));
    }

    /// <summary>In words for task <paramref name="env"/>, e.g. "mean of the last 20 logged returns (result_catch.csv)".</summary>
    public string Describe(string env) => Describe().Replace("<env>", env, StringComparison.Ordinal);

    /// <summary>In words, e.g. "mean of the last 20 logged returns (result_&lt;env&gt;.csv)".</summary>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        if (Series == ReturnSeries.DeterministicEvaluations)
            return Count == 1 ? "the last deterministic evaluation (eval_deterministic_<env>.csv)"
                : string.Create(inv, $"mean of the last {Count} deterministic evaluations (eval_deterministic_<env>.csv)");
        return Count > 0 ? string.Create(inv, $"mean of the last {Count} logged returns (result_<env>.csv)")
            : string.Create(inv, $"mean of the last {Fraction * 100:0.##} % of the logged returns (result_<env>.csv)");
    }

    /// <summary>The option text that parses back to this rule: <c>last:N</c>, <c>eval:N</c> or <c>last-fraction:F</c>.</summary>
    public override string ToString() =>
        Series == ReturnSeries.DeterministicEvaluations ? string.Create(CultureInfo.InvariantCulture, $"eval:{Count}")
        : Count > 0 ? string.Create(CultureInfo.InvariantCulture, $"last:{Count}")
        : string.Create(CultureInfo.InvariantCulture, $"last-fraction:{Fraction:R}");
}

/// <summary>
/// Which <see cref="FinalReturnRule"/> each run gets: the evaluation protocol (<see cref="Protocol"/>,
/// the rule depends on the agent) or one fixed rule for every run.
/// </summary>
public sealed class FinalReturnDefinition
{
    private readonly FinalReturnRule? _fixed;

    private FinalReturnDefinition(FinalReturnRule? rule) => _fixed = rule;

    /// <summary>
    /// The paper's protocol: A2C-trained runs use the mean of their last
    /// <see cref="EvaluationProtocol.A2CLastReturns"/> logged returns, PPO runs the mean of their last
    /// <see cref="EvaluationProtocol.PpoLastEvaluations"/> deterministic evaluations.
    /// </summary>
    public static FinalReturnDefinition Protocol { get; } = new(null);

    /// <summary>True for the protocol, false for a fixed rule.</summary>
    public bool IsProtocol => _fixed is null;

    /// <summary>One rule for every run, whatever its agent.</summary>
    public static FinalReturnDefinition Fixed(FinalReturnRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new FinalReturnDefinition(rule);
    }

    /// <summary>The valid forms of <see cref="Parse"/>'s text, for help and error messages.</summary>
    public const string Syntax = "protocol | last:N | eval:N | last-fraction:F";

    /// <summary>
    /// Parses the <c>--final</c> option: <c>protocol</c> (the default), <c>last:N</c> (mean of the last
    /// N logged returns), <c>eval:N</c> (mean of the last N deterministic evaluations, PPO runs only)
    /// or <c>last-fraction:F</c> (mean of the last ⌈F·n⌉ of the n logged returns, 0 &lt; F ≤ 1).
    /// </summary>
    /// <exception cref="ArgumentException">Any other text.</exception>
    public static FinalReturnDefinition Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        if (t == "protocol") return Protocol;
        int colon = t.IndexOf(':', StringComparison.Ordinal);
        string kind = colon < 0 ? t : t[..colon], arg = colon < 0 ? "" : t[(colon + 1)..].Trim();
        var inv = CultureInfo.InvariantCulture;
        switch (kind)
        {
            case "last" or "eval" when int.TryParse(arg, NumberStyles.None, inv, out int n) && n >= 1:
                return Fixed(kind == "last" ? FinalReturnRule.LastLogged(n) : FinalReturnRule.LastEvaluations(n));
            case "last-fraction" when double.TryParse(arg, NumberStyles.Float, inv, out double f) && f > 0 && f <= 1:
                return Fixed(FinalReturnRule.LastFraction(f));
            default:
                throw new ArgumentException($"--final '{text}' is not a final-return definition; valid: {Syntax} (N ≥ 1, 0 < F ≤ 1), e.g. last-fraction:0.1.", nameof(text));
        }
    }

    /// <summary>The rule for a run of agent <paramref name="agentName"/> (<c>agent.name</c>).</summary>
    public FinalReturnRule RuleFor(string? agentName) =>
        _fixed ?? (EvaluationProtocol.IsPpo(agentName) ? EvaluationProtocol.PpoRule : EvaluationProtocol.A2CRule);

    /// <summary>In words, for report headers.</summary>
    public string Describe() => _fixed is { } r ? $"every run: {r.Describe()}"
        : $"A2C runs: {EvaluationProtocol.A2CRule.Describe()}; PPO runs: {EvaluationProtocol.PpoRule.Describe()}";

    /// <summary>The option text that parses back to this definition.</summary>
    public override string ToString() => _fixed?.ToString() ?? "protocol";
}

/// <summary>
/// The evaluation protocol of the paper, in one place: a run's final return (<see cref="FinalReturnDefinition.Protocol"/>)
/// and the normalised score of a final return between a random policy's and Adam's.
/// </summary>
public static class EvaluationProtocol
{
    /// <summary>Logged returns averaged into an A2C run's final return (the reference's analysis: the last 20).</summary>
    public const int A2CLastReturns = 20;

    /// <summary>Deterministic evaluations averaged into a PPO run's final return (the last 3).</summary>
    public const int PpoLastEvaluations = 3;

    /// <summary>The rule for A2C-trained runs: the mean of the last 20 logged returns.</summary>
    public static FinalReturnRule A2CRule { get; } = FinalReturnRule.LastLogged(A2CLastReturns);

    /// <summary>The rule for PPO runs: the mean of the last 3 deterministic evaluations.</summary>
    public static FinalReturnRule PpoRule { get; } = FinalReturnRule.LastEvaluations(PpoLastEvaluations);

    /// <summary>The deterministic-evaluation file of a PPO run for task <paramref name="env"/>: <c>eval_deterministic_&lt;env&gt;.csv</c>.</summary>
    public static string DeterministicEvaluationFileName(string env)
    {
        ArgumentException.ThrowIfNullOrEmpty(env);
        return $"eval_deterministic_{env}.csv";
    }

    /// <summary>True when <paramref name="agentName"/> trains with PPO (PPO, PPOstar; not MetaPPO, which writes no final return).</summary>
    public static bool IsPpo(string? agentName) =>
        agentName is not null && agentName.StartsWith("PPO", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The normalised score (R − R_random) / (R_Adam − R_random): 0 at the random policy's return,
    /// 1 at Adam's. NaN when a value is not finite or R_Adam equals R_random.
    /// </summary>
    public static double NormalisedScore(double finalReturn, double randomReturn, double adamReturn)
    {
        double d = adamReturn - randomReturn;
        if (!double.IsFinite(finalReturn) || !double.IsFinite(randomReturn) || !double.IsFinite(adamReturn) || d == 0) return double.NaN;
        return (finalReturn - randomReturn) / d;
    }
}
