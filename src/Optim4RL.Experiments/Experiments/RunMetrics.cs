using System.Diagnostics;

namespace Optim4RL.Experiments;

/// <summary>
/// A run's training metrics (docs/run-directories.md, "metrics.csv and TensorBoard"): one row per
/// update (A2C, PPO) or meta-iteration (meta-training) in <c>metrics.csv</c>, and the same numbers as
/// scalars in a TensorBoard event file (<see cref="TensorBoardEventWriter"/>) in the run directory.
/// </summary>
/// <remarks>
/// Rows are kept in memory; <see cref="Save"/> rewrites <c>metrics.csv</c> atomically and flushes the
/// event file. The runners call it where they save their other results, so both files always cover
/// the same updates as the result CSV. Every column is a result of the run (identical on a rerun of
/// the same seed) except <c>env_steps_per_s</c> and <c>wall_time_s</c>, which measure the machine.
/// Empty cells are NaN (no episode finished, a term that does not apply). Not thread-safe.
/// </remarks>
internal sealed class RunMetrics : IDisposable
{
    /// <summary>The CSV's file name in the run directory.</summary>
    public const string FileName = "metrics.csv";

    /// <summary>Columns of an A2C run (per update).</summary>
    public static readonly string[] A2CColumns =
        ["env", "update", "step", "loss", "policy_loss", "value_loss", "entropy_loss", "entropy_nats", "mean_return",
         "grad_norm", "update_norm", "learning_rate", "env_steps_per_s", "wall_time_s"];

    /// <summary>Columns of a PPO run (per training step); the loss terms, KL, clip fraction and norms are means over its minibatch updates.</summary>
    public static readonly string[] PpoColumns =
        ["env", "update", "step", "loss", "policy_loss", "value_loss", "entropy_loss", "entropy_nats", "approx_kl_nats", "clip_fraction", "mean_return",
         "grad_norm", "update_norm", "learning_rate", "env_steps_per_s", "wall_time_s"];

    /// <summary>Columns of a meta-training run (per meta-iteration).</summary>
    public static readonly string[] MetaColumns =
        ["iteration", "step", "meta_loss", "meta_grad_norm", "phi_update_norm", "agents_mean_return",
         "agents_policy_loss", "agents_value_loss", "agents_entropy_loss", "agents_entropy_nats", "env_steps_per_s", "wall_time_s"];

    /// <summary>Columns that identify a row rather than measure something: not written to TensorBoard.</summary>
    public static readonly string[] KeyColumns = ["env", "update", "iteration", "step"];

    private readonly string _path;
    private readonly string _header;
    private readonly string[] _columns;
    private readonly StringBuilder _rows;
    private readonly TensorBoardEventWriter _events;
    private readonly Dictionary<string, string[]> _tags = new(StringComparer.Ordinal);
    private readonly List<int> _scalarColumns = [];
    private readonly double[] _values;
    private readonly float[] _scalars;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly double _wallOffset;

    private RunMetrics(RunDirectory dir, string[] columns, string? restoredCsv)
    {
        _columns = columns;
        _header = string.Join(",", columns) + "\n";
        for (int c = 0; c < columns.Length; c++)
            if (!KeyColumns.Contains(columns[c]) && columns[c] != "wall_time_s") _scalarColumns.Add(c);
        _values = new double[columns.Length];
        _scalars = new float[_scalarColumns.Count];
        _path = dir.PathOf(FileName);
        _rows = new StringBuilder(_header);
        if (restoredCsv is not null && restoredCsv.StartsWith(_header, StringComparison.Ordinal))
        {
            _rows.Clear().Append(restoredCsv);
            _wallOffset = LastWallTime(restoredCsv);
        }

        _events = new TensorBoardEventWriter(dir.Path);
    }

    /// <summary>Metrics of an A2C run; creates the event file.</summary>
    /// <exception cref="IOException">The event file cannot be created.</exception>
    public static RunMetrics ForA2C(RunDirectory dir) => new(dir, A2CColumns, null);

    /// <summary>Metrics of a PPO run; creates the event file.</summary>
    /// <exception cref="IOException">The event file cannot be created.</exception>
    public static RunMetrics ForPpo(RunDirectory dir) => new(dir, PpoColumns, null);

    /// <summary>
    /// Metrics of a meta-training run, continuing the rows <paramref name="restoredCsv"/> (the CSV text a
    /// checkpoint recorded; null or of other columns: start empty) with <c>wall_time_s</c> going on from
    /// its last row; creates a new event file (a resumed run's events go to a file of their own).
    /// </summary>
    /// <exception cref="IOException">The event file cannot be created.</exception>
    public static RunMetrics ForMeta(RunDirectory dir, string? restoredCsv) => new(dir, MetaColumns, restoredCsv);

    /// <summary>The CSV text so far (header and every row), as <see cref="Save"/> writes it.</summary>
    public string CsvText => _rows.ToString();

    /// <summary>The event file of this process.</summary>
    public string EventFilePath => _events.Path;

    /// <summary>Seconds since the run started (continuing a resumed run's).</summary>
    private double WallTime => _wallOffset + Stopwatch.GetElapsedTime(_started).TotalSeconds;

    /// <summary>Records one A2C or PPO update of task <paramref name="env"/>.</summary>
    /// <param name="env">The task.</param>
    /// <param name="log">What the update returned.</param>
    /// <param name="learningRate">The optimizer's learning rate (α for a learned optimizer).</param>
    /// <param name="envSteps">Environment steps the update took.</param>
    /// <param name="seconds">Wall-clock seconds the update took.</param>
    public void AddUpdate(string env, IterationLog log, double learningRate, long envSteps, double seconds)
    {
        var m = log.Metrics;
        bool ppo = ReferenceEquals(_columns, PpoColumns);
        int i = 0;
        _values[i++] = double.NaN; // env: a text cell
        _values[i++] = log.Iteration;
        _values[i++] = log.Step;
        _values[i++] = log.Loss;
        _values[i++] = m.PolicyLoss;
        _values[i++] = m.ValueLoss;
        _values[i++] = m.EntropyLoss;
        _values[i++] = m.Entropy;
        if (ppo)
        {
            _values[i++] = m.ApproxKl;
            _values[i++] = m.ClipFraction;
        }

        _values[i++] = log.MeanReturn;
        _values[i++] = m.GradNorm;
        _values[i++] = m.UpdateNorm;
        _values[i++] = learningRate;
        _values[i++] = envSteps / seconds;
        _values[i++] = WallTime;
        Debug.Assert(i == _columns.Length);
        _rows.Append(env);
        AppendRow(1);
        WriteEvents(env, log.Step);
    }

    /// <summary>Records one meta-iteration that took <paramref name="seconds"/>.</summary>
    public void AddMeta(MetaIterationLog log, double seconds)
    {
        int i = 0;
        _values[i++] = log.Iteration;
        _values[i++] = log.Step;
        _values[i++] = log.MetaLoss;
        _values[i++] = log.MetaGradNorm;
        _values[i++] = log.PhiUpdateNorm;
        _values[i++] = log.MeanReturn;
        _values[i++] = log.MetaLossTerms.Policy;
        _values[i++] = log.MetaLossTerms.Value;
        _values[i++] = log.MetaLossTerms.EntropyLoss;
        _values[i++] = log.MetaLossTerms.Entropy;
        _values[i++] = log.EnvSteps / seconds;
        _values[i++] = WallTime;
        Debug.Assert(i == _columns.Length);
        AppendRow(0);
        WriteEvents("meta", log.Iteration);
    }

    /// <summary>Atomically rewrites <c>metrics.csv</c> with every row so far and flushes the event file.</summary>
    /// <exception cref="IOException">A file cannot be written.</exception>
    public void Save()
    {
        AtomicFile.WriteAllText(_path, _rows.ToString());
        _events.Flush();
    }

    /// <summary>Closes the event file (flushing what it holds; <c>metrics.csv</c> is written only by <see cref="Save"/>).</summary>
    public void Dispose() => _events.Dispose();

    private void AppendRow(int first)
    {
        var inv = CultureInfo.InvariantCulture;
        for (int c = first; c < _columns.Length; c++)
        {
            if (c > 0) _rows.Append(',');
            double v = _values[c];
            if (!double.IsFinite(v)) continue; // empty cell: NaN (nothing to report) — a diverged update never gets here
            string name = _columns[c];
            if (name is "update" or "iteration" or "step") _rows.Append(inv, $"{(long)v}");
            else if (name == "wall_time_s") _rows.Append(inv, $"{v:F3}");
            else if (name == "env_steps_per_s") _rows.Append(inv, $"{v:F1}");
            else _rows.Append(inv, $"{v:R}");
        }

        _rows.Append('\n');
    }

    /// <summary>One event at <paramref name="step"/> with the row's finite measurements, tagged <c>&lt;prefix&gt;/&lt;column&gt;</c>.</summary>
    private void WriteEvents(string prefix, long step)
    {
        if (!_tags.TryGetValue(prefix, out var tags))
        {
            tags = _scalarColumns.Select(c => $"{prefix}/{_columns[c]}").ToArray();
            _tags[prefix] = tags;
        }

        Span<int> keep = stackalloc int[_scalarColumns.Count];
        int n = 0;
        for (int k = 0; k < _scalarColumns.Count; k++)
        {
            double v = _values[_scalarColumns[k]];
            if (double.IsFinite(v)) keep[n++] = k;
        }

        if (n == _scalarColumns.Count)
        {
            for (int k = 0; k < n; k++) _scalars[k] = (float)_values[_scalarColumns[k]];
            _events.WriteScalars(step, tags, _scalars);
            return;
        }

        var someTags = new string[n];
        for (int k = 0; k < n; k++)
        {
            someTags[k] = tags[keep[k]];
            _scalars[k] = (float)_values[_scalarColumns[keep[k]]];
        }

        _events.WriteScalars(step, someTags, _scalars.AsSpan(0, n));
    }

    /// <summary>The last row's wall_time_s of a restored CSV (0 when there is none).</summary>
    private static double LastWallTime(string csv)
    {
        string[] lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 2) return 0;
        string last = lines[^1][(lines[^1].LastIndexOf(',') + 1)..];
        return double.TryParse(last, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) ? t : 0;
    }
}
