namespace Optim4RL.Agents;

/// <summary>
/// Sums rewards per environment and records the returns of episodes as they finish, so a
/// trainer can report "the mean return of the episodes that finished in this iteration"
/// (docs/evaluation-protocol.md). Not thread-safe: one tracker per agent.
/// </summary>
public sealed class EpisodeTracker
{
    private readonly double[] _running;

    /// <summary>Creates a tracker for <paramref name="numEnvs"/> environments.</summary>
    public EpisodeTracker(int numEnvs) => _running = new double[numEnvs];

    /// <summary>Sum of the returns of episodes finished since the last <see cref="Drain"/>.</summary>
    public double FinishedReturnSum { get; private set; }

    /// <summary>Number of episodes finished since the last <see cref="Drain"/>.</summary>
    public int FinishedCount { get; private set; }

    /// <summary>Sum over environments of the rewards of their unfinished episodes so far; with <see cref="FinishedReturnSum"/>, all reward recorded since the last drain.</summary>
    public double UnfinishedReturnSum
    {
        get
        {
            double sum = 0;
            foreach (double x in _running) sum += x;
            return sum;
        }
    }

    /// <summary>Adds one step's reward of environment <paramref name="env"/>; closes the episode when <paramref name="done"/>.</summary>
    public void Record(int env, float reward, bool done)
    {
        _running[env] += reward;
        if (done)
        {
            FinishedReturnSum += _running[env];
            FinishedCount++;
            _running[env] = 0;
        }
    }

    /// <summary>Forgets the unfinished episode of environment <paramref name="env"/> (after an external reset).</summary>
    public void Restart(int env) => _running[env] = 0;

    /// <summary>Returns (sum, count) of finished episodes and starts a new counting window.</summary>
    public (double Sum, int Count) Drain()
    {
        var r = (FinishedReturnSum, FinishedCount);
        FinishedReturnSum = 0;
        FinishedCount = 0;
        return r;
    }

    /// <summary>Drains every tracker in order and returns the totals (sum of returns, episodes).</summary>
    public static (double Sum, int Count) DrainAll(IEnumerable<EpisodeTracker> trackers)
    {
        ArgumentNullException.ThrowIfNull(trackers);
        double sum = 0;
        int count = 0;
        foreach (var tracker in trackers)
        {
            var (s, c) = tracker.Drain();
            sum += s;
            count += c;
        }
        return (sum, count);
    }

    /// <summary>Writes the running returns of unfinished episodes and the undrained totals (for exact resumption).</summary>
    public void Save(BinaryWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.Write(_running.Length);
        foreach (double x in _running) w.Write(x);
        w.Write(FinishedReturnSum);
        w.Write(FinishedCount);
    }

    /// <summary>Restores what <see cref="Save"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The saved tracker has another environment count.</exception>
    public void Load(BinaryReader r)
    {
        ArgumentNullException.ThrowIfNull(r);
        int n = r.ReadInt32();
        if (n != _running.Length) throw new InvalidDataException($"saved episode tracker has {n} environments, this one has {_running.Length}");
        for (int i = 0; i < n; i++) _running[i] = r.ReadDouble();
        FinishedReturnSum = r.ReadDouble();
        FinishedCount = r.ReadInt32();
    }
}
