namespace Optim4RL.Experiments;

/// <summary>
/// A run's text log, <c>log.txt</c> in its run directory: one line per message,
/// <c>yyyy-MM-dd HH:mm:ss,fff - LEVEL: message</c> (local time, the format of Python's logging
/// that the reference used). Lines are appended and flushed at once, so the file is readable
/// while the run goes on and survives a crash. Thread-safe.
/// </summary>
/// <remarks>The per-run directory: docs/run-directories.md; the reference's utils/logger.py.</remarks>
public sealed class RunLog : IDisposable
{
    private readonly Lock _gate = new();
    private readonly StreamWriter _writer;
    private readonly TextWriter? _echo;
    private bool _disposed;

    /// <summary>Opens (or creates) the log at <paramref name="path"/> for appending.</summary>
    /// <param name="path">The log file; its directory is created when missing.</param>
    /// <param name="echo">Where to copy every line as well (e.g. <see cref="Console.Out"/>), or null.</param>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public RunLog(string path, TextWriter? echo = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        _echo = echo;
        Path = path;
    }

    /// <summary>The log file's path.</summary>
    public string Path { get; }

    /// <summary>Appends an INFO line.</summary>
    /// <exception cref="ObjectDisposedException">The log was disposed.</exception>
    public void Info(string message) => Write("INFO", message);

    /// <summary>Appends a WARNING line.</summary>
    /// <exception cref="ObjectDisposedException">The log was disposed.</exception>
    public void Warning(string message) => Write("WARNING", message);

    /// <summary>Appends an ERROR line.</summary>
    /// <exception cref="ObjectDisposedException">The log was disposed.</exception>
    public void Error(string message) => Write("ERROR", message);

    /// <summary>Appends one timestamped line with the given level.</summary>
    /// <exception cref="ObjectDisposedException">The log was disposed.</exception>
    public void Write(string level, string message)
    {
        ArgumentNullException.ThrowIfNull(level);
        ArgumentNullException.ThrowIfNull(message);
        string stamp = DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture);
        string line = $"{stamp} - {level}: {message}";
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _writer.WriteLine(line);
            _echo?.WriteLine(line);
        }
    }

    /// <summary>Flushes and closes the file.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _writer.Dispose();
        }
    }
}
