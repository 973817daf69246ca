using System.Runtime.ExceptionServices;
using Optim4RL.Tensors;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>How a <see cref="MuJoCoVectorEnv"/> turns actions into controls.</summary>
public enum MuJoCoActionMode
{
    /// <summary>
    /// Gymnasium v4 and Brax v0.9.4: the action is written into ctrl as it is; MuJoCo clamps it to the
    /// actuator's ctrlrange internally, and the control cost uses the unclamped action. A policy emitting [−1, 1]
    /// therefore drives Humanoid's ±0.4 motors at most at ±0.4 and InvertedPendulum's ±3 motor at most at ±1.
    /// </summary>
    Raw = 0,

    /// <summary>
    /// Brax HEAD style: an action a ∈ [−1, 1] is mapped affinely onto [low, high] of each actuator's ctrlrange
    /// (values outside [−1, 1] extrapolate and are then clamped by MuJoCo); costs use the mapped control.
    /// </summary>
    ScaleToCtrlRange = 1,
}

/// <summary>Settings of a <see cref="MuJoCoVectorEnv"/>.</summary>
public sealed record MuJoCoEnvOptions
{
    /// <summary>Steps before an episode is truncated (Gymnasium's TimeLimit; 1000).</summary>
    public int MaxEpisodeSteps { get; init; } = 1000;

    /// <summary>Multiplies every reward (the agent configs' <c>reward_scaling</c> may be applied here or in the agent; 1 by default).</summary>
    public float RewardScaling { get; init; } = 1f;

    /// <summary>How actions become controls (<see cref="MuJoCoActionMode.Raw"/> by default, as Gymnasium v4 and Brax v0.9.4).</summary>
    public MuJoCoActionMode ActionMode { get; init; } = MuJoCoActionMode.Raw;

    /// <summary>Threads used to step the environments (−1: as many as the runtime likes; 1: the calling thread only).
    /// Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;
}

/// <summary>
/// A batch of environments of one MuJoCo task (docs/environments.md; Gymnasium v4 semantics), stepped in
/// parallel: one shared, read-only <see cref="MjModel"/> and one <see cref="MjData"/> per environment.
/// </summary>
/// <remarks>
/// <para>Step: actions [NumEnvs × ActionSize] become controls (<see cref="MuJoCoEnvOptions.ActionMode"/>), then each
/// environment runs <see cref="MjData.Step"/> (frame skip × <c>mj_step</c>, then <c>mj_rnePostConstraint</c> when the
/// task reads contact forces), computes the reward and the health test, and counts the step. A step that ends the
/// episode sets <c>terminated</c> (unhealthy) or <c>truncated</c> (only the time limit of
/// <see cref="MaxEpisodeSteps"/>), and the environment is reset at once (auto-reset): the observation returned by
/// <see cref="Observe"/> then already belongs to the new episode, while <see cref="ObserveFinal"/> gives the last
/// observation of the one that ended (to bootstrap a truncated episode).</para>
/// <para>Simulation blow-ups: when MuJoCo finds NaN/Inf/huge values in qpos, qvel or qacc it raises warning
/// BADQPOS/BADQVEL/BADQACC and silently resets the data mid-step (docs/environments.md, "The MuJoCo binding"). The step is then reported as
/// terminated with reward 0, counted in <see cref="DivergenceCount"/>, and the environment starts a fresh
/// episode. Every warning kind is counted (<see cref="WarningCount"/>) and the last text kept (<see cref="LastWarning"/>).</para>
/// <para>Determinism: environment i draws only from its own stream <c>rng.Split(i)</c>, and MuJoCo is deterministic,
/// so results do not depend on the number of threads or the batch size.</para>
/// <para>Checkpoints: <see cref="SaveState"/> writes, per environment, qpos, qvel, act, the solver's warm start, ctrl,
/// time, the progress values, the observations, the RNG stream and the step counter, so that a restored batch
/// continues bit-identically.</para>
/// </remarks>
public sealed class MuJoCoVectorEnv : IContinuousVectorEnv, IDisposable
{
    private const string SaveTag = "Optim4RL.Envs.MuJoCo.MuJoCoVectorEnv";
    private const int SaveVersion = 1;

    private readonly MjData[] _data;
    private readonly Rng[] _rngs;
    private readonly int[] _steps;
    private readonly double[] _progress;
    private readonly float[] _obs;
    private readonly float[] _finalObs;
    private readonly bool[] _ended;
    private readonly MuJoCoRewardTerms[] _terms;
    private readonly float[] _actionBuf;
    private readonly float[] _rewardBuf;
    private readonly bool[] _terminatedBuf;
    private readonly bool[] _truncatedBuf;
    private readonly long[] _warningCounts = new long[8];
    private readonly double[] _ctrlLow;
    private readonly double[] _ctrlHigh;
    private readonly int[] _shape;
    private readonly ParallelOptions _parallel;
    private readonly int _chunks;
    private readonly object _warningLock = new();
    private long _divergences;
    private string? _lastWarning;
    private bool _disposed;

    /// <summary>
    /// Creates <paramref name="numEnvs"/> environments of <paramref name="task"/> and starts an episode in each.
    /// </summary>
    /// <param name="task">The task; it is bound to this batch's model (give every batch its own task object).</param>
    /// <param name="numEnvs">How many environments (≥ 1).</param>
    /// <param name="rng">Root stream; environment i uses <c>rng.Split((ulong)i)</c>. Not advanced.</param>
    /// <param name="options">Settings (defaults: 1000-step episodes, reward scaling 1, raw actions, all cores).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1, or a setting is out of range.</exception>
    /// <exception cref="MuJoCoException">MuJoCo is unavailable or the model does not load.</exception>
    public MuJoCoVectorEnv(MuJoCoTask task, int numEnvs, Rng rng, MuJoCoEnvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        Options = options ?? new MuJoCoEnvOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxEpisodeSteps, 1, nameof(options));
        if (Options.MaxDegreeOfParallelism == 0 || Options.MaxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), Options.MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be −1 or ≥ 1.");
        }

        Task = task;
        NumEnvs = numEnvs;
        Model = MuJoCoModels.Load(task.ModelName);
        try
        {
            task.Bind(Model);
            ActionSize = Model.Nu;
            ObservationSize = task.ObservationSize;
            _shape = [ObservationSize];
            _ctrlLow = new double[ActionSize];
            _ctrlHigh = new double[ActionSize];
            var range = Model.ActuatorCtrlRange;
            for (int j = 0; j < ActionSize; j++)
            {
                _ctrlLow[j] = range[2 * j];
                _ctrlHigh[j] = range[2 * j + 1];
            }

            _data = new MjData[numEnvs];
            for (int i = 0; i < numEnvs; i++) _data[i] = Model.MakeData();
        }
        catch
        {
            if (_data is not null)
            {
                foreach (var d in _data) d?.Dispose();
            }

            Model.Dispose();
            throw;
        }

        _rngs = new Rng[numEnvs];
        for (int i = 0; i < numEnvs; i++) _rngs[i] = rng.Split((ulong)i);
        _steps = new int[numEnvs];
        _progress = new double[numEnvs * task.ProgressSize];
        _obs = new float[numEnvs * ObservationSize];
        _finalObs = new float[numEnvs * ObservationSize];
        _ended = new bool[numEnvs];
        _terms = new MuJoCoRewardTerms[numEnvs];
        _actionBuf = new float[numEnvs * ActionSize];
        _rewardBuf = new float[numEnvs];
        _terminatedBuf = new bool[numEnvs];
        _truncatedBuf = new bool[numEnvs];
        int threads = Optim4RL.Tensors.Threads.Count(Options.MaxDegreeOfParallelism);
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
        _chunks = Math.Min(numEnvs, Math.Max(1, threads * 4));
        Reset();
    }

    /// <summary>The task (name, frame skip, reward and observation definitions).</summary>
    public MuJoCoTask Task { get; }

    /// <summary>The shared model of the batch.</summary>
    public MjModel Model { get; }

    /// <summary>The settings.</summary>
    public MuJoCoEnvOptions Options { get; }

    /// <summary>The task name, e.g. <c>ant</c>.</summary>
    public string Name => Task.Name;

    /// <inheritdoc/>
    public int NumEnvs { get; }

    /// <summary>[ObservationSize].</summary>
    public IReadOnlyList<int> ObservationShape => _shape;

    /// <inheritdoc/>
    public int ObservationSize { get; }

    /// <summary>The number of actuators (nu), e.g. 8 for Ant.</summary>
    public int ActionSize { get; }

    /// <inheritdoc/>
    public int MaxEpisodeSteps => Options.MaxEpisodeSteps;

    /// <summary>The environment step length, timestep × frame skip, in seconds.</summary>
    public double Dt => Task.Dt;

    /// <summary>How many steps diverged (MuJoCo warnings BADQPOS/BADQVEL/BADQACC) since construction or the last <see cref="LoadState"/>.</summary>
    public long DivergenceCount => Interlocked.Read(ref _divergences);

    /// <summary>The text of the most recent MuJoCo warning seen by this batch, or null.</summary>
    public string? LastWarning
    {
        get
        {
            lock (_warningLock) return _lastWarning;
        }
    }

    /// <summary>How many environment steps or resets raised the given warning kind (one bit of <see cref="MjWarnings"/>).</summary>
    /// <exception cref="ArgumentException">Not exactly one kind.</exception>
    public long WarningCount(MjWarnings kind)
    {
        int k = (int)kind;
        if (k == 0 || (k & (k - 1)) != 0) throw new ArgumentException("Pass exactly one warning kind.", nameof(kind));
        return Interlocked.Read(ref _warningCounts[System.Numerics.BitOperations.TrailingZeroCount(k)]);
    }

    /// <summary>The simulation state of environment <paramref name="env"/> (for inspection and tests; do not step it yourself).</summary>
    public MjData Data(int env) => _data[env];

    /// <summary>Steps taken in the current episode of environment <paramref name="env"/>.</summary>
    public int EpisodeStep(int env) => _steps[env];

    /// <summary>The reward terms of environment <paramref name="env"/>'s last step (unscaled).</summary>
    public MuJoCoRewardTerms LastRewardTerms(int env) => _terms[env];

    /// <inheritdoc/>
    public void Reset()
    {
        ThrowIfDisposed();
        RunParallel(ResetEnv);
        Array.Clear(_ended);
    }

    /// <inheritdoc/>
    public void Reset(int env)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(env);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(env, NumEnvs);
        ResetEnv(env);
        _ended[env] = false;
    }

    /// <inheritdoc/>
    public void Observe(Span<float> destination)
    {
        ThrowIfDisposed();
        if (destination.Length < _obs.Length) throw new ArgumentException($"Need {_obs.Length} values, got {destination.Length}.", nameof(destination));
        _obs.CopyTo(destination);
    }

    /// <summary>
    /// Writes, for every environment, the observation reached by the last <see cref="Step"/> before any auto-reset:
    /// the final observation of an episode that just ended (terminated or truncated), otherwise the same as
    /// <see cref="Observe"/>. Shape [NumEnvs, ObservationSize].
    /// </summary>
    /// <exception cref="ArgumentException">The span is too short.</exception>
    public void ObserveFinal(Span<float> destination)
    {
        ThrowIfDisposed();
        if (destination.Length < _obs.Length) throw new ArgumentException($"Need {_obs.Length} values, got {destination.Length}.", nameof(destination));
        int n = ObservationSize;
        for (int i = 0; i < NumEnvs; i++)
        {
            (_ended[i] ? _finalObs : _obs).AsSpan(i * n, n).CopyTo(destination.Slice(i * n, n));
        }
    }

    /// <summary>
    /// Advances every environment by one step with auto-reset (see the class remarks).
    /// </summary>
    /// <param name="actions">[NumEnvs, ActionSize] actions (finite).</param>
    /// <param name="rewards">[NumEnvs] receives the rewards × <see cref="MuJoCoEnvOptions.RewardScaling"/>.</param>
    /// <param name="terminated">[NumEnvs] true where the task's health rule ended the episode, or the simulation diverged.</param>
    /// <param name="truncated">[NumEnvs] true where only the time limit ended it.</param>
    /// <exception cref="ArgumentException">A span is too short, or an action is NaN or infinite.</exception>
    /// <exception cref="MuJoCoException">MuJoCo raised an error in some environment (that environment has been reset).</exception>
    public void Step(ReadOnlySpan<float> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        ThrowIfDisposed();
        if (actions.Length < _actionBuf.Length) throw new ArgumentException($"Need {_actionBuf.Length} actions ({NumEnvs} × {ActionSize}), got {actions.Length}.", nameof(actions));
        if (rewards.Length < NumEnvs) throw new ArgumentException($"Need {NumEnvs} rewards, got {rewards.Length}.", nameof(rewards));
        if (terminated.Length < NumEnvs) throw new ArgumentException($"Need {NumEnvs} flags, got {terminated.Length}.", nameof(terminated));
        if (truncated.Length < NumEnvs) throw new ArgumentException($"Need {NumEnvs} flags, got {truncated.Length}.", nameof(truncated));
        for (int k = 0; k < _actionBuf.Length; k++)
        {
            if (!float.IsFinite(actions[k]))
            {
                throw new ArgumentException($"Action {k % ActionSize} of environment {k / ActionSize} is {actions[k]}; actions must be finite.", nameof(actions));
            }
        }

        actions[.._actionBuf.Length].CopyTo(_actionBuf);
        RunParallel(StepEnv);
        _rewardBuf.CopyTo(rewards);
        _terminatedBuf.CopyTo(terminated);
        _truncatedBuf.CopyTo(truncated);
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ThrowIfDisposed();
        writer.Write(SaveTag);
        writer.Write(SaveVersion);
        writer.Write(Name);
        writer.Write(NumEnvs);
        writer.Write(Model.Nq);
        writer.Write(Model.Nv);
        writer.Write(Model.Na);
        writer.Write(Model.Nu);
        writer.Write(ObservationSize);
        writer.Write(Task.ProgressSize);
        int p = Task.ProgressSize, n = ObservationSize;
        for (int i = 0; i < NumEnvs; i++)
        {
            var d = _data[i];
            writer.Write(_rngs[i].Key);
            writer.Write(_rngs[i].Counter);
            writer.Write(_steps[i]);
            writer.Write(_ended[i]);
            WriteDoubles(writer, d.Qpos);
            WriteDoubles(writer, d.Qvel);
            WriteDoubles(writer, d.Act);
            WriteDoubles(writer, d.QaccWarmstart);
            WriteDoubles(writer, d.Ctrl);
            writer.Write(d.Time);
            WriteDoubles(writer, _progress.AsSpan(i * p, p));
            foreach (float v in _obs.AsSpan(i * n, n)) writer.Write(v);
            foreach (float v in _finalObs.AsSpan(i * n, n)) writer.Write(v);
        }

        writer.Write(DivergenceCount);
        for (int k = 0; k < _warningCounts.Length; k++) writer.Write(Interlocked.Read(ref _warningCounts[k]));
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ThrowIfDisposed();
        string tag = reader.ReadString();
        if (tag != SaveTag) throw new InvalidDataException($"Not a MuJoCo environment state (tag '{tag}').");
        int version = reader.ReadInt32();
        if (version != SaveVersion) throw new InvalidDataException($"Unsupported MuJoCo environment state version {version}.");
        string name = reader.ReadString();
        int numEnvs = reader.ReadInt32();
        if (name != Name || numEnvs != NumEnvs)
        {
            throw new InvalidDataException($"The saved state is for {numEnvs} '{name}' environments; this batch has {NumEnvs} '{Name}' environments.");
        }

        int nq = reader.ReadInt32(), nv = reader.ReadInt32(), na = reader.ReadInt32(), nu = reader.ReadInt32();
        int obsSize = reader.ReadInt32(), progressSize = reader.ReadInt32();
        if (nq != Model.Nq || nv != Model.Nv || na != Model.Na || nu != Model.Nu || obsSize != ObservationSize || progressSize != Task.ProgressSize)
        {
            throw new InvalidDataException(
                $"The saved state has nq={nq}, nv={nv}, na={na}, nu={nu}, obs={obsSize}, progress={progressSize}; this batch has " +
                $"nq={Model.Nq}, nv={Model.Nv}, na={Model.Na}, nu={Model.Nu}, obs={ObservationSize}, progress={Task.ProgressSize}.");
        }

        int p = progressSize, n = obsSize;
        Span<double> warm = stackalloc double[nv];
        for (int i = 0; i < NumEnvs; i++)
        {
            var d = _data[i];
            _rngs[i] = new Rng(reader.ReadUInt64(), reader.ReadUInt64());
            _steps[i] = reader.ReadInt32();
            _ended[i] = reader.ReadBoolean();
            d.ResetData();
            ReadDoubles(reader, d.Qpos);
            ReadDoubles(reader, d.Qvel);
            ReadDoubles(reader, d.Act);
            ReadDoubles(reader, warm);
            ReadDoubles(reader, d.Ctrl);
            d.Time = reader.ReadDouble();
            ReadDoubles(reader, _progress.AsSpan(i * p, p));
            var obs = _obs.AsSpan(i * n, n);
            for (int k = 0; k < n; k++) obs[k] = reader.ReadSingle();
            var fin = _finalObs.AsSpan(i * n, n);
            for (int k = 0; k < n; k++) fin[k] = reader.ReadSingle();

            // Recompute the derived quantities (for anyone inspecting Data(i)); the forward pass overwrites the
            // solver's warm start, which is part of the state, so restore it afterwards.
            d.Forward();
            if (Task.NeedsRnePostConstraint) d.RnePostConstraint();
            warm.CopyTo(d.QaccWarmstart);
        }

        Interlocked.Exchange(ref _divergences, reader.ReadInt64());
        for (int k = 0; k < _warningCounts.Length; k++) Interlocked.Exchange(ref _warningCounts[k], reader.ReadInt64());
        Array.Clear(_terms);
    }

    /// <summary>Frees the MuJoCo data and model.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var d in _data) d.Dispose();
        Model.Dispose();
    }

    private void StepEnv(int i)
    {
        var d = _data[i];
        int nu = ActionSize, p = Task.ProgressSize, n = ObservationSize;
        Span<double> ctrl = stackalloc double[nu];
        var a = _actionBuf.AsSpan(i * nu, nu);
        if (Options.ActionMode == MuJoCoActionMode.ScaleToCtrlRange)
        {
            for (int j = 0; j < nu; j++) ctrl[j] = _ctrlLow[j] + (a[j] + 1.0) * 0.5 * (_ctrlHigh[j] - _ctrlLow[j]);
        }
        else
        {
            for (int j = 0; j < nu; j++) ctrl[j] = a[j];
        }

        MjWarnings w = d.Step(ctrl, Task.FrameSkip, Task.NeedsRnePostConstraint);
        if (w != MjWarnings.None) RecordWarnings(w);
        var progress = _progress.AsSpan(i * p, p);
        bool terminated;
        double reward;
        if ((w & MjWarnings.Divergence) != 0)
        {
            Interlocked.Increment(ref _divergences);
            _terms[i] = default;
            reward = 0;
            terminated = true;
        }
        else
        {
            Span<double> after = stackalloc double[p];
            Task.ReadProgress(d, after);
            var terms = Task.Reward(d, ctrl, progress, after);
            after.CopyTo(progress);
            _terms[i] = terms;
            reward = terms.Total;
            terminated = Task.Terminates && !Task.IsHealthy(d);
        }

        _steps[i]++;
        bool truncated = !terminated && _steps[i] >= Options.MaxEpisodeSteps;
        _rewardBuf[i] = (float)(reward * Options.RewardScaling);
        _terminatedBuf[i] = terminated;
        _truncatedBuf[i] = truncated;
        var obs = _obs.AsSpan(i * n, n);
        Task.Observe(d, obs);
        _ended[i] = terminated || truncated;
        if (_ended[i])
        {
            obs.CopyTo(_finalObs.AsSpan(i * n, n));
            ResetEnv(i);
        }
    }

    private void ResetEnv(int i)
    {
        var d = _data[i];
        Span<double> qpos = stackalloc double[Model.Nq];
        Span<double> qvel = stackalloc double[Model.Nv];
        Task.SampleInitialState(ref _rngs[i], qpos, qvel);

        // Gymnasium's reset: mj_resetData (zeroes ctrl and every derived array, cfrc_ext included), the drawn
        // qpos/qvel, mj_forward; no mj_rnePostConstraint, so a first Humanoid observation has zero contact forces.
        MjWarnings w = d.Reset(qpos, qvel);
        if (w != MjWarnings.None) RecordWarnings(w);
        int p = Task.ProgressSize, n = ObservationSize;
        Task.ReadProgress(d, _progress.AsSpan(i * p, p));
        Task.Observe(d, _obs.AsSpan(i * n, n));
        _steps[i] = 0;
    }

    private void RecordWarnings(MjWarnings w)
    {
        for (int k = 0; k < _warningCounts.Length; k++)
        {
            if (((int)w & (1 << k)) != 0) Interlocked.Increment(ref _warningCounts[k]);
        }

        var (text, _) = MuJoCoNative.LastWarning();
        lock (_warningLock) _lastWarning = text.Length > 0 ? text : w.ToString();
    }

    private void RunParallel(Action<int> body)
    {
        if (_chunks <= 1 || NumEnvs == 1)
        {
            for (int i = 0; i < NumEnvs; i++) body(i);
            return;
        }

        int chunks = _chunks, n = NumEnvs;
        try
        {
            Parallel.For(0, chunks, _parallel, c =>
            {
                int start = (int)((long)n * c / chunks), end = (int)((long)n * (c + 1) / chunks);
                for (int i = start; i < end; i++) body(i);
            });
        }
        catch (AggregateException e)
        {
            var inner = e.Flatten().InnerExceptions;
            var first = inner.FirstOrDefault(x => x is MuJoCoException) ?? inner[0];
            ExceptionDispatchInfo.Capture(first).Throw();
            throw;
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private static void WriteDoubles(BinaryWriter w, ReadOnlySpan<double> values)
    {
        foreach (double v in values) w.Write(v);
    }

    private static void ReadDoubles(BinaryReader r, Span<double> values)
    {
        for (int k = 0; k < values.Length; k++) values[k] = r.ReadDouble();
    }
}
