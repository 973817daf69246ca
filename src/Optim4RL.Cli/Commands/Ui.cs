using Optim4RL.Experiments;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Optim4RL.Cli.Commands;

/// <summary>Console helpers shared by the verbs: progress bars with rate and ETA, errors.</summary>
internal static class Ui
{
    /// <summary>True when the NO_COLOR environment variable is set to anything non-empty (no-color.org).</summary>
    public static bool NoColor => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    /// <summary>Prints a one-line error to stderr (never wrapped, so logs and scripts see one line); returns exit code 1.</summary>
    public static int Error(string message)
    {
        bool color = !Console.IsErrorRedirected && !NoColor && AnsiConsole.Profile.Capabilities.Ansi;
        Console.Error.WriteLine((color ? "\u001b[31merror:\u001b[0m " : "error: ") + message.ReplaceLineEndings(" "));
        return 1;
    }

    /// <summary>The one-line message of <paramref name="e"/>, without .NET's " (Parameter 'x')" suffix.</summary>
    public static int Error(Exception e) =>
        Error(e is ArgumentException { ParamName: { } p } ? e.Message.Replace($" (Parameter '{p}')", "", StringComparison.Ordinal) : e.Message);

    /// <summary>
    /// The last resort for an exception no verb expected: a one-line error on the console (an
    /// expected kind, such as an I/O error, reads like any other error; anything else is named as a
    /// bug), with the full details written to a crash file whose path the line gives.
    /// </summary>
    public static int Unexpected(Exception e, string[] args)
    {
        if (e is Experiments.ConfigException or IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException
            or Agents.TrainingDivergedException or NotSupportedException or OutOfMemoryException)
        {
            return e is OutOfMemoryException
                ? Error("out of memory; lower env.num_envs (agents or environments) or run fewer things at once.")
                : Error(e);
        }

        string crash = Path.Combine(Path.GetTempPath(), $"optim4rl-crash-{Environment.ProcessId}.txt");
        try
        {
            File.WriteAllText(crash, $"optim4rl {string.Join(' ', args)}\n{e}\n");
        }
        catch (IOException)
        {
            crash = "(could not be written)";
        }

        return Error($"unexpected {e.GetType().Name}: {e.Message} This is a bug in optim4rl; please report it with the command line and {crash}.");
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a worker thread while showing one progress bar per phase
    /// reported through the <see cref="IProgress{T}"/> it receives (rate in <paramref name="unit"/>/s and ETA).
    /// </summary>
    public static T WithProgress<T>(string unit, Func<IProgress<RunProgress>, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Plain output for logs and CI: a line every ~10 % of a phase.
            var last = new Dictionary<string, int>();
            var plain = new Progress<RunProgress>(p =>
            {
                int decile = p.Total > 0 ? (int)(10 * p.Done / p.Total) : 0;
                lock (last)
                {
                    if (last.TryGetValue(p.Phase, out int d) && d == decile) return;
                    last[p.Phase] = decile;
                }
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {p.Phase}: {p.Done}/{p.Total} {p.Status}");
            });
            return work(plain);
        }
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RateColumn(unit), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var reporter = new SyncProgress(p =>
                {
                    lock (tasks)
                    {
                        if (!tasks.TryGetValue(p.Phase, out var t))
                        {
                            t = ctx.AddTask(Markup.Escape(p.Phase), maxValue: Math.Max(1, p.Total));
                            tasks[p.Phase] = t;
                        }
                        t.Value = p.Done;
                        t.Description = Markup.Escape(string.IsNullOrEmpty(p.Status) ? p.Phase : $"{p.Phase} · {p.Status}");
                    }
                });
                result = work(reporter);
                lock (tasks) foreach (var t in tasks.Values) t.Value = t.MaxValue;
            });
        return result;
    }

    private sealed class SyncProgress(Action<RunProgress> report) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => report(value);
    }

    private sealed class RateColumn(string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double? speed = task.Speed;
            return new Text(speed is double s ? $"{s:N0} {unit}/s" : $"– {unit}/s", new Style(Color.Grey));
        }
    }
}
