using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Io;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Meta;

/// <summary>
/// Meta-training of a learned optimizer with PPO agents (docs/algorithms.md, "MetaPPO"; the reference's
/// MetaPPO, and MetapPPO without pipeline resets). Each meta-iteration:
/// <list type="number">
/// <item>pipeline reset: agent j starts over (fresh θ, optimizer state, normaliser, episodes) when
/// (t − 1) mod R = reset_index_j (<see cref="PipelineSchedule"/>; never for MetapPPO);</item>
/// <item>every agent does <c>inner_updates</c> PPO training steps (<see cref="Ppo.TrainingStep"/>)
/// whose every minibatch step is one learned-optimizer step, recorded: K = inner_updates ×
/// update_epochs × num_minibatches steps;</item>
/// <item>meta-loss: the PPO loss of θ_K on a fresh rollout (<see cref="PpoAgent{T}.MetaLossGradient"/>),
/// whose gradient is the adjoint λ;</item>
/// <item>meta-gradient through all K steps (g constant), mean over agents, optional rescale to
/// max_norm, one meta-optimizer step on φ.</item>
/// </list>
/// </summary>
/// <remarks>
/// Agents run in parallel, each with its own environments, kernel instance and RNG streams, and
/// their meta-gradients are summed in agent order, so results do not depend on the thread count.
/// </remarks>
public sealed class MetaPpo : IMetaTrainer
{
    private const uint CheckpointMagic = 0x5050344F; // "O4PP"
    private const int CheckpointVersion = 2; // 2: episode trackers saved

    private readonly MetaPpoConfig _cfg;
    private readonly IOptimizer _metaOptimizer;
    private readonly OptimizerState _metaState;
    private readonly Ppo[] _agents;
    private readonly RecordingLearnedOptimizer[] _recorders;
    private readonly float[][] _agentMetaGrad;
    private readonly double[] _agentLoss, _agentReturnSum;
    private readonly A2CLossTerms[] _agentTerms;
    private readonly int[] _agentEpisodes;
    private readonly float[] _phi, _metaGrad, _phiUpdate;
    private readonly Action<int> _runAgent;
    private ParallelOptions _parallel = new();
    private int? _threads;

    /// <summary>Builds the agents and their environments and initialises φ.</summary>
    /// <param name="cfg">Run settings.</param>
    /// <param name="learnedOptimizer">The learned optimizer's architecture name (<see cref="LearnedOptimizers.Names"/>).</param>
    /// <param name="metaOptimizer">The optimizer of φ (Adam with grad_clip or grad_norm in the reference).</param>
    /// <param name="envFactory">Creates one agent's environments: (count, stream) → a vector environment of the task.</param>
    /// <param name="initialPhi">Starting φ (e.g. loaded from a file); null draws the architecture's initial values.</param>
    /// <exception cref="ArgumentException">Invalid settings, an unknown learned optimizer, or <paramref name="initialPhi"/> of the wrong length.</exception>
    public MetaPpo(MetaPpoConfig cfg, string learnedOptimizer, IOptimizer metaOptimizer, Func<int, Rng, IContinuousVectorEnv> envFactory, float[]? initialPhi = null)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        ArgumentNullException.ThrowIfNull(envFactory);
        cfg.Validate();
        _cfg = cfg;
        _metaOptimizer = metaOptimizer;
        int b = cfg.NumAgents;
        var root = new Rng(cfg.Seed);
        LearnedOptimizer = LearnedOptimizers.Create(learnedOptimizer); // one kernel serves all agents at once

        _phi = new float[LearnedOptimizer.Layout.Count];
        if (initialPhi is null)
        {
            var r = root.Split(1000);
            LearnedOptimizer.InitMetaParams(ref r, _phi);
        }
        else
        {
            if (initialPhi.Length != _phi.Length)
                throw new ArgumentException($"Initial φ has {initialPhi.Length} values; {LearnedOptimizer.Name} needs {_phi.Length}.", nameof(initialPhi));
            initialPhi.CopyTo(_phi, 0);
        }
        _metaGrad = new float[_phi.Length];
        _phiUpdate = new float[_phi.Length];
        _metaState = metaOptimizer.Init(_phi.Length);

        var agentCfg = cfg.AgentConfig;
        _agents = new Ppo[b];
        _recorders = new RecordingLearnedOptimizer[b];
        _agentMetaGrad = new float[b][];
        PpoNetworks? nets = null;
        for (int j = 0; j < b; j++)
        {
            var agentRng = root.Split((ulong)j + 1);
            var env = envFactory(cfg.EnvsPerAgent, agentRng.Split(0));
            nets ??= PpoNetworks.For(env.ObservationSize, env.ActionSize, agentCfg);
            _recorders[j] = new RecordingLearnedOptimizer(LearnedOptimizer, _phi, cfg.LearningRate, (float)cfg.GradClip, nets.ParamCount, cfg.StepsPerMetaIteration);
            _agents[j] = new Ppo(nets, env, _recorders[j], agentCfg, agentRng.Split(1), withMetaBatch: true);
            _agentMetaGrad[j] = new float[_phi.Length];
        }
        Networks = nets!;
        Schedule = new PipelineSchedule(b, cfg.Pipeline ? cfg.ResetInterval : 1, cfg.Pipeline);
        _agentLoss = new double[b];
        _agentTerms = new A2CLossTerms[b];
        _agentReturnSum = new double[b];
        _agentEpisodes = new int[b];
        _runAgent = RunAgent;
        MaxDegreeOfParallelism = null;
    }

    /// <summary>The learned optimizer being meta-trained (one kernel instance, shared by the agents).</summary>
    public ILearnedOptimizer LearnedOptimizer { get; }

    /// <summary>The meta-parameters φ (live; copy before keeping).</summary>
    public float[] Phi => _phi;

    /// <summary>The agents' networks.</summary>
    public PpoNetworks Networks { get; }

    /// <summary>The staggered reset schedule.</summary>
    public PipelineSchedule Schedule { get; }

    /// <summary>The B agents (for inspection).</summary>
    public IReadOnlyList<Ppo> Agents => _agents;

    /// <summary>Run settings.</summary>
    public MetaPpoConfig Config => _cfg;

    /// <summary>Meta-iterations completed.</summary>
    public long Iteration { get; private set; }

    /// <summary>Total meta-iterations of the run.</summary>
    public long Iterations => _cfg.Iterations;

    /// <summary>Thread count for the agents, their loss chunks and the kernels (null = all cores).</summary>
    public int? MaxDegreeOfParallelism
    {
        get => _threads;
        set
        {
            _threads = value;
            _parallel = new ParallelOptions { MaxDegreeOfParallelism = value ?? -1 };
            foreach (var a in _agents) a.Parallelism = _parallel;
            LearnedOptimizer.MaxDegreeOfParallelism = value;
        }
    }

    /// <summary>One meta-iteration (reset, inner updates, meta-loss, meta-gradient, φ step).</summary>
    /// <exception cref="TrainingDivergedException">An agent, the meta-gradient or φ became NaN/Inf; φ keeps its last finite value.</exception>
    public MetaIterationLog Step()
    {
        long t = Iteration + 1;
        int b = _agents.Length;
        for (int j = 0; j < b; j++)
            if (Schedule.ShouldReset(j, t)) _agents[j].Reset();

        try
        {
            if (b == 1 || _threads == 1)
                for (int j = 0; j < b; j++) _runAgent(j);
            else
                Parallel.For(0, b, _parallel, _runAgent);
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is TrainingDivergedException) is { } d)
        {
            throw new TrainingDivergedException($"{d.Message} (meta-iteration {t}; φ is kept at its value after iteration {t - 1}).");
        }

        Array.Clear(_metaGrad);
        double loss = 0, returnSum = 0;
        int episodes = 0;
        var terms = default(A2CLossTerms);
        for (int j = 0; j < b; j++)
        {
            TP.Add(_metaGrad, _agentMetaGrad[j], _metaGrad);
            loss += _agentLoss[j];
            terms = terms.AddScaled(_agentTerms[j], 1.0 / b);
            returnSum += _agentReturnSum[j];
            episodes += _agentEpisodes[j];
        }
        TP.Multiply(_metaGrad, 1f / b, _metaGrad);
        MetaUpdate.RescaleToNorm(_metaGrad, _cfg.MaxNorm);
        float gradNorm = MetaUpdate.Apply(_metaOptimizer, _metaState, _phi, _metaGrad, _phiUpdate, t, out float updateNorm);
        Iteration = t;
        long metaRolloutSteps = (long)(_agents[0].Agent.MetaBatch?.Segments ?? 0) * _cfg.AgentConfig.UnrollLength;
        return new MetaIterationLog(t, t * _cfg.StepsPerIteration, loss / b, gradNorm, returnSum, episodes)
        {
            PhiUpdateNorm = updateNorm,
            MetaLossTerms = terms,
            EnvSteps = b * (_cfg.StepsPerIteration + metaRolloutSteps),
        };
    }

    /// <summary>Writes φ, the meta-optimizer state, the iteration and every agent (θ, optimizer state, normaliser, environments, streams).</summary>
    public void SaveCheckpoint(Stream stream)
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(CheckpointMagic);
        w.Write(CheckpointVersion);
        w.Write(LearnedOptimizer.Name);
        w.Write(_cfg.Env);
        w.Write(Iteration);
        BinaryArrays.WriteFloats(w, _phi);
        _metaState.Save(w);
        w.Write(_agents.Length);
        foreach (var a in _agents) a.Save(w);
    }

    /// <inheritdoc/>
    public int WarmUpIterations => Math.Max(1, _cfg.ResetInterval);

    /// <inheritdoc/>
    public void ContinueWithFreshPopulation(long iteration) =>
        throw new NotSupportedException("--restart-population is implemented for MetaA2C and MetapA2C; MetaPPO runs continue with --resume.");

    /// <inheritdoc/>
    public void SaveMetaState(BinaryWriter writer) => MetaUpdate.SaveMetaState(writer, LearnedOptimizer.Name, Iteration, _phi, _metaState);

    /// <inheritdoc/>
    public long LoadMetaState(BinaryReader reader) => MetaUpdate.LoadMetaState(reader, LearnedOptimizer.Name, _phi, _metaState);

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> for the same configuration.</summary>
    /// <exception cref="InvalidDataException">The file is not a MetaPPO checkpoint, or belongs to another configuration.</exception>
    public void LoadCheckpoint(Stream stream)
    {
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadUInt32() != CheckpointMagic) throw new InvalidDataException("Not an Optim4RL.NET MetaPPO checkpoint.");
            int version = r.ReadInt32();
            if (version != CheckpointVersion) throw new InvalidDataException($"Checkpoint version {version} is not supported (expected {CheckpointVersion}).");
            string name = r.ReadString();
            if (name != LearnedOptimizer.Name) throw new InvalidDataException($"Checkpoint is for learned optimizer '{name}', this run uses '{LearnedOptimizer.Name}'.");
            string env = r.ReadString();
            if (env != _cfg.Env) throw new InvalidDataException($"Checkpoint is for task '{env}', this run trains on '{_cfg.Env}'.");
            long iteration = r.ReadInt64();
            BinaryArrays.ReadFloats(r, _phi);
            _metaState.Load(r);
            int b = r.ReadInt32();
            if (b != _agents.Length) throw new InvalidDataException($"Checkpoint has {b} agents, this run has {_agents.Length}.");
            foreach (var a in _agents) a.Load(r);
            Iteration = iteration;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Checkpoint ends early: the file is truncated or corrupt.", e);
        }
    }

    /// <summary>Agent j's share of a meta-iteration: K recorded learned-optimizer steps, the meta-loss and its meta-gradient.</summary>
    private void RunAgent(int j)
    {
        var ppo = _agents[j];
        var rec = _recorders[j];
        rec.Begin(ppo.OptimizerState);
        double returnSum = 0;
        int episodes = 0;
        for (int i = 0; i < _cfg.InnerUpdates; i++)
        {
            var log = ppo.TrainingStep();
            returnSum += log.ReturnSum;
            episodes += log.Episodes;
        }
        double loss = ppo.Agent.MetaLossGradient();
        if (!double.IsFinite(loss) || !float.IsFinite(TP.Sum<float>(ppo.Gradient)))
            throw new TrainingDivergedException($"MetaPPO agent {j} diverged: its PPO loss or gradient is NaN/Inf, so the learned optimizer's steps were too large; lower agent_optim.kwargs.learning_rate (α) or set agent_optim.kwargs.grad_clip.");
        var (s, c) = ppo.Agent.Tracker.Drain();
        Array.Clear(_agentMetaGrad[j]);
        rec.MetaGradient(ppo.Gradient, _agentMetaGrad[j]);
        _agentLoss[j] = loss;
        var lt = ppo.Agent.Loss.LastTerms;
        _agentTerms[j] = new A2CLossTerms(lt.Policy, lt.Value, lt.Entropy, ppo.Agent.Loss.LastEntropy);
        _agentReturnSum[j] = returnSum + s;
        _agentEpisodes[j] = episodes + c;
    }
}
