using Optim4RL.Agents;
using Optim4RL.Distributed;
using Optim4RL.Envs;
using Optim4RL.Io;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Meta;

/// <summary>How <see cref="A2CInnerProblem.Unroll"/> runs the inner updates (all bit-identical).</summary>
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
/// The inner problem of MetaA2C (docs/algorithms.md, "Meta-training"), one discrete task: B agents whose parameters θ live in one contiguous
/// vector [B·P] (agent j at j·P), the learned optimizer's recurrent state [StateSize, B·P] in two
/// buffers of the run's storage type, the K stored inner gradients [K, B·P], and per agent one
/// vector env of E environments (<see cref="MetaTaskConfig.EnvsPerAgent"/>; one in the reference), RNG streams and an episode tracker. The A2C rollouts/losses (each an
/// autodiff graph with all activations of a rollout, ≈ 0.86 MB on big_dense_long) are pooled: one per worker
/// thread running agents at once, bound to an agent (its env, its offset j·P) just before that agent's
/// rollout, so their memory does not grow with B. Results are bit-identical to one loss per agent.
/// Buffers are allocated once (the pool's losses on first use). Under MPI ranks a process holds only
/// its slice of the agents (<see cref="FirstAgent"/>, <see cref="OwnedAgents"/>), each seeded by its global index, and the sums over agents are combined over
/// the ranks in global order (<see cref="Communicator.OrderedSum"/>), so every rank gets one process's bits.
/// </summary>
/// <remarks>
/// The two state buffers take turns (<see cref="Advance"/>): a meta-iteration's first inner update
/// reads <see cref="State"/> (h_0, after the pipeline resets) and writes <see cref="NextState"/>,
/// the other updates work on <see cref="NextState"/> in place, and the meta-gradient recomputes
/// the K steps from <see cref="State"/>, still h_0; then the buffers swap roles. So h_0 is kept
/// without copying the state.
/// </remarks>
internal sealed class A2CInnerProblem : IInnerProblem, ISlicedProblem
{
    private readonly ILearnedOptimizer _lopt;
    private readonly float _gradClip;
    private readonly float[] _phi;
    private readonly A2CConfig _agentConfig;
    private readonly Communicator _ranks;
    private ParallelOptions _parallel = Tensors.Threads.Options(null);

    // Idle A2C losses (lock it to take or return one); a worker takes one for its whole share of a parallel loop.
    private readonly Stack<A2CLoss<float>> _idleLosses = new();
    private int _lossesBuilt;
    private A2CLoss<float>[]? _lossPerAgent;
    private RecurrentState? _h0;

    /// <param name="cfg">The task.</param>
    /// <param name="run">The run's settings.</param>
    /// <param name="lopt">The learned optimizer.</param>
    /// <param name="rng">The task's stream; agent j's streams are its child j + 1, whichever process runs it.</param>
    /// <param name="ranks">The job whose ranks share the agents (null: one process).</param>
    /// <param name="slice">The agents this process runs (null: all B).</param>
    public A2CInnerProblem(MetaTaskConfig cfg, MetaA2CConfig run, ILearnedOptimizer lopt, Rng rng, Communicator? ranks = null, (int First, int Count)? slice = null)
    {
        Config = cfg;
        _lopt = lopt;
        _gradClip = (float)run.GradClip;
        _phi = new float[lopt.Layout.Count];
        _agentConfig = run.Agent;
        B = cfg.NumAgents;
        ArgumentOutOfRangeException.ThrowIfLessThan(cfg.EnvsPerAgent, 1, nameof(cfg));
        _ranks = ranks ?? SingleProcessCommunicator.Instance;
        (FirstAgent, OwnedAgents) = slice ?? (0, B);
        if (FirstAgent < 0 || OwnedAgents < 0 || FirstAgent + OwnedAgents > B)
            throw new ArgumentOutOfRangeException(nameof(slice), $"agents {FirstAgent}..{FirstAgent + OwnedAgents - 1} are not among the task's {B}.");
        int local = OwnedAgents;
        Spec = SpecOf(cfg, run, rng);
        P = Spec.Layout.Count;
        // The largest buffer below ([max(K, state size), B·P] floats) must fit one .NET array.
        long rows = Math.Max(run.InnerUpdates, lopt.StateSize);
        if (rows * local * P > Array.MaxLength)
            throw new ArgumentException($"task {cfg.Env}: {B} agents × {P} parameters × {rows} need {rows * B * P:N0} floats in one array, more than .NET allows ({Array.MaxLength:N0}); lower env.num_envs (the agent count) to at most {Array.MaxLength / (rows * P)}.");
        N = local * P;
        K = run.InnerUpdates;
        Schedule = new PipelineSchedule(B, cfg.ResetInterval, run.Pipeline);
        StepsPerInnerUpdate = cfg.NumEnvs * run.Agent.RolloutSteps;
        StepsPerIteration = StepsPerInnerUpdate * (run.InnerUpdates + 1); // MetaA2CConfig.StepsPerIteration

        Theta = new float[N];
        Grad = new float[N];
        Grads = new float[K * N];
        StateSize = lopt.StateSize;
        var dtype = run.StateDtype ?? StateDtypes.DefaultFor(lopt);
        _states = [new RecurrentState(dtype, StateSize, N), new RecurrentState(dtype, StateSize, N)];

        Envs = new IDiscreteVectorEnv[local];
        Trackers = new EpisodeTracker[local];
        ActionRngs = new Rng[local];
        InitRngs = new Rng[local];
        for (int j = 0; j < local; j++)
        {
            var agentRng = rng.Split((ulong)(FirstAgent + j) + 1);
            Envs[j] = EnvRegistry.CreateDiscrete(cfg.Env, cfg.EnvsPerAgent, agentRng.Split(0), cfg.RewardScaling);
            InitRngs[j] = agentRng.Split(1);
            ActionRngs[j] = agentRng.Split(2);
            Trackers[j] = new EpisodeTracker(cfg.EnvsPerAgent);
            ResetAgent(FirstAgent + j);
        }
    }

    /// <summary>The agents' network for <paramref name="cfg"/> (its parameter count P is a task's cost per agent when agents are spread over ranks).</summary>
    public static NetworkSpec SpecOf(MetaTaskConfig cfg, MetaA2CConfig run, Rng rng)
    {
        var probe = EnvRegistry.CreateDiscrete(cfg.Env, 1, rng, cfg.RewardScaling);
        return NetworkSpec.ForTask(probe.Name, probe.ObservationShape.ToArray(), probe.ActionCount, run.ConvLayout);
    }

    public MetaTaskConfig Config { get; }
    public string TaskName => Config.Env;
    public int Agents => B;
    public int FirstAgent { get; }
    public int OwnedAgents { get; }
    public int InnerUpdates => K;
    public long StepsPerIteration { get; }
    public long EnvStepsPerIteration => StepsPerIteration;
    public long StepsPerInnerUpdate { get; }
    public bool CanRestartPopulation => true;

    /// <summary>
    /// Caps the threads that run agents at once (null: <see cref="Environment.ProcessorCount"/>). It also bounds
    /// the pool of A2C losses, which holds one per thread that ran agents at the same time.
    /// </summary>
    public int? MaxDegreeOfParallelism { set => _parallel = Tensors.Threads.Options(value); }

    /// <summary>How many A2C losses (autodiff graphs) the pool has built: at most the number of threads that ran agents at once.</summary>
    internal int PooledLosses => Volatile.Read(ref _lossesBuilt);

    /// <summary>
    /// The reference for tests: one A2C loss per agent, built at the agent's offset and never moved, as before the pool
    /// (B graphs in memory). Either way gives bit-identical results; false (the pool) is the default.
    /// </summary>
    internal bool LossPerAgent { get; set; }

    /// <summary>How <see cref="Unroll"/> runs the inner updates; every mode gives bit-identical results (Fused, the default, is the fastest).</summary>
    public InnerUpdateMode UpdateMode { get; set; } = InnerUpdateMode.Fused;
    public NetworkSpec Spec { get; }
    public PipelineSchedule Schedule { get; }
    public int B { get; }
    public int P { get; }

    /// <inheritdoc/>
    public int ParameterCount => P;

    /// <inheritdoc/>
    public StateDtype StateType => State.Dtype;
    public int N { get; }
    public int K { get; }
    public int StateSize { get; }
    public float[] Theta { get; }
    public float[] Grad { get; }
    /// <summary>Δθ of one inner update, for the unfused update modes only (allocated on first use).</summary>
    public float[] Updates => _updates ??= new float[N];

    private float[]? _updates;
    public float[] Grads { get; }

    private readonly RecurrentState[] _states;
    private int _current;

    /// <summary>The state at the start of the meta-iteration (h_0); after <see cref="Advance"/>, the newest state.</summary>
    public RecurrentState State => _states[_current];

    /// <summary>The other buffer: the inner updates' state during a meta-iteration.</summary>
    public RecurrentState NextState => _states[1 - _current];

    /// <summary>Makes <see cref="NextState"/> the current state (end of a meta-iteration).</summary>
    public void Advance() => _current = 1 - _current;

    public IDiscreteVectorEnv[] Envs { get; }
    public EpisodeTracker[] Trackers { get; }
    public Rng[] ActionRngs { get; }
    public Rng[] InitRngs { get; }

    /// <summary>Fresh θ (LeCun normal from the agent's init stream), zero optimizer state, fresh episodes; <paramref name="agent"/> is global.</summary>
    public void ResetAgent(int agent)
    {
        int j = agent - FirstAgent;
        var init = InitRngs[j].Fork();
        Spec.InitParams(Theta.AsSpan(j * P, P), ref init);
        State.ClearCoordinates(j * P, P);
        Envs[j].Reset();
        for (int e = 0; e < Config.EnvsPerAgent; e++) Trackers[j].Restart(e);
    }

    /// <inheritdoc/>
    public double Unroll(ReadOnlySpan<float> phi, int updates, bool record, long iteration)
    {
        if (record && updates != K) throw new ArgumentException($"A recorded unroll has K = {K} updates, not {updates}.", nameof(updates));
        phi.CopyTo(_phi);
        double before = Recorded();
        float alpha = Config.LearningRate;
        // The first update reads h_0 and writes the other state buffer, the rest work on that buffer
        // in place, so h_0 stays for the meta-gradient.
        var h0 = State;
        var h = NextState;
        if (UpdateMode == InnerUpdateMode.SnapshotCopy) h0.Span.CopyTo(h.Span);
        for (int k = 0; k < updates; k++)
        {
            var rollouts = PhaseClock.Begin(PhaseRegion.Inner);
            ForEachAgent((j, loss) => loss.RolloutAndGradient(ref ActionRngs[j], Trackers[j]));
            PhaseClock.End(MetaPhase.InnerRollouts, rollouts);
            var kernel = PhaseClock.Begin();
            var gk = Grads.AsSpan((record ? k : 0) * N, N);
            var from = k == 0 && UpdateMode != InnerUpdateMode.SnapshotCopy ? h0 : h;
            if (UpdateMode == InnerUpdateMode.Fused)
            {
                // clip → step → θ += Δ in one pass; one parameter vector per agent
                _lopt.UpdateGrouped(_phi, from.Span, h.Span, Grad, _gradClip, gk, Theta, alpha, P);
            }
            else
            {
                ClipElementwise.Into(Grad, gk, _gradClip);
                _lopt.StepGrouped(_phi, from.Span, h.Span, gk, Updates, alpha, P);
                TP.Add(Theta, Updates, Theta);
            }
            PhaseClock.End(MetaPhase.InnerKernel, kernel);
        }
        Advance();
        _h0 = record ? h0 : null;
        return Recorded() - before;
    }

    /// <inheritdoc/>
    public double MetaLoss(long iteration, ref A2CLossTerms terms, double termsWeight)
    {
        // Every agent's loss and terms, in global agent order on every rank, folded in that order. The terms are
        // read right after the agent's call: its pooled loss moves on to another agent afterwards.
        var rows = new double[OwnedAgents * 5];
        ForEachAgent((j, loss) =>
        {
            double l = loss.RolloutAndGradient(ref ActionRngs[j], Trackers[j]);
            var lt = loss.LastTerms;
            (rows[5 * j], rows[5 * j + 1], rows[5 * j + 2], rows[5 * j + 3], rows[5 * j + 4]) = (l, lt.Policy, lt.Value, lt.EntropyLoss, lt.Entropy);
        });
        double[] all = AgentRows(rows);
        double taskLoss = 0;
        for (int j = 0; j < all.Length; j += 5) taskLoss += all[j];
        if (!double.IsFinite(taskLoss))
            throw new TrainingDivergedException($"The agents of task {Config.Env} diverged at meta-iteration {iteration}: their A2C loss is NaN/Inf, so the learned optimizer's steps were too large; lower agent_optim.kwargs.learning_rate (α = {Config.LearningRate}) or set agent_optim.kwargs.grad_clip. φ is kept at its value after iteration {iteration - 1}.");
        for (int j = 0; j < all.Length; j += 5) terms = terms.AddScaled(new A2CLossTerms(all[j + 1], all[j + 2], all[j + 3], all[j + 4]), termsWeight);
        return taskLoss;
    }

    /// <summary>
    /// Runs <paramref name="body"/> for every owned agent j (local index) in parallel, with an A2C loss bound to agent j
    /// (env j, offset j·P). Each worker takes a loss from the pool on its first agent and keeps it for the rest of
    /// its share, so the pool never holds more losses than workers ran at once.
    /// </summary>
    private void ForEachAgent(Action<int, A2CLoss<float>> body)
    {
        if (LossPerAgent)
        {
            var own = _lossPerAgent ??= [.. Enumerable.Range(0, OwnedAgents).Select(j => new A2CLoss<float>(Spec, Envs[j], _agentConfig, Theta, Grad, j * P))];
            Parallel.For(0, OwnedAgents, _parallel, j => body(j, own[j]));
            return;
        }

        Parallel.For(0, OwnedAgents, _parallel,
            static () => (A2CLoss<float>?)null,
            (j, _, loss) =>
            {
                loss ??= RentLoss(j);
                loss.Retarget(Envs[j], j * P);
                body(j, loss);
                return loss;
            },
            loss =>
            {
                if (loss is null) return;
                lock (_idleLosses) _idleLosses.Push(loss);
            });
    }

    /// <summary>An idle pooled loss, or a new one (built for agent <paramref name="j"/>, whom the caller binds anyway).</summary>
    private A2CLoss<float> RentLoss(int j)
    {
        lock (_idleLosses)
        {
            if (_idleLosses.TryPop(out var idle)) return idle;
        }

        Interlocked.Increment(ref _lossesBuilt);
        return new A2CLoss<float>(Spec, Envs[j], _agentConfig, Theta, Grad, j * P);
    }

    /// <summary>Every rank's per-agent rows, concatenated in rank order: the global agent order.</summary>
    private double[] AgentRows(double[] local) => _ranks.Size == 1 ? local : [.. _ranks.AllGather(local).SelectMany(r => r)];

    /// <inheritdoc/>
    /// <remarks>
    /// One kernel call over all B·P coordinates: the agents' contributions are summed in the kernel's chunk order.
    /// Under ranks each rank computes its agents' per-chunk partial sums and <see cref="Communicator.OrderedSum"/>
    /// adds all chunks in global order, as the kernel does in one process, before the same rounding to float.
    /// </remarks>
    public void AccumulateMetaGradient(Span<float> sum)
    {
        var h0 = _h0 ?? throw new InvalidOperationException("The meta-gradient needs a recorded unroll first.");
        if (_ranks.Size == 1)
        {
            _lopt.MetaGradientGrouped(_phi, h0.Span, Grads, K, Grad, Config.LearningRate, sum, P);
            return;
        }
        int count = _phi.Length;
        var partials = new double[(long)Optimizers.Learned.LearnedKernelDriver.ChunkCount(N, P) * count];
        _lopt.MetaGradientPartials(_phi, h0.Span, Grads, K, Grad, Config.LearningRate, partials, P);
        double[] total = _ranks.OrderedSum(partials, count);
        for (int p = 0; p < count; p++) sum[p] += (float)total[p];
    }

    /// <inheritdoc/>
    public (double Sum, int Count) DrainReturns()
    {
        // Per agent, then folded in global agent order: EpisodeTracker.DrainAll's order in one process.
        var rows = new double[2 * OwnedAgents];
        for (int j = 0; j < OwnedAgents; j++) (rows[2 * j], rows[2 * j + 1]) = Trackers[j].Drain();
        double[] all = AgentRows(rows);
        double total = 0;
        int episodes = 0;
        for (int j = 0; j < all.Length; j += 2)
        {
            total += all[j];
            episodes += (int)all[j + 1];
        }
        return (total, episodes);
    }

    /// <summary>All reward the trackers hold: finished episodes since the last drain and unfinished ones.</summary>
    private double Recorded()
    {
        double sum = 0;
        foreach (var tr in Trackers) sum += tr.FinishedReturnSum + tr.UnfinishedReturnSum;
        return sum;
    }

    public void Save(BinaryWriter w)
    {
        w.Write(Config.Env);
        w.Write(B);
        w.Write(P);
        BinaryArrays.WriteFloats(w, Theta);
        w.Write((byte)State.Dtype);
        State.Write(w);
        for (int j = 0; j < OwnedAgents; j++) SaveEpisode(w, j);
    }

    /// <summary>Writes agent <paramref name="agent"/>'s (global index, owned here) own state: θ, its optimizer-state coordinates, env, streams, tracker.</summary>
    public void SaveAgent(BinaryWriter w, int agent)
    {
        int j = agent - FirstAgent;
        BinaryArrays.WriteFloats(w, Theta.AsSpan(j * P, P));
        State.WriteCoordinates(w, j * P, P);
        SaveEpisode(w, j);
    }

    // An agent's environment, streams and tracker (local index).
    private void SaveEpisode(BinaryWriter w, int j)
    {
        Envs[j].SaveState(w);
        w.Write(ActionRngs[j].Key); w.Write(ActionRngs[j].Counter);
        w.Write(InitRngs[j].Key); w.Write(InitRngs[j].Counter);
        Trackers[j].Save(w);
    }

    private void LoadEpisode(BinaryReader r, int j)
    {
        Envs[j].LoadState(r);
        ActionRngs[j] = new Rng(r.ReadUInt64(), r.ReadUInt64());
        InitRngs[j] = new Rng(r.ReadUInt64(), r.ReadUInt64());
        Trackers[j].Load(r);
    }

    /// <summary>Restores what <see cref="SaveAgent"/> wrote into owned agent <paramref name="agent"/> (global index).</summary>
    /// <exception cref="InvalidDataException">The stored sizes differ.</exception>
    public void LoadAgent(BinaryReader r, int agent)
    {
        int j = agent - FirstAgent;
        BinaryArrays.ReadFloats(r, Theta.AsSpan(j * P, P));
        State.ReadCoordinates(r, j * P, P);
        LoadEpisode(r, j);
    }

    /// <param name="r">The checkpoint, at this task's payload.</param>
    /// <param name="convertState">Accept a state stored in the other type, converting it; otherwise such a checkpoint is rejected.</param>
    /// <exception cref="InvalidDataException">Another task, size or state type.</exception>
    public void Load(BinaryReader r, bool convertState)
    {
        string env = r.ReadString();
        int b = r.ReadInt32(), p = r.ReadInt32();
        if (env != Config.Env || b != B || p != P)
            throw new InvalidDataException($"Checkpoint task '{env}' with {b} agents × {p} parameters does not match this run's '{Config.Env}' with {B} × {P}.");
        BinaryArrays.ReadFloats(r, Theta);
        var dtype = (StateDtype)r.ReadByte();
        if (!Enum.IsDefined(dtype) || (dtype != State.Dtype && !convertState))
            throw new InvalidDataException($"Checkpoint task '{env}' stores the learned optimizer's state as {(Enum.IsDefined(dtype) ? dtype.Name() : $"type {(int)dtype}")}, this run uses {State.Dtype.Name()} (agent_optim.kwargs.state_dtype).");
        State.Read(r, dtype);
        for (int j = 0; j < OwnedAgents; j++) LoadEpisode(r, j);
    }
}
