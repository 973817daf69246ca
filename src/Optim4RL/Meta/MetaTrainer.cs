using Optim4RL.Agents;
using Optim4RL.Io;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Meta;

/// <summary>How a trainer's checkpoint starts: what <see cref="MetaTrainer.SaveCheckpoint"/> writes before the populations.</summary>
/// <param name="Magic">The file's first four bytes.</param>
/// <param name="Version">The layout's version; only this one is read.</param>
/// <param name="Kind">Named in the error for a file that is not such a checkpoint (e.g. "meta-training", "MetaPPO").</param>
/// <param name="Task">A task name written after the learned optimizer's and checked on load (MetaPPO's one task), or null.</param>
/// <param name="CountsTasks">Write the number of tasks before the populations (MetaA2C's several tasks).</param>
public sealed record CheckpointLayout(uint Magic, int Version, string Kind, string? Task, bool CountsTasks);

/// <summary>Settings of a <see cref="MetaTrainer"/> that are not the tasks' own.</summary>
/// <param name="TrainSteps">Environment steps of the first task; meta-iterations = TrainSteps ÷ the estimator's steps per iteration (at least 1).</param>
/// <param name="MaxNorm">Each task's meta-gradient rescaled to exactly this global norm before the mean over tasks (<c>meta_optim.kwargs.max_norm</c>; ≤ 0 = off).</param>
/// <param name="Seed">Seed of the run; φ's initial values come from its child stream 1000.</param>
/// <param name="Checkpoint">The checkpoint's layout.</param>
public sealed record MetaTrainerSettings(long TrainSteps, double MaxNorm, ulong Seed, CheckpointLayout Checkpoint);

/// <summary>
/// The one meta-trainer (docs/estimators.md): it owns φ, the meta-optimizer and its state, and runs
/// every meta-iteration as: per task, the pipeline resets of its schedule, the estimator's meta-gradient
/// (which advances the population), the optional rescale to max_norm and the running sum; then the mean
/// over tasks and one meta-optimizer step on φ (docs/algorithms.md, "Meta-training"). It also writes and
/// reads checkpoints. <see cref="MetaA2C"/> and <see cref="MetaPpo"/> bind it to their inner problems.
/// </summary>
public class MetaTrainer : IMetaTrainer
{
    private readonly IInnerProblem[] _tasks;
    private readonly ILearnedOptimizer _lopt;
    private readonly IOptimizer _metaOptimizer;
    private readonly OptimizerState _metaState;
    private readonly MetaTrainerSettings _settings;
    private readonly float[] _phi, _metaGrad, _taskGrad, _phiUpdate;
    private int? _threads;

    /// <summary>Takes over the tasks' populations and initialises φ.</summary>
    /// <param name="tasks">One or more inner problems; the meta-gradient is the mean over them.</param>
    /// <param name="lopt">The learned optimizer (the kernel the populations run).</param>
    /// <param name="metaOptimizer">The optimizer of φ (Adam with grad_clip or grad_norm in the reference).</param>
    /// <param name="estimator">How each task's meta-gradient is estimated.</param>
    /// <param name="settings">Run length, rescaling, seed and checkpoint layout.</param>
    /// <param name="initialPhi">Starting φ (e.g. loaded from a file); null draws the architecture's initial values.</param>
    /// <exception cref="ArgumentException">No task, or <paramref name="initialPhi"/> of the wrong length.</exception>
    public MetaTrainer(IReadOnlyList<IInnerProblem> tasks, ILearnedOptimizer lopt, IOptimizer metaOptimizer, IMetaGradientEstimator estimator,
        MetaTrainerSettings settings, float[]? initialPhi = null)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (tasks.Count == 0) throw new ArgumentException("Meta-training needs at least one task.", nameof(tasks));
        _tasks = [.. tasks];
        _lopt = lopt;
        _metaOptimizer = metaOptimizer;
        Estimator = estimator;
        _settings = settings;
        _phi = new float[lopt.Layout.Count];
        if (initialPhi is null)
        {
            var r = new Rng(settings.Seed).Split(1000);
            lopt.InitMetaParams(ref r, _phi);
        }
        else
        {
            if (initialPhi.Length != _phi.Length)
                throw new ArgumentException($"Initial φ has {initialPhi.Length} values; {lopt.Name} needs {_phi.Length}.", nameof(initialPhi));
            initialPhi.CopyTo(_phi, 0);
        }
        _metaGrad = new float[_phi.Length];
        _taskGrad = new float[_phi.Length];
        _phiUpdate = new float[_phi.Length];
        _metaState = metaOptimizer.Init(_phi.Length);
        MaxDegreeOfParallelism = lopt.MaxDegreeOfParallelism;
    }

    /// <inheritdoc/>
    public float[] Phi => _phi;

    /// <inheritdoc/>
    public ILearnedOptimizer LearnedOptimizer => _lopt;

    /// <summary>How each task's meta-gradient is estimated.</summary>
    public IMetaGradientEstimator Estimator { get; }

    /// <summary>The tasks' populations.</summary>
    public IReadOnlyList<IInnerProblem> Problems => _tasks;

    /// <summary>
    /// Whether, under MPI ranks, <paramref name="estimator"/> (null: back-propagation) has the agents split over the ranks
    /// (back-propagation: each rank runs a slice of every population) rather than held whole on every rank while the
    /// estimator spreads its own work (ES: the perturbation pairs).
    /// </summary>
    internal static bool SplitsAgents(IMetaGradientEstimator? estimator) => estimator?.SplitsAgentsOverRanks ?? true;

    /// <summary>Whether, under MPI ranks, this trainer's agents are split over the ranks (see <see cref="SplitsAgents"/>); its checkpoints then keep them in slice files.</summary>
    internal bool SplitsAgentsOverRanks => SplitsAgents(Estimator);

    /// <inheritdoc/>
    public long Iteration { get; private set; }

    /// <inheritdoc/>
    public long Iterations => Math.Max(1, _settings.TrainSteps / Estimator.StepsPerIteration(_tasks[0]));

    /// <summary>Thread count for the agents and the kernel (null = all cores); never changes a result.</summary>
    public int? MaxDegreeOfParallelism
    {
        get => _threads;
        set
        {
            _threads = value;
            _lopt.MaxDegreeOfParallelism = value;
            foreach (var t in _tasks) t.MaxDegreeOfParallelism = value;
        }
    }

    /// <summary>One meta-iteration (docs/algorithms.md, "Meta-training", steps 1–6).</summary>
    /// <exception cref="TrainingDivergedException">The agents, the meta-gradient or φ became NaN/Inf; φ is left at its last finite value.</exception>
    public MetaIterationLog Step()
    {
        long t = Iteration + 1;
        var (lossSum, retSum, episodes, terms, envSteps) = MetaGradient(t);
        var update = PhaseClock.Begin();
        float gradNorm = MetaUpdate.Apply(_metaOptimizer, _metaState, _phi, _metaGrad, _phiUpdate, t, out float updateNorm);
        PhaseClock.End(MetaPhase.MetaUpdate, update);
        Iteration = t;
        return new MetaIterationLog(t, t * Estimator.StepsPerIteration(_tasks[0]), lossSum / _tasks.Length, gradNorm, retSum, episodes)
        {
            PhiUpdateNorm = updateNorm,
            MetaLossTerms = terms,
            EnvSteps = envSteps,
        };
    }

    /// <summary>
    /// Steps 1–5 of the next meta-iteration (the agents advance) without the meta-optimizer step
    /// or the iteration count: returns the meta-gradient φ would be updated with. For measurements.
    /// </summary>
    internal float[] MetaGradientOfNextIteration()
    {
        MetaGradient(Iteration + 1);
        return (float[])_metaGrad.Clone();
    }

    /// <inheritdoc/>
    public bool CanRestartPopulation => _tasks.All(t => t.CanRestartPopulation);

    /// <inheritdoc/>
    public int WarmUpIterations => _tasks.Max(t => t.Schedule.Enabled ? t.Schedule.ResetInterval : 1);

    /// <inheritdoc/>
    public void ContinueWithFreshPopulation(long iteration)
    {
        if (!CanRestartPopulation)
            throw new NotSupportedException("--restart-population is implemented for MetaA2C and MetapA2C; MetaPPO runs continue with --resume.");
        ArgumentOutOfRangeException.ThrowIfNegative(iteration);
        int warmUp = WarmUpIterations;
        for (int i = 0; i < warmUp; i++) MetaGradient(iteration - warmUp + 1 + i); // the agents advance; φ is not updated
        Iteration = iteration;
    }

    /// <summary>Steps 1–5 of meta-iteration <paramref name="t"/>: the task mean of the meta-gradients into <see cref="_metaGrad"/>.</summary>
    private (double LossSum, double ReturnSum, int Episodes, A2CLossTerms Terms, long EnvSteps) MetaGradient(long t)
    {
        Array.Clear(_metaGrad);
        double lossSum = 0, retSum = 0;
        int episodes = 0;
        long envSteps = 0;
        var terms = default(A2CLossTerms);
        for (int ti = 0; ti < _tasks.Length; ti++)
        {
            var task = _tasks[ti];
            // 1. Pipeline reset.
            var resets = PhaseClock.Begin();
            for (int j = task.FirstAgent; j < task.FirstAgent + task.OwnedAgents; j++)
                if (task.Schedule.ShouldReset(j, t)) task.ResetAgent(j);
            PhaseClock.End(MetaPhase.Resets, resets);

            // 2–4. The estimator advances the population and writes the task's meta-gradient.
            var estimate = Estimator.Estimate(task, _phi, t, ti, _taskGrad, ref terms, 1.0 / (task.Agents * _tasks.Length));
            lossSum += estimate.MetaLoss;
            envSteps += estimate.EnvSteps;

            // 5. Optional rescale to exactly max_norm, then accumulate the task mean.
            MetaUpdate.RescaleToNorm(_taskGrad, _settings.MaxNorm);
            TP.Add(_metaGrad, _taskGrad, _metaGrad);

            var (s, c) = task.DrainReturns();
            if (ti == 0)
            {
                retSum += s;
                episodes += c;
            }
        }
        TP.Multiply(_metaGrad, 1f / _tasks.Length, _metaGrad);
        return (lossSum, retSum, episodes, terms, envSteps);
    }

    /// <summary>
    /// Writes everything needed to continue exactly: φ, the meta-optimizer state, the
    /// iteration, and every task's population (θ, optimizer states, environments, RNG streams).
    /// </summary>
    public void SaveCheckpoint(Stream stream)
    {
        var layout = _settings.Checkpoint;
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(layout.Magic);
        w.Write(layout.Version);
        w.Write(_lopt.Name);
        if (layout.Task is not null) w.Write(layout.Task);
        w.Write(Iteration);
        BinaryArrays.WriteFloats(w, _phi);
        _metaState.Save(w);
        if (layout.CountsTasks) w.Write(_tasks.Length);
        foreach (var task in _tasks) task.Save(w);
    }

    /// <inheritdoc/>
    public void SaveMetaState(BinaryWriter writer) => MetaUpdate.SaveMetaState(writer, _lopt.Name, Iteration, _phi, _metaState);

    /// <inheritdoc/>
    public long LoadMetaState(BinaryReader reader) => MetaUpdate.LoadMetaState(reader, _lopt.Name, _phi, _metaState);

    /// <summary>
    /// Restores φ, the meta-optimizer state and the iteration from what <see cref="SaveMetaState"/> wrote, and this
    /// process's agents from the <see cref="AgentSlices"/> files of that iteration (in <paramref name="folderOf"/>(iteration)).
    /// </summary>
    /// <exception cref="InvalidDataException">The meta state or the slices are damaged or belong to another configuration.</exception>
    public void LoadSliced(BinaryReader reader, Func<long, string> folderOf)
    {
        ArgumentNullException.ThrowIfNull(folderOf);
        long iteration = LoadMetaState(reader);
        AgentSlices.Read(this, folderOf(iteration), iteration);
        Iteration = iteration;
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> for the same configuration.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, or belongs to another configuration.</exception>
    public void LoadCheckpoint(Stream stream) => LoadCheckpoint(stream, convertState: false);

    /// <summary>
    /// As <see cref="LoadCheckpoint(Stream)"/>; with <paramref name="convertState"/>, a learned-optimizer state stored in
    /// another type than this run's is converted (float32 → bfloat16 rounds to nearest even). For measurements.
    /// </summary>
    internal void LoadCheckpoint(Stream stream, bool convertState)
    {
        var layout = _settings.Checkpoint;
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadUInt32() != layout.Magic) throw new InvalidDataException($"Not an Optim4RL.NET {layout.Kind} checkpoint.");
            int version = r.ReadInt32();
            if (version != layout.Version) throw new InvalidDataException($"Checkpoint version {version} is not supported (expected {layout.Version}).");
            string name = r.ReadString();
            if (name != _lopt.Name) throw new InvalidDataException($"Checkpoint is for learned optimizer '{name}', this run uses '{_lopt.Name}'.");
            if (layout.Task is not null)
            {
                string env = r.ReadString();
                if (env != layout.Task) throw new InvalidDataException($"Checkpoint is for task '{env}', this run trains on '{layout.Task}'.");
            }
            long iteration = r.ReadInt64();
            BinaryArrays.ReadFloats(r, _phi);
            _metaState.Load(r);
            if (layout.CountsTasks)
            {
                int tasks = r.ReadInt32();
                if (tasks != _tasks.Length) throw new InvalidDataException($"Checkpoint has {tasks} tasks, this run has {_tasks.Length}.");
            }
            foreach (var task in _tasks) task.Load(r, convertState);
            Iteration = iteration;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Checkpoint ends early: the file is truncated or corrupt.", e);
        }
    }
}
