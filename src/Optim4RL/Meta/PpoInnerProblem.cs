using Optim4RL.Agents;
using Optim4RL.Distributed;
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
/// in agent order, so results do not depend on the thread count. Under MPI ranks a process holds only its
/// slice of the agents (<see cref="FirstAgent"/>, <see cref="OwnedAgents"/>), each seeded by its global index;
/// every sum over agents gathers the per-agent values to all ranks and folds them in global agent order, and
/// an agent that diverges on one rank stops every rank with the same message, so every rank gets one process's bits.
/// </remarks>
internal sealed class PpoInnerProblem : IInnerProblem, ISlicedProblem
{
    private readonly MetaPpoConfig _cfg;
    private readonly Ppo[] _agents;
    private readonly RecordingLearnedOptimizer[] _recorders;
    private readonly float[] _phi;
    private readonly float[][] _agentMetaGrad;
    private readonly double[] _agentLoss, _returnSum, _collected;
    private readonly int[] _episodes;
    private readonly A2CLossTerms[] _agentTerms;
    private readonly Communicator _ranks;
    private ParallelOptions _parallel = Tensors.Threads.Options(null);
    private int? _threads;

    /// <param name="cfg">Run settings (validated).</param>
    /// <param name="kernel">The learned optimizer (stateless between calls, so the agents share it).</param>
    /// <param name="envFactory">One agent's environments: (count, stream) → a vector environment of the task.</param>
    /// <param name="root">The run's root stream; agent j's streams are its child j + 1, whichever process runs it.</param>
    /// <param name="ranks">The job whose ranks share the agents (null: one process).</param>
    /// <param name="slice">The agents this process runs (null: all B).</param>
    public PpoInnerProblem(MetaPpoConfig cfg, ILearnedOptimizer kernel, Func<int, Rng, IContinuousVectorEnv> envFactory, Rng root,
        Communicator? ranks = null, (int First, int Count)? slice = null)
    {
        _cfg = cfg;
        int b = cfg.NumAgents;
        _ranks = ranks ?? SingleProcessCommunicator.Instance;
        (FirstAgent, OwnedAgents) = slice ?? (0, b);
        if (FirstAgent < 0 || OwnedAgents < 0 || FirstAgent + OwnedAgents > b)
            throw new ArgumentOutOfRangeException(nameof(slice), $"agents {FirstAgent}..{FirstAgent + OwnedAgents - 1} are not among the task's {b}.");
        int local = OwnedAgents;
        _phi = new float[kernel.Layout.Count];
        var agentCfg = cfg.AgentConfig;
        _agents = new Ppo[local];
        _recorders = new RecordingLearnedOptimizer[local];
        _agentMetaGrad = new float[local][];
        PpoNetworks? nets = null;
        for (int j = 0; j < local; j++)
        {
            var agentRng = root.Split((ulong)(FirstAgent + j) + 1);
            var env = envFactory(cfg.EnvsPerAgent, agentRng.Split(0));
            nets ??= PpoNetworks.For(env.ObservationSize, env.ActionSize, agentCfg);
            _recorders[j] = new RecordingLearnedOptimizer(kernel, _phi, cfg.LearningRate, (float)cfg.GradClip, nets.ParamCount, cfg.StepsPerMetaIteration);
            _agents[j] = new Ppo(nets, env, _recorders[j], agentCfg, agentRng.Split(1), withMetaBatch: true);
            _agentMetaGrad[j] = new float[_phi.Length];
        }
        if (nets is null)
        {
            // A rank with no agent (more ranks than agents) still needs the networks' shape: agent 0's environment tells it.
            var probe = envFactory(cfg.EnvsPerAgent, root.Split(1).Split(0));
            nets = PpoNetworks.For(probe.ObservationSize, probe.ActionSize, agentCfg);
            (probe as IDisposable)?.Dispose();
        }
        Networks = nets;
        Schedule = new PipelineSchedule(b, cfg.Pipeline ? cfg.ResetInterval : 1, cfg.Pipeline);
        _agentLoss = new double[local];
        _agentTerms = new A2CLossTerms[local];
        _returnSum = new double[local];
        _collected = new double[local];
        _episodes = new int[local];
        long metaSegments = local > 0 ? _agents[0].Agent.MetaBatch?.Segments ?? 0 : (long)agentCfg.MetaUnrolls(cfg.EnvsPerAgent) * cfg.EnvsPerAgent;
        long metaRolloutSteps = metaSegments * agentCfg.UnrollLength;
        EnvStepsPerIteration = b * (cfg.StepsPerIteration + metaRolloutSteps);
    }

    public PpoNetworks Networks { get; }

    public IReadOnlyList<Ppo> AgentList => _agents;

    public string TaskName => _cfg.Env;

    public int Agents => _cfg.NumAgents;

    public int FirstAgent { get; }

    public int OwnedAgents { get; }

    /// <summary>P, each agent's parameter count (a slice file's check).</summary>
    public int ParameterCount => Networks.ParamCount;

    /// <summary>MetaPPO keeps the learned optimizer's state in float32.</summary>
    public StateDtype StateType => StateDtype.Float32;

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
            _parallel = Tensors.Threads.Options(value);
            foreach (var a in _agents) a.Parallelism = _parallel;
        }
    }

    public void ResetAgent(int agent) => _agents[agent - FirstAgent].Reset();

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
        foreach (double c in AgentRows(_collected)) sum += c;
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
                throw new TrainingDivergedException($"MetaPPO agent {FirstAgent + j} diverged: its PPO loss or gradient is NaN/Inf, so the learned optimizer's steps were too large; lower agent_optim.kwargs.learning_rate (α) or set agent_optim.kwargs.grad_clip.");
            _agentLoss[j] = loss;
            var lt = ppo.Agent.Loss.LastTerms;
            _agentTerms[j] = new A2CLossTerms(lt.Policy, lt.Value, lt.Entropy, ppo.Agent.Loss.LastEntropy);
        });
        // Every agent's loss and terms, in global agent order on every rank, folded in that order.
        var rows = new double[5 * _agents.Length];
        for (int j = 0; j < _agents.Length; j++)
        {
            var t = _agentTerms[j];
            (rows[5 * j], rows[5 * j + 1], rows[5 * j + 2], rows[5 * j + 3], rows[5 * j + 4]) = (_agentLoss[j], t.Policy, t.Value, t.EntropyLoss, t.Entropy);
        }
        double[] all = AgentRows(rows);
        double sum = 0;
        for (int j = 0; j < all.Length; j += 5)
        {
            sum += all[j];
            terms = terms.AddScaled(new A2CLossTerms(all[j + 1], all[j + 2], all[j + 3], all[j + 4]), termsWeight);
        }
        return sum;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Each agent's meta-gradient into its own buffer (in parallel), then the sum in agent order. Under ranks every
    /// rank's agents' meta-gradients are gathered on rank 0, which adds them onto <paramref name="sum"/> in global agent
    /// order, as one process does, and sends the result to all ranks.
    /// </remarks>
    public void AccumulateMetaGradient(Span<float> sum)
    {
        ForEachAgent(0, j =>
        {
            Array.Clear(_agentMetaGrad[j]);
            _recorders[j].MetaGradient(_agents[j].Gradient, _agentMetaGrad[j]);
        });
        if (_ranks.Size == 1)
        {
            for (int j = 0; j < _agents.Length; j++) TP.Add(sum, _agentMetaGrad[j], sum);
            return;
        }
        int d = _phi.Length;
        var local = new float[_agents.Length * d];
        for (int j = 0; j < _agents.Length; j++) _agentMetaGrad[j].CopyTo(local, j * d);
        float[]? total = null;
        if (_ranks.Gather(local) is { } all)
        {
            total = sum.ToArray();
            foreach (float[] rank in all)
                for (int at = 0; at < rank.Length; at += d) TP.Add(total, rank.AsSpan(at, d), total);
        }
        _ranks.Broadcast(total).CopyTo(sum);
    }

    /// <inheritdoc/>
    public (double Sum, int Count) DrainReturns()
    {
        // Per agent, then folded in global agent order on every rank.
        var rows = new double[2 * _agents.Length];
        for (int j = 0; j < _agents.Length; j++)
        {
            var (s, c) = _agents[j].Agent.Tracker.Drain();
            (rows[2 * j], rows[2 * j + 1]) = (_returnSum[j] + s, _episodes[j] + c);
            _returnSum[j] = 0;
            _episodes[j] = 0;
        }
        double[] all = AgentRows(rows);
        double sum = 0;
        int count = 0;
        for (int j = 0; j < all.Length; j += 2)
        {
            sum += all[j];
            count += (int)all[j + 1];
        }
        return (sum, count);
    }

    /// <summary>Writes the agent count and every agent this process runs (θ, optimizer state, normaliser, environments, streams).</summary>
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

    /// <summary>Writes agent <paramref name="agent"/>'s (global index, owned here) state: what <see cref="Save"/> writes of it.</summary>
    public void SaveAgent(BinaryWriter writer, int agent) => _agents[agent - FirstAgent].Save(writer);

    /// <summary>Restores what <see cref="SaveAgent"/> wrote into owned agent <paramref name="agent"/> (global index).</summary>
    public void LoadAgent(BinaryReader reader, int agent)
    {
        int j = agent - FirstAgent;
        _agents[j].Load(reader);
        _returnSum[j] = 0;
        _episodes[j] = 0;
    }

    private static double Recorded(EpisodeTracker tracker) => tracker.FinishedReturnSum + tracker.UnfinishedReturnSum;

    /// <summary>Every rank's per-agent rows, concatenated in rank order: the global agent order.</summary>
    private double[] AgentRows(double[] local) => _ranks.Size == 1 ? local : [.. _ranks.AllGather(local).SelectMany(r => r)];

    /// <summary>
    /// Runs <paramref name="body"/> for every agent, in parallel unless one thread or one agent; a divergence names the meta-iteration.
    /// Under ranks every rank learns whether an agent diverged anywhere, and all throw the message of the first such agent.
    /// </summary>
    private void ForEachAgent(long iteration, Action<int> body)
    {
        if (_ranks.Size == 1)
        {
            ForEachLocalAgent(iteration, body);
            return;
        }
        // A divergence is kept, not thrown, until every rank has said whether it saw one: a rank that threw
        // alone would leave the others waiting in the next collective.
        var diverged = new string?[_agents.Length];
        ForEachLocalAgent(iteration, j =>
        {
            try
            {
                body(j);
            }
            catch (TrainingDivergedException e)
            {
                diverged[j] = e.Message;
            }
        });
        string? failure = diverged.FirstOrDefault(m => m is not null);
        var messages = _ranks.AllGather(System.Text.Encoding.UTF8.GetBytes(failure ?? ""));
        byte[]? first = messages.FirstOrDefault(m => m.Length > 0);
        if (first is not null)
            throw new TrainingDivergedException($"{System.Text.Encoding.UTF8.GetString(first)} (meta-iteration {iteration}; φ is kept at its value after iteration {iteration - 1}).");
    }

    private void ForEachLocalAgent(long iteration, Action<int> body)
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
