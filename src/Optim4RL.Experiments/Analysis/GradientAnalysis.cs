using Optim4RL.Experiments;

namespace Optim4RL.Analysis;

/// <summary>Which recorded quantity to analyse.</summary>
public enum GradientQuantity
{
    /// <summary>The gradient g fed to the optimizer (<c>g</c> in files and tables).</summary>
    Gradient,

    /// <summary>The update Δθ the optimizer returned (<c>delta</c>).</summary>
    Update,
}

/// <summary>A window of consecutive records of a gradient file (a training stage).</summary>
/// <param name="Label">E.g. "first 10 %", "middle 10 %", "last 10 %".</param>
/// <param name="Position">Where the window sits: 0 = at the start, 1 = at the end.</param>
/// <param name="FirstRecord">Index of its first record.</param>
/// <param name="Records">Number of records.</param>
/// <param name="FirstUpdate">Update index of its first record.</param>
/// <param name="LastUpdate">Update index of its last record.</param>
/// <param name="FirstStep">Steps at its first record.</param>
/// <param name="LastStep">Steps at its last record.</param>
public sealed record GradientStage(string Label, double Position, int FirstRecord, int Records, long FirstUpdate, long LastUpdate, long FirstStep, long LastStep);

/// <summary>Summary of log10(|x| + 1e−8) over one stage of one gradient file.</summary>
/// <param name="Series">The file's display name.</param>
/// <param name="Kind"><c>rl</c> or <c>supervised</c>.</param>
/// <param name="Quantity">g or Δθ.</param>
/// <param name="Stage">The stage.</param>
/// <param name="Values">How many values (records × coordinates).</param>
/// <param name="Min">Minimum of log10(|x| + 1e−8).</param>
/// <param name="Max">Maximum.</param>
/// <param name="Mean">Mean.</param>
/// <param name="Std">Standard deviation (population, ddof 0).</param>
/// <param name="Median">Median.</param>
/// <param name="FractionTiny">Fraction of values with |x| &lt; 1e−6.</param>
/// <param name="FractionZero">Fraction of values exactly 0 (e.g. weights fed by inputs that are always 0).</param>
public sealed record StageStatistics(string Series, string Kind, GradientQuantity Quantity, GradientStage Stage, long Values,
    double Min, double Max, double Mean, double Std, double Median, double FractionTiny, double FractionZero);

/// <summary>A gradient file to analyse, with its display name.</summary>
/// <param name="Name">Display name (legend, tables).</param>
/// <param name="Path">The file.</param>
/// <param name="Data">Its content.</param>
public sealed record GradientSeries(string Name, string Path, GradientData Data);

/// <summary>Histograms of one series: one density per stage over the shared bins.</summary>
/// <param name="Series">The series.</param>
/// <param name="Stages">Its stages.</param>
/// <param name="Densities">Probability density per stage and bin (integrates to 1 over the bins).</param>
public sealed record SeriesHistograms(GradientSeries Series, IReadOnlyList<GradientStage> Stages, IReadOnlyList<double[]> Densities);

/// <summary>The result of <see cref="GradientAnalysis.Analyze"/>.</summary>
/// <param name="Quantity">The quantity histogrammed.</param>
/// <param name="BinLow">Left edge of the first bin.</param>
/// <param name="BinWidth">Width of every bin.</param>
/// <param name="Histograms">Per series, in input order.</param>
/// <param name="Statistics">Per series, quantity (g and Δθ) and stage.</param>
public sealed record GradientAnalysisResult(GradientQuantity Quantity, double BinLow, double BinWidth, IReadOnlyList<SeriesHistograms> Histograms, IReadOnlyList<StageStatistics> Statistics)
{
    /// <summary>Number of bins.</summary>
    public int Bins => Histograms.Count == 0 ? 0 : Histograms[0].Densities.Count == 0 ? 0 : Histograms[0].Densities[0].Length;
}

/// <summary>
/// The paper's gradient-distribution analysis (§3, Fig. 1; docs/algorithms.md): at several stages of training (by
/// default the first, middle and last tenth of the updates), the distribution of
/// log10(|g| + 1e−8) over the recorded coordinates, as histograms on shared bins and as summary
/// statistics (min, max, mean, standard deviation, median, fraction of |g| &lt; 1e−6, fraction
/// exactly 0).
/// </summary>
public static class GradientAnalysis
{
    /// <summary>The ε inside log10(|g| + ε), as in the reference.</summary>
    public const double Epsilon = 1e-8;

    /// <summary>Values with |x| below this count as "tiny".</summary>
    public const double TinyThreshold = 1e-6;

    /// <summary>The default stage positions: first, middle and last.</summary>
    public static readonly IReadOnlyList<double> DefaultPositions = [0.0, 0.5, 1.0];

    /// <summary>The default stage width: a tenth of the updates.</summary>
    public const double DefaultWidth = 0.1;

    /// <summary>The default histogram bin width (in decades).</summary>
    public const double DefaultBinWidth = 0.25;

    /// <summary>log10(|x| + 1e−8).</summary>
    public static double LogAbs(float x) => Math.Log10(Math.Abs((double)x) + Epsilon);

    /// <summary>
    /// The stages of the n records of <paramref name="data"/>: for each position p in [0, 1], the window of
    /// c = max(1, round(width·n)) consecutive records starting at round(p·(n − c)).
    /// </summary>
    /// <exception cref="ArgumentException">No records, a position outside [0, 1], or a width outside (0, 1].</exception>
    public static IReadOnlyList<GradientStage> Stages(GradientData data, IReadOnlyList<double> positions, double width)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(positions);
        int n = data.Records;
        if (n == 0) throw new ArgumentException("The gradient file holds no complete record.", nameof(data));
        if (!(width > 0 && width <= 1)) throw new ArgumentException($"The stage width must be in (0, 1]; got {width}.", nameof(width));
        if (positions.Count == 0) throw new ArgumentException("At least one stage is needed.", nameof(positions));
        var stages = new List<GradientStage>();
        foreach (double p in positions)
        {
            if (!(p >= 0 && p <= 1)) throw new ArgumentException($"Stage positions must be in [0, 1]; got {p}.", nameof(positions));
            int c = Math.Clamp((int)Math.Round(width * n, MidpointRounding.AwayFromZero), 1, n);
            int start = Math.Clamp((int)Math.Round(p * (n - c), MidpointRounding.AwayFromZero), 0, n - c);
            stages.Add(new GradientStage(StageLabel(p, width), p, start, c, data.Updates[start], data.Updates[start + c - 1], data.Steps[start], data.Steps[start + c - 1]));
        }

        return stages;
    }

    /// <summary>"first 10 %", "middle 10 %", "last 10 %", or "10 % at 30 %".</summary>
    public static string StageLabel(double position, double width)
    {
        string w = (width * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";
        return position switch
        {
            0 => $"first {w}",
            0.5 => $"middle {w}",
            1 => $"last {w}",
            _ => $"{w} at {(position * 100).ToString("0.#", CultureInfo.InvariantCulture)} %",
        };
    }

    /// <summary>The raw recorded values (g or Δθ) of a stage, [records × coordinates].</summary>
    public static ReadOnlySpan<float> Raw(GradientData data, GradientStage stage, GradientQuantity quantity)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(stage);
        int s = data.Header.Coords;
        float[] source = quantity == GradientQuantity.Gradient ? data.Grads : data.Deltas;
        return source.AsSpan(stage.FirstRecord * s, stage.Records * s);
    }

    /// <summary>log10(|x| + 1e−8) of every value.</summary>
    public static double[] LogValues(ReadOnlySpan<float> raw)
    {
        var result = new double[raw.Length];
        for (int i = 0; i < raw.Length; i++) result[i] = LogAbs(raw[i]);
        return result;
    }

    /// <summary>Statistics of a stage's raw values (<see cref="Raw"/>): of log10(|x| + 1e−8), and the fraction of |x| &lt; 1e−6.</summary>
    /// <exception cref="ArgumentException">No values.</exception>
    public static StageStatistics Statistics(string series, string kind, GradientQuantity quantity, GradientStage stage, ReadOnlySpan<float> raw)
    {
        if (raw.Length == 0) throw new ArgumentException("No values.", nameof(raw));
        double[] logs = LogValues(raw);
        int n = logs.Length;
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
        long tiny = 0, zero = 0;
        for (int i = 0; i < n; i++)
        {
            double v = logs[i];
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            sum += v;
            if (Math.Abs(raw[i]) < TinyThreshold) tiny++;
            if (raw[i] == 0) zero++;
        }

        double mean = sum / n, ss = 0;
        foreach (double v in logs) ss += (v - mean) * (v - mean);
        Array.Sort(logs);
        return new StageStatistics(series, kind, quantity, stage, n, min, max, mean, Math.Sqrt(ss / n), Bootstrap.Quantile(logs, 0.5), (double)tiny / n, (double)zero / n);
    }

    /// <summary>Probability density of <paramref name="values"/> over <paramref name="bins"/> bins of <paramref name="width"/> from <paramref name="low"/> (values outside are clamped into the end bins).</summary>
    public static double[] Density(IReadOnlyList<double> values, double low, double width, int bins)
    {
        ArgumentNullException.ThrowIfNull(values);
        var d = new double[bins];
        if (values.Count == 0) return d;
        foreach (double v in values) d[Math.Clamp((int)Math.Floor((v - low) / width), 0, bins - 1)]++;
        for (int i = 0; i < bins; i++) d[i] /= values.Count * width;
        return d;
    }

    /// <summary>
    /// Analyses every series: statistics of g and Δθ per stage, and histograms of
    /// <paramref name="quantity"/> on bins of <paramref name="binWidth"/> decades shared by all series.
    /// </summary>
    /// <exception cref="ArgumentException">No series, an empty file, or an option out of range.</exception>
    public static GradientAnalysisResult Analyze(IReadOnlyList<GradientSeries> series, IReadOnlyList<double>? positions = null, double width = DefaultWidth,
        double binWidth = DefaultBinWidth, GradientQuantity quantity = GradientQuantity.Gradient)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("No gradient files to analyse.", nameof(series));
        if (!(binWidth > 0) || !double.IsFinite(binWidth)) throw new ArgumentException($"The bin width must be positive; got {binWidth}.", nameof(binWidth));
        positions ??= DefaultPositions;
        var stats = new List<StageStatistics>();
        var values = new List<(GradientSeries S, IReadOnlyList<GradientStage> Stages, List<double[]> Logs)>();
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (GradientSeries s in series)
        {
            var stages = Stages(s.Data, positions, width);
            var logs = new List<double[]>();
            foreach (GradientQuantity q in new[] { GradientQuantity.Gradient, GradientQuantity.Update })
            {
                foreach (GradientStage st in stages)
                {
                    var raw = Raw(s.Data, st, q);
                    var stat = Statistics(s.Name, s.Data.Header.Kind, q, st, raw);
                    stats.Add(stat);
                    if (q != quantity) continue;
                    logs.Add(LogValues(raw));
                    lo = Math.Min(lo, stat.Min);
                    hi = Math.Max(hi, stat.Max);
                }
            }

            values.Add((s, stages, logs));
        }

        double low = Math.Floor(lo / binWidth) * binWidth;
        int bins = Math.Max(1, (int)Math.Floor((hi - low) / binWidth) + 1);
        var histograms = values.Select(v => new SeriesHistograms(v.S, v.Stages, v.Logs.Select(l => Density(l, low, binWidth, bins)).ToList())).ToList();
        return new GradientAnalysisResult(quantity, low, binWidth, histograms, stats);
    }

    /// <summary>
    /// Loads the gradient files of run directories (or the files themselves) as named series: RL
    /// series are named "env · optimizer", supervised ones "supervised · task · optimizer"; the
    /// experiment and config index are appended where names would repeat. Incomplete files are
    /// read up to their last complete record and reported through <paramref name="notes"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">A path has no gradient file.</exception>
    /// <exception cref="InvalidDataException">A file is not a readable gradient file.</exception>
    public static IReadOnlyList<GradientSeries> Load(IEnumerable<string> paths, ICollection<string>? notes = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var loaded = new List<(string Path, GradientData Data)>();
        foreach (string path in paths)
        {
            IReadOnlyList<string> files = File.Exists(path) ? [path] : GradientFile.Find(path);
            if (files.Count == 0)
                throw new FileNotFoundException($"'{path}' holds no gradient file (grads_<env>.bin): run an A2Ccollect or SLCollect config first, e.g. ./optim4rl run --config configs/quick_collect_bdl.json.");
            foreach (string f in files)
            {
                var data = GradientFile.Read(f);
                if (data.Note is not null) notes?.Add($"{f}: {data.Note}");
                loaded.Add((f, data));
            }
        }

        var names = loaded.Select(l => BaseName(l.Data.Header)).ToList();
        var result = new List<GradientSeries>();
        for (int i = 0; i < loaded.Count; i++)
        {
            var h = loaded[i].Data.Header;
            string name = names[i];
            if (names.Count(n => n == name) > 1) name += $" ({(h.Experiment.Length > 0 ? h.Experiment + "/" : "")}{h.ConfigIdx})";
            result.Add(new GradientSeries(name, loaded[i].Path, loaded[i].Data));
        }

        return result;
    }

    /// <summary>The statistics as CSV (header line, one row per series, quantity and stage; invariant culture).</summary>
    public static string StatisticsCsv(IReadOnlyList<StageStatistics> stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("series,kind,quantity,stage,first_update,last_update,first_step,last_step,values,min_log10,max_log10,mean_log10,std_log10,median_log10,fraction_below_1e-6,fraction_zero\n");
        foreach (StageStatistics s in stats)
        {
            sb.Append(inv, $"{Csv(s.Series)},{s.Kind},{QuantityName(s.Quantity)},{Csv(s.Stage.Label)},{s.Stage.FirstUpdate},{s.Stage.LastUpdate},{s.Stage.FirstStep},{s.Stage.LastStep},{s.Values},");
            sb.Append(inv, $"{s.Min:R},{s.Max:R},{s.Mean:R},{s.Std:R},{s.Median:R},{s.FractionTiny:R},{s.FractionZero:R}\n");
        }

        return sb.ToString();
    }

    /// <summary><c>g</c> or <c>delta</c>.</summary>
    public static string QuantityName(GradientQuantity q) => q == GradientQuantity.Gradient ? "g" : "delta";

    private static string BaseName(GradientFileHeader h) =>
        h.Kind == GradientFileHeader.KindSupervised ? $"supervised · {h.Env} · {h.Optimizer}" : $"{h.Env} · {h.Optimizer}";

    private static string Csv(string text) => text.Contains(',') || text.Contains('"') ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
}
