using System.Globalization;
using Optim4RL.Experiments;

namespace Optim4RL.Analysis;

/// <summary>
/// One column of a run's <c>metrics.csv</c> (docs/run-directories.md) as a curve against environment steps, so
/// <c>optim4rl plot --metric</c> draws training diagnostics (update size, entropy, gradient norm, KL…) the way it
/// draws returns: per task, mean over seeds with a bootstrap band.
/// </summary>
public static class MetricSeries
{
    /// <summary>The panel name of a meta-training run's rows (its metrics.csv has no <c>env</c> column).</summary>
    public const string MetaTrainingPanel = "meta-training";

    /// <summary>
    /// The column <paramref name="column"/> of <c>metrics.csv</c> in <paramref name="runDirectory"/>, per task
    /// (the <c>env</c> column; <see cref="MetaTrainingPanel"/> for meta-training runs), as (step, value) rows in
    /// file order. Empty and unparsable cells become NaN, which the curves skip.
    /// </summary>
    /// <returns>The series per task; empty when the run has no metrics.csv.</returns>
    /// <exception cref="InvalidDataException">The file has no <c>step</c> column, or no column named <paramref name="column"/> (the message lists those it has).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<ResultRow>> Load(string runDirectory, string column)
    {
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        ArgumentException.ThrowIfNullOrEmpty(column);
        string path = Path.Combine(runDirectory, RunMetrics.FileName);
        var series = new SortedDictionary<string, IReadOnlyList<ResultRow>>(StringComparer.Ordinal);
        if (!File.Exists(path)) return series;

        using var reader = new StreamReader(path);
        string[] header = (reader.ReadLine() ?? "").Split(',');
        int step = Array.IndexOf(header, "step"), value = Array.IndexOf(header, column), env = Array.IndexOf(header, "env");
        if (step < 0) throw new InvalidDataException($"{path}: no 'step' column; is it a metrics.csv written by optim4rl run?");
        if (value < 0)
        {
            string have = string.Join(", ", header.Where(h => !RunMetrics.KeyColumns.Contains(h)));
            throw new InvalidDataException($"{path} has no column '{column}'; it has: {have}.");
        }

        var rows = new Dictionary<string, List<ResultRow>>(StringComparer.Ordinal);
        int line = 1;
        for (string? text = reader.ReadLine(); text is not null; text = reader.ReadLine())
        {
            line++;
            if (text.Length == 0) continue;
            string[] cells = text.Split(',');
            if (cells.Length != header.Length || !long.TryParse(cells[step], NumberStyles.Integer, CultureInfo.InvariantCulture, out long s))
                throw new InvalidDataException($"{path}, line {line}: expected {header.Length} cells with an integer step.");
            double v = double.TryParse(cells[value], NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : double.NaN;
            string task = env >= 0 ? cells[env] : MetaTrainingPanel;
            if (!rows.TryGetValue(task, out var list)) rows[task] = list = [];
            list.Add(new ResultRow(s, v));
        }

        foreach ((string task, var list) in rows) series[task] = list;
        return series;
    }
}
