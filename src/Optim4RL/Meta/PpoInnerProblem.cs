using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Meta;

/// <summary>
/// The inner problem of MetaPPO (docs/algorithms.md, "MetaPPO"): B PPO agents on one continuous-control
/// task, each with its own environments, a <see cref="RecordingLearnedOptimizer"/> and random streams
/// (agent j's are children j + 1 of the run's stream). An inner update is one PPO training step
/// (<see cref="Ppo.TrainingStep"/>) whose every minibatch step is one learned-optimizer step, so K =
/// inner_updates × update_epochs × num_minibatches steps are recorded per agent; the meta-loss is the PPO
/// loss of θ_K on a fresh rollout (<see cref="PpoAgent{T}.MetaLossGradient"/>).
/// </summary>
/// <remarks>
/// Agents run in parallel, each with its own kernel state and streams; their meta-gradients are summed
/// in agent order, so results do not depend on the thread count.
/// </remarks>
internal sealed class PpoInnerProblem : IInnerProblem
{
    private readonly MetaPpoConfig _cfg;
    private readonly Ppo[] _agents;
    private readonly RecordingLearnedOptimizer[] _recorders;
    private readonly float[] _phi;
    private readonly float[][] _agentMetaGrad;
    private readonly double[] _agentLoss, _returnSum, _collected;
    private readonly int[] _episodes;
    private readonly A2CLossTerms[] _agentTerms;
    private ParallelOptions _parallel = new();
    private int? _threads;

    /// <param name="cfg">Run settings (validated).</param>
    /// <param name="kernel">The learned optimizer (stateless between calls, so the agents share it).</param>
    /// <param name="envFactory">One agent's environments: (count, stream) → a vector environment of the task.</param>
    /// <param name="root">The run's root stream.</param>
    public PpoInnerProblem(MetaPpoConfig cfg, ILearnedOptimizer kernel, Func<int, Rng, IContinuousVectorEnv> envFactory, Rng root)
    {
        _cfg = cfg;
        int b = cfg.NumAgents;
        _phi = new float[kernel.Layout.Count];
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
            _recorders[j] = new RecordingLearnedOptimizer(kernel, _phi, cfg.LearningRate, (float)cfg.GradClip, nets.ParamCount, cfg.StepsPerMetaIteration);
            _agents[j] = new Ppo(nets, env, _recorders[j], agentCfg, agentRng.Split(1), withMetaBatch: true);
            _agentMetaGrad[j] = new float[_phi.Length];
        }
        Networks = nets!;
        Schedule = new PipelineSchedule(b, cfg.Pipeline ? cfg.ResetInterval : 1, cfg.Pipeline);
        _agentLoss = new double[b];
        _agentTerms = new A2CLossTerms[b];
        _returnSum = new double[b];
        _collected = new double[b];
        _episodes = new int[b];
        long metaRolloutSteps = (long)(_agents[0].Agent.MetaBatch?.Segments ?? 0) * agentCfg.UnrollLength;
        EnvStepsPerIteration = b * (cfg.StepsPerIteration + metaRolloutSteps);
    }

    public PpoNetworks Networks { get; }

    public IReadOnlyList<Ppo> AgentList => _agents;

    public string TaskName => _cfg.Env;

    public int Agents => _agents.Length;

    public int InnerUpdates => _cfg.InnerUpdates;

    public PipelineSchedule Schedule { get; }

    public long StepsPerIteration => _cfg.StepsPerIteration;

    public long EnvStepsPerIteration { get; }

    public long StepsPerInnerUpdate => _cfg.Agent.EnvStepsPerTrainingStep;

    public bool CanRestartPopulation => false;

    public int? MaxDegreeOfParallelism
    {
        set
        {
            _threads = value;
            _parallel = new ParallelOptions { MaxDegreeOfParallelism = value ?? -1 };
            foreach (var a in _agents) a.Parallelism = _parallel;
        }
    }

    public void ResetAgent(int agent) => _agents[agent].Reset();

    /// <inheritdoc/>
    public double Unroll(ReadOnlySpan<float> phi, int updates, bool record, long iteration)
    {
        phi.CopyTo(_phi); // the recorders read this array
        ForEachAgent(iteration, j =>
        {
            var ppo = _agents[j];
            _recorders[j].Begin(ppo.OptimizerState, record);
            double before = Recorded(ppo.Agent.Tracker), drained = 0;
            for (int i = 0; i < updates; i++)
            {
                var log = ppo.TrainingStep();
                _returnSum[j] += log.ReturnSum;
                _episodes[j] += log.Episodes;
                drained += log.ReturnSum;
            }
            _collected[j] = drained + Recorded(ppo.Agent.Tracker) - before;
        });
        double sum = 0;
        foreach (double c in _collected) sum += c;
        return sum;
    }

    /// <inheritdoc/>
    public double MetaLoss(long iteration, ref A2CLossTerms terms, double termsWeight)
    {
        ForEachAgent(iteration, j =>
        {
            var ppo = _agents[j];
            double loss = ppo.Agent.MetaLossGradient();
            if (!double.IsFinite(loss) || !float.IsFinite(TP.Sum<float>(ppo.Gradient)))
                throw new TrainingDivergedException($"MetaPPO agent {j} diverged: its PPO loss or gradient is NaN/Inf, so the learned optimizer's steps were too large; lower agent_optim.kwargs.learning_rate (α) or set agent_optim.kwargs.grad_clip.");
            _agentLoss[j] = loss;
            var lt = ppo.Agent.Loss.LastTerms;
            _agentTerms[j] = new A2CLossTerms(lt.Policy, lt.Value, lt.Entropy, ppo.Agent.Loss.LastEntropy);
        });
        double sum = 0;
        for (int j = 0; j < _agents.Length; j++)
        {
            sum += _agentLoss[j];
            terms = terms.AddScaled(_agentTerms[j], termsWeight);
        }
        return sum;
    }

    /// <inheritdoc/>
    /// <remarks>Each agent's meta-gradient into its own buffer (in parallel), then the sum in agent order.</remarks>
    public void AccumulateMetaGradient(Span<float> sum)
    {
        ForEachAgent(0, j =>
        {
            Array.Clear(_agentMetaGrad[j]);
            _recorders[j].MetaGradient(_agents[j].Gradient, _agentMetaGrad[j]);
        });
        for (int j = 0; j < _agents.Length; j++) TP.Add(sum, _agentMetaGrad[j], sum);
    }

    /// <inheritdoc/>
    public (double Sum, int Count) DrainReturns()
    {
        double sum = 0;
        int count = 0;
        for (int j = 0; j < _agents.Length; j++)
        {
            var (s, c) = _agents[j].Agent.Tracker.Drain();
            sum += _returnSum[j] + s;
            count += _episodes[j] + c;
            _returnSum[j] = 0;
            _episodes[j] = 0;
        }
        return (sum, count);
    }

    /// <summary>Writes the agent count and every agent (θ, optimizer state, normaliser, environments, streams).</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(_agents.Length);
        foreach (var a in _agents) a.Save(writer);
    }

    /// <inheritdoc/>
    public void Load(BinaryReader reader, bool convertState)
    {
        int b = reader.ReadInt32();
        if (b != _agents.Length) throw new InvalidDataException($"Checkpoint has {b} agents, this run has {_agents.Length}.");
        foreach (var a in _agents) a.Load(reader);
        Array.Clear(_returnSum);
        Array.Clear(_episodes);
    }

    private static double Recorded(EpisodeTracker tracker) => tracker.FinishedReturnSum + tracker.UnfinishedReturnSum;

    /// <summary>Runs <paramref name="body"/> for every agent, in parallel unless one thread or one agent; a divergence names the meta-iteration.</summary>
    private void ForEachAgent(long iteration, Action<int> body)
    {
        int b = _agents.Length;
        try
        {
            if (b == 1 || _threads == 1)
                for (int j = 0; j < b; j++) body(j);
            else
                Parallel.For(0, b, _parallel, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is TrainingDivergedException) is { } d)
        {
            throw new TrainingDivergedException($"{d.Message} (meta-iteration {iteration}; φ is kept at its value after iteration {iteration - 1}).");
        }
    }
}
