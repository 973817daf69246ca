namespace Optim4RL.Experiments;

/// <summary>
/// The console summary of a run, one line per task, and how the run ends: each task logs its line, and a
/// cancelled run stops after the task it was in, with its results so far saved.
/// </summary>
internal sealed class RunSummary(RunDirectory dir, RunLog log)
{
    private readonly List<string> _lines = [];

    /// <summary>Logs and keeps a task's <paramref name="line"/>; the interrupted run's outcome when <paramref name="cancel"/> is set, else null.</summary>
    public RunOutcome? Add(string line, CancellationToken cancel)
    {
        log.Info(line);
        _lines.Add(line);
        if (!cancel.IsCancellationRequested) return null;
        log.Warning("interrupted: results so far are saved");
        return new RunOutcome(dir.Path, false, _lines);
    }

    /// <summary>The outcome of a run that did all its tasks.</summary>
    public RunOutcome Completed() => new(dir.Path, true, _lines);
}
