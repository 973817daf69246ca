namespace Optim4RL.Experiments;

/// <summary>One row of a learning curve: environment steps so far and the mean return of the
/// episodes that finished in that training iteration (NaN when none finished).</summary>
/// <param name="Step">Environment steps taken so far (all environments together).</param>
/// <param name="Return">Mean return of the episodes finished in the iteration.</param>
public readonly record struct ResultRow(long Step, double Return);

/// <summary>
/// The learning curve of one task, <c>result_&lt;env&gt;.csv</c> in a run directory, with header
/// <c>Step,Return</c>. Numbers use the invariant culture; returns are written in the shortest
/// form that reads back to the same double ("R"), NaN as <c>NaN</c>. Every <see cref="Save"/>
/// rewrites the whole file through <see cref="AtomicFile"/>, so the file on disk is always complete.
/// Thread-safe.
/// </summary>
/// <remarks>Learning curves: return against environment steps (docs/evaluation-protocol.md);
/// the reference kept the same columns in result_&lt;env&gt;.feather.</remarks>
public sealed class ResultCsv
{
    /// <summary>The header line.</summary>
    public const string Header = "Step,Return";

    private readonly List<ResultRow> _rows = [];
    private readonly Lock _gate = new();

    /// <summary>An empty curve that will be saved to <paramref name="path"/> (nothing is written yet).</summary>
    public ResultCsv(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    /// <summary>The file the curve is saved to.</summary>
    public string Path { get; }

    /// <summary>The number of rows so far.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _rows.Count;
            }
        }
    }

    /// <summary>A snapshot of the rows so far.</summary>
    public IReadOnlyList<ResultRow> Rows
    {
        get
        {
            lock (_gate)
            {
                return _rows.ToArray();
            }
        }
    }

    /// <summary>The file name for a task: <c>result_&lt;envName&gt;.csv</c>.</summary>
    public static string FileName(string envName)
    {
        ArgumentException.ThrowIfNullOrEmpty(envName);
        return $"result_{envName}.csv";
    }

    /// <summary>Opens a curve at <paramref name="path"/>, loading its rows when the file exists (to resume a run).</summary>
    /// <exception cref="InvalidDataException">The existing file is not a Step,Return CSV.</exception>
    public static ResultCsv Open(string path)
    {
        var csv = new ResultCsv(path);
        if (File.Exists(path))
        {
            csv._rows.AddRange(Read(path));
        }

        return csv;
    }

    /// <summary>Appends a row in memory; call <see cref="Save"/> to write the file.</summary>
    public void Add(long step, double value)
    {
        lock (_gate)
        {
            _rows.Add(new ResultRow(step, value));
        }
    }

    /// <summary>Drops the rows whose step is greater than <paramref name="step"/> (resuming from a checkpoint taken at that step).</summary>
    public void RemoveAfter(long step)
    {
        lock (_gate)
        {
            _rows.RemoveAll(r => r.Step > step);
        }
    }

    /// <summary>Atomically rewrites the file with every row so far.</summary>
    /// <exception cref="IOException">The file cannot be written; the previous version stays intact.</exception>
    public void Save()
    {
        lock (_gate)
        {
            AtomicFile.WriteAllText(Path, Format(_rows));
        }
    }

    /// <summary>The CSV text for <paramref name="rows"/>: the header, then one "step,return" line each, '\n' line ends.</summary>
    public static string Format(IEnumerable<ResultRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder(Header).Append('\n');
        foreach (ResultRow row in rows)
        {
            text.Append(row.Step.ToString(CultureInfo.InvariantCulture))
                .Append(',')
                .Append(row.Return.ToString("R", CultureInfo.InvariantCulture))
                .Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Reads a curve written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The header is not <c>Step,Return</c> or a line does not hold an integer and a number.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static IReadOnlyList<ResultRow> Read(string path)
    {
        string[] lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0].Trim() != Header)
        {
            throw new InvalidDataException($"{path}: the first line must be '{Header}'");
        }

        var rows = new List<ResultRow>(lines.Length - 1);
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            string[] cells = line.Split(',');
            if (cells.Length != 2 ||
                !long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long step) ||
                !double.TryParse(cells[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                throw new InvalidDataException($"{path}: line {i + 1} must be 'step,return', found '{line}'");
            }

            rows.Add(new ResultRow(step, value));
        }

        return rows;
    }
}
