namespace Optim4RL.Experiments;

/// <summary>
/// The directory of one run: <c>&lt;logsRoot&gt;/&lt;experiment&gt;/&lt;k&gt;/</c>, where the experiment is
/// the sweep file's name without <c>.json</c> and k the positive 1-based configuration index.
/// It holds <c>config.json</c> (resolved config, seed recorded), <c>log.txt</c>,
/// <c>result_&lt;env&gt;.csv</c> per task, <c>metrics.csv</c> and TensorBoard event files
/// (<c>events.out.tfevents.*</c>) and, for meta-training, <c>param.json</c> (the learned
/// optimizer's φ). Write files here with <see cref="AtomicFile"/>.
/// </summary>
/// <remarks>Layout and guarantees: docs/run-directories.md and docs/experiment-configs.md ("Where results
/// go"); the reference's main.py.</remarks>
public sealed class RunDirectory
{
    /// <summary>The default root of all run directories, relative to the working directory.</summary>
    public const string DefaultLogsRoot = "logs";

    /// <summary>Name of the resolved-config file.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>Name of the text log.</summary>
    public const string LogFileName = "log.txt";

    /// <summary>Name of the meta-parameter file written by meta-training (JSON; the reference wrote param.pickle).</summary>
    public const string ParamFileName = "param.json";

    /// <summary>Wraps an existing or planned run directory path (nothing is created).</summary>
    public RunDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    /// <summary>The directory path.</summary>
    public string Path { get; }

    /// <summary>Path of <c>config.json</c>.</summary>
    public string ConfigPath => PathOf(ConfigFileName);

    /// <summary>Path of <c>log.txt</c>.</summary>
    public string LogPath => PathOf(LogFileName);

    /// <summary>Path of <c>param.json</c> (the meta-parameters φ saved by meta-training).</summary>
    public string ParamPath => PathOf(ParamFileName);

    /// <summary>
    /// The experiment name of a sweep file: its file name without the <c>.json</c> suffix
    /// (<c>configs/meta_rl_catch.json</c> → <c>meta_rl_catch</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The path has no file name.</exception>
    public static string ExperimentName(string configFilePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(configFilePath);
        string name = System.IO.Path.GetFileName(configFilePath);
        if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            name = name[..^".json".Length];
        }

        if (name.Length == 0)
        {
            throw new ArgumentException($"'{configFilePath}' does not name a config file.", nameof(configFilePath));
        }

        return name;
    }

    /// <summary>The path <c>&lt;logsRoot&gt;/&lt;experiment&gt;/&lt;k&gt;</c> (nothing is created).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="configIdx"/> is below 1 (normalise negative indices with <see cref="SweepConfig.NormalizeIndex"/>).</exception>
    /// <exception cref="ArgumentException">The experiment name is empty or contains a directory separator.</exception>
    public static RunDirectory For(string experiment, int configIdx, string logsRoot = DefaultLogsRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(experiment);
        ArgumentException.ThrowIfNullOrEmpty(logsRoot);
        ArgumentOutOfRangeException.ThrowIfLessThan(configIdx, 1);
        if (experiment.IndexOfAny(['/', '\\']) >= 0 || experiment is "." or "..")
        {
            throw new ArgumentException($"Experiment name '{experiment}' must be a plain file name.", nameof(experiment));
        }

        return new RunDirectory(System.IO.Path.Combine(logsRoot, experiment, configIdx.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Like <see cref="For"/>, and creates the directory (parents included).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="configIdx"/> is below 1.</exception>
    /// <exception cref="IOException">The directory cannot be created.</exception>
    public static RunDirectory Create(string experiment, int configIdx, string logsRoot = DefaultLogsRoot)
    {
        RunDirectory run = For(experiment, configIdx, logsRoot);
        Directory.CreateDirectory(run.Path);
        return run;
    }

    /// <summary>Creates the directory of run <paramref name="configIdx"/> (negative indices allowed) of a sweep.</summary>
    /// <exception cref="ConfigException">The index is 0 or below −Total.</exception>
    /// <exception cref="IOException">The directory cannot be created.</exception>
    public static RunDirectory Create(SweepConfig sweep, int configIdx, string logsRoot = DefaultLogsRoot)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        return Create(sweep.Name, sweep.NormalizeIndex(configIdx), logsRoot);
    }

    /// <summary>
    /// The files of a previous run in this directory (everything except the lock files and
    /// temporary files); empty when the directory does not exist or holds no results.
    /// </summary>
    public IReadOnlyList<string> ExistingFiles()
    {
        if (!Directory.Exists(Path)) return [];
        return Directory.EnumerateFileSystemEntries(Path)
            .Select(System.IO.Path.GetFileName)
            .Where(n => n is not null && !RunLock.IsLockFile(n) && !(n.StartsWith('.') && n.EndsWith(".tmp", StringComparison.Ordinal)))
            .Select(n => n!)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Deletes every file and folder of a previous run (<see cref="ExistingFiles"/>); call it holding the directory's <see cref="RunLock"/>.</summary>
    /// <exception cref="IOException">A file cannot be deleted.</exception>
    public void Clear()
    {
        foreach (string name in ExistingFiles())
        {
            string p = PathOf(name);
            if (Directory.Exists(p)) Directory.Delete(p, recursive: true);
            else File.Delete(p);
        }
    }

    /// <summary>The path of a file in this directory.</summary>
    public string PathOf(string fileName) => System.IO.Path.Combine(Path, fileName);

    /// <summary>Path of <c>result_&lt;env&gt;.csv</c> for one task.</summary>
    public string ResultPath(string envName) => PathOf(ResultCsv.FileName(envName));

    /// <inheritdoc/>
    public override string ToString() => Path;
}
