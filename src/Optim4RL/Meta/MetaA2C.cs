using Optim4RL.Agents;
using Optim4RL.Io;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Meta;

/// <summary>What one meta-iteration did, for logs and progress bars.</summary>
/// <param name="Iteration">1-based meta-iteration.</param>
/// <param name="Step">Environment steps of the first task so far.</param>
/// <param name="MetaLoss">Mean over tasks and agents of the meta-loss (A2C loss of θ_K on a fresh rollout).</param>
/// <param name="MetaGradNorm">Global norm of the meta-gradient applied (after max_norm and the task mean).</param>
/// <param name="ReturnSum">Sum of the returns of agents' episodes that finished in the iteration (first task).</param>
/// <param name="Episodes">How many such episodes there were.</param>
public readonly record struct MetaIterationLog(long Iteration, long Step, double MetaLoss, double MetaGradNorm, double ReturnSum, int Episodes)
{
    /// <summary>Mean return of the finished episodes, NaN when none finished.</summary>
    public double MeanReturn => Episodes > 0 ? ReturnSum / Episodes : double.NaN;

    /// <summary>Global norm of the step Δφ the meta-optimizer took.</summary>
    public double PhiUpdateNorm { get; init; }

    /// <summary>The meta-loss's terms, means over tasks and agents like <see cref="MetaLoss"/> (<see cref="A2CLossTerms.Entropy"/> is PPO's entropy estimate for MetaPPO).</summary>
    public A2CLossTerms MetaLossTerms { get; init; }

    /// <summary>Environment steps all agents of all tasks took in the iteration (inner updates and meta-loss rollouts).</summary>
    public long EnvSteps { get; init; }
}

/// <summary>How <see cref="MetaA2C"/> runs its inner updates (all bit-identical).</summary>
internal enum InnerUpdateMode
{
    /// <summary>Copy h_0 to the second state buffer, then per update: clip, step in place, θ += Δ (three passes).</summary>
    SnapshotCopy,

    /// <summary>No copy: the first step reads h_0 and writes the second buffer; then clip, step, θ += Δ as three passes.</summary>
    DoubleBuffer,

    /// <summary>No copy, and clip → step → θ += Δ in one pass over memory.</summary>
    Fused,
}

/// <summary>
/// Meta-training of a learned optimizer with A2C agents (docs/algorithms.md, "Meta-training"): MetaA2C with pipeline
/// training, or the MetapA2C ablation (agents never reset). Each meta-iteration, per task:
/// pipeline resets → K inner updates of every agent with the learned optimizer →
/// meta-loss on a fresh rollout → meta-gradient by back-propagation through the K updates
/// (g constant; docs/algorithms.md) → mean over agents; then optional per-task rescale to max_norm,
/// mean over tasks, and one meta-optimizer step on φ.
/// </summary>
/// <remarks>
/// Agents of a task run in parallel (one Parallel.For per inner update); every agent has its
/// own RNG streams, so results do not depend on the thread count. The learned optimizer
/// runs over all B·P coordinates of a task at once.
/// </remarks>
public sealed class MetaA2C : IMetaTrainer
{
    private const uint CheckpointMagic = 0x4B43344F; // "O4CK"
    private const int CheckpointVersion = 3; // 2: episode trackers saved; 3: the state's storage type, and the state in it

    private readonly MetaA2CConfig _cfg;
    private readonly ILearnedOptimizer _lopt;
    private readonly IOptimizer _metaOptimizer;
    private readonly OptimizerState _metaState;
    private readonly MetaTaskState[] _tasks;
    private readonly float[] _phi, _metaGrad, _taskGrad, _phiUpdate;
    private readonly double[] _agentLoss;

    /// <summary>Builds every task's agents and environments and initialises φ.</summary>
    /// <param name="cfg">Run settings.</param>
    /// <param name="lopt">The learned optimizer architecture.</param>
    /// <param name="metaOptimizer">The optimizer of φ (Adam with grad_clip or grad_norm in the reference).</param>
    /// <param name="initialPhi">Starting φ (e.g. loaded from a file); null draws the architecture's initial values.</param>
    /// <exception cref="ArgumentException">No task, an unknown task name, or <paramref name="initialPhi"/> of the wrong length.</exception>
    /// <exception cref="NotSupportedException"><paramref name="lopt"/> cannot keep its state in the configured storage type (<see cref="MetaA2CConfig.StateDtype"/>).</exception>
    public MetaA2C(MetaA2CConfig cfg, ILearnedOptimizer lopt, IOptimizer metaOptimizer, float[]? initialPhi = null)
    {
        if (cfg.Tasks.Count == 0) throw new ArgumentException("Meta-training needs at least one task (env.name).", nameof(cfg));
        if (cfg.InnerUpdates < 1) throw new ArgumentException("inner_updates must be ≥ 1.", nameof(cfg));
        if (!lopt.Supports(cfg.StateDtype))
            throw new NotSupportedException($"{lopt.Name} does not support a {cfg.StateDtype.Name()} recurrent state (agent_optim.kwargs.state_dtype); use float32.");
        _cfg = cfg;
        _lopt = lopt;
        _metaOptimizer = metaOptimizer;
        var root = new Rng(cfg.Seed);
        _phi = new float[lopt.Layout.Count];
        if (initialPhi is null)
        {
            var r = root.Split(1000);
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
        _tasks = new MetaTaskState[cfg.Tasks.Count];
        for (int i = 0; i < _tasks.Length; i++) _tasks[i] = new MetaTaskState(cfg.Tasks[i], cfg, lopt, root.Split((ulong)i));
        _agentLoss = new double[_tasks.Max(t => t.B)];
    }

    /// <summary>The meta-parameters φ (live; copy before keeping).</summary>
    public float[] Phi => _phi;

    /// <summary>The learned optimizer being meta-trained.</summary>
    public ILearnedOptimizer LearnedOptimizer => _lopt;

    /// <summary>Meta-iterations completed.</summary>
    public long Iteration { get; private set; }

    /// <summary>Total meta-iterations of the run.</summary>
    public long Iterations => _cfg.Iterations;

    /// <summary>Run settings.</summary>
    public MetaA2CConfig Config => _cfg;

    /// <summary>Thread count used for agents and the optimizer kernel (null = all cores); setting it sets the kernel's <see cref="ILearnedOptimizer.MaxDegreeOfParallelism"/>.</summary>
    public int? MaxDegreeOfParallelism
    {
        get => _lopt.MaxDegreeOfParallelism;
        set => _lopt.MaxDegreeOfParallelism = value;
    }

    /// <summary>
    /// How <see cref="Step"/> runs the inner updates; every mode gives bit-identical results.
    /// <see cref="InnerUpdateMode.Fused"/> (the default) is the fastest; the others are kept as
    /// references for tests and measurements.
    /// </summary>
    internal InnerUpdateMode UpdateMode { get; set; } = InnerUpdateMode.Fused;

    /// <summary>
    /// One meta-iteration (docs/algorithms.md, "Meta-training", steps 1–6).
    /// </summary>
    /// <exception cref="TrainingDivergedException">The meta-gradient or φ became NaN/Inf; φ is left at its last finite value.</exception>
    public MetaIterationLog Step()
    {
        long t = Iteration + 1;
        var (lossSum, retSum, episodes, terms, envSteps) = MetaGradient(t);

        // 6. Meta-optimizer step on φ.
        float gradNorm = MetaUpdate.Apply(_metaOptimizer, _metaState, _phi, _metaGrad, _phiUpdate, t, out float updateNorm);

        Iteration = t;
        return new MetaIterationLog(t, t * _cfg.StepsPerIteration(0), lossSum / _tasks.Length, gradNorm, retSum, episodes)
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
    public int WarmUpIterations => _tasks.Max(t => t.Schedule.Enabled ? t.Schedule.ResetInterval : 1);

    /// <inheritdoc/>
    public void ContinueWithFreshPopulation(long iteration)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iteration);
        int warmUp = WarmUpIterations;
        for (int i = 0; i < warmUp; i++) MetaGradient(iteration - warmUp + 1 + i); // the agents advance; φ is not updated
        Iteration = iteration;
    }

    /// <summary>The tasks' agents, buffers and states (for tests and measurements).</summary>
    internal IReadOnlyList<MetaTaskState> Tasks => _tasks;

    /// <summary>Steps 1–5 of meta-iteration <paramref name="t"/>: the task mean of the meta-gradients into <see cref="_metaGrad"/>.</summary>
    private (double LossSum, double ReturnSum, int Episodes, A2CLossTerms Terms, long EnvSteps) MetaGradient(long t)
    {
        Array.Clear(_metaGrad);
        double lossSum = 0, retSum = 0;
        int episodes = 0;
        long envSteps = 0;
        var terms = default(A2CLossTerms);
        var po = new ParallelOptions { MaxDegreeOfParallelism = MaxDegreeOfParallelism ?? -1 };

        for (int ti = 0; ti < _tasks.Length; ti++)
        {
            var task = _tasks[ti];
            float alpha = task.Config.LearningRate;

            // 1. Pipeline reset.
            for (int j = 0; j < task.B; j++)
                if (task.Schedule.ShouldReset(j, t)) task.ResetAgent(j);

            // 2. K inner updates with the learned optimizer. The first reads h_0 and writes the other
            // state buffer, the rest work on that buffer in place, so h_0 stays for step 4.
            var h0 = task.State;
            var h = task.NextState;
            if (UpdateMode == InnerUpdateMode.SnapshotCopy) h0.Span.CopyTo(h.Span);
            for (int k = 0; k < task.K; k++)
            {
                Parallel.For(0, task.B, po, j => task.Losses[j].RolloutAndGradient(ref task.ActionRngs[j], task.Trackers[j]));
                var gk = task.Grads.AsSpan(k * task.N, task.N);
                var from = k == 0 && UpdateMode != InnerUpdateMode.SnapshotCopy ? h0 : h;
                if (UpdateMode == InnerUpdateMode.Fused)
                {
                    // clip → step → θ += Δ in one pass; one parameter vector per agent
                    _lopt.UpdateGrouped(_phi, from.Span, h.Span, task.Grad, (float)_cfg.GradClip, gk, task.Theta, alpha, task.P);
                }
                else
                {
                    MetaUpdate.ClipInto(task.Grad, gk, (float)_cfg.GradClip);
                    _lopt.StepGrouped(_phi, from.Span, h.Span, gk, task.Updates, alpha, task.P);
                    TP.Add(task.Theta, task.Updates, task.Theta);
                }
            }
            task.Advance();

            // 3. Meta-loss on a fresh rollout; its gradient is the adjoint λ = ∇θ L(θ_K).
            Parallel.For(0, task.B, po, j => _agentLoss[j] = task.Losses[j].RolloutAndGradient(ref task.ActionRngs[j], task.Trackers[j]));
            double taskLoss = 0;
            for (int j = 0; j < task.B; j++) taskLoss += _agentLoss[j];
            if (!double.IsFinite(taskLoss))
                throw new TrainingDivergedException($"The agents of task {task.Config.Env} diverged at meta-iteration {t}: their A2C loss is NaN/Inf, so the learned optimizer's steps were too large; lower agent_optim.kwargs.learning_rate (α = {alpha}) or set agent_optim.kwargs.grad_clip. φ is kept at its value after iteration {t - 1}.");
            lossSum += taskLoss / task.B;
            for (int j = 0; j < task.B; j++) terms = terms.AddScaled(task.Losses[j].LastTerms, 1.0 / (task.B * _tasks.Length));
            envSteps += _cfg.StepsPerIteration(ti);

            // 4. Meta-gradient through the K updates, mean over agents.
            Array.Clear(_taskGrad);
            _lopt.MetaGradientGrouped(_phi, h0.Span, task.Grads, task.K, task.Grad, alpha, _taskGrad, task.P);
            TP.Multiply(_taskGrad, 1f / task.B, _taskGrad);

            // 5. Optional rescale to exactly max_norm, then accumulate the task mean.
            MetaUpdate.RescaleToNorm(_taskGrad, _cfg.MaxNorm);
            TP.Add(_metaGrad, _taskGrad, _metaGrad);

            if (ti == 0)
            {
                foreach (var tr in task.Trackers)
                {
                    var (s, c) = tr.Drain();
                    retSum += s;
                    episodes += c;
                }
            }
            else
            {
                foreach (var tr in task.Trackers) tr.Drain();
            }
        }

        TP.Multiply(_metaGrad, 1f / _tasks.Length, _metaGrad);
        return (lossSum, retSum, episodes, terms, envSteps);
    }

    /// <summary>
    /// Writes everything needed to continue exactly: φ, the meta-optimizer state, the
    /// iteration, and every agent's θ, optimizer state, environment state and RNG streams.
    /// </summary>
    public void SaveCheckpoint(Stream stream)
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(CheckpointMagic);
        w.Write(CheckpointVersion);
        w.Write(_lopt.Name);
        w.Write(Iteration);
        BinaryArrays.WriteFloats(w, _phi);
        _metaState.Save(w);
        w.Write(_tasks.Length);
        foreach (var task in _tasks) task.Save(w);
    }

    /// <inheritdoc/>
    public void SaveMetaState(BinaryWriter writer) => MetaUpdate.SaveMetaState(writer, _lopt.Name, Iteration, _phi, _metaState);

    /// <inheritdoc/>
    public long LoadMetaState(BinaryReader reader) => MetaUpdate.LoadMetaState(reader, _lopt.Name, _phi, _metaState);

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> for the same configuration.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, or belongs to another configuration.</exception>
    public void LoadCheckpoint(Stream stream) => LoadCheckpoint(stream, convertState: false);

    /// <summary>
    /// As <see cref="LoadCheckpoint(Stream)"/>; with <paramref name="convertState"/>, a state stored in
    /// another type than this run's is converted (float32 → bfloat16 rounds to nearest even). For measurements.
    /// </summary>
    internal void LoadCheckpoint(Stream stream, bool convertState)
    {
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadUInt32() != CheckpointMagic) throw new InvalidDataException("Not an Optim4RL.NET meta-training checkpoint.");
            int version = r.ReadInt32();
            if (version != CheckpointVersion) throw new InvalidDataException($"Checkpoint version {version} is not supported (expected {CheckpointVersion}).");
            string name = r.ReadString();
            if (name != _lopt.Name) throw new InvalidDataException($"Checkpoint is for learned optimizer '{name}', this run uses '{_lopt.Name}'.");
            long iteration = r.ReadInt64();
            BinaryArrays.ReadFloats(r, _phi);
            _metaState.Load(r);
            int tasks = r.ReadInt32();
            if (tasks != _tasks.Length) throw new InvalidDataException($"Checkpoint has {tasks} tasks, this run has {_tasks.Length}.");
            foreach (var task in _tasks) task.Load(r, convertState);
            Iteration = iteration;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Checkpoint ends early: the file is truncated or corrupt.", e);
        }
    }
}
