using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Io;
using Optim4RL.Nn;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Meta;

/// <summary>
/// Everything one meta-training task owns (docs/algorithms.md, "Meta-training"): B agents whose parameters θ live in one
/// contiguous vector [B·P] (agent j at j·P), the learned optimizer's recurrent state
/// [StateSize, B·P], the K stored inner gradients [K, B·P], one single-environment vector env,
/// one A2C rollout/loss and RNG streams per agent. Buffers are allocated once.
/// </summary>
internal sealed class MetaTaskState
{
    public MetaTaskState(MetaTaskConfig cfg, MetaA2CConfig run, ILearnedOptimizer lopt, Rng rng)
    {
        Config = cfg;
        B = cfg.NumAgents;
        var probe = EnvRegistry.CreateDiscrete(cfg.Env, 1, rng, cfg.RewardScaling);
        Spec = NetworkSpec.ForTask(probe.Name, probe.ObservationShape.ToArray(), probe.ActionCount, run.ConvLayout);
        P = Spec.Layout.Count;
        // The largest buffer below ([max(K, state size), B·P] floats) must fit one .NET array.
        long rows = Math.Max(run.InnerUpdates, lopt.StateSize);
        if (rows * B * P > Array.MaxLength)
            throw new ArgumentException($"task {cfg.Env}: {B} agents × {P} parameters × {rows} need {rows * B * P:N0} floats in one array, more than .NET allows ({Array.MaxLength:N0}); lower env.num_envs (the agent count) to at most {Array.MaxLength / (rows * P)}.");
        N = B * P;
        K = run.InnerUpdates;
        Schedule = new PipelineSchedule(B, cfg.ResetInterval, run.Pipeline);

        Theta = new float[N];
        Grad = new float[N];
        Updates = new float[N];
        Grads = new float[K * N];
        State = new float[lopt.StateSize * N];
        State0 = new float[lopt.StateSize * N];
        StateSize = lopt.StateSize;

        Envs = new IDiscreteVectorEnv[B];
        Losses = new A2CLoss<float>[B];
        Trackers = new EpisodeTracker[B];
        ActionRngs = new Rng[B];
        InitRngs = new Rng[B];
        for (int j = 0; j < B; j++)
        {
            var agentRng = rng.Split((ulong)j + 1);
            Envs[j] = EnvRegistry.CreateDiscrete(cfg.Env, 1, agentRng.Split(0), cfg.RewardScaling);
            InitRngs[j] = agentRng.Split(1);
            ActionRngs[j] = agentRng.Split(2);
            Losses[j] = new A2CLoss<float>(Spec, Envs[j], run.Agent, Theta, Grad, j * P);
            Trackers[j] = new EpisodeTracker(1);
            ResetAgent(j);
        }
    }

    public MetaTaskConfig Config { get; }
    public NetworkSpec Spec { get; }
    public PipelineSchedule Schedule { get; }
    public int B { get; }
    public int P { get; }
    public int N { get; }
    public int K { get; }
    public int StateSize { get; }
    public float[] Theta { get; }
    public float[] Grad { get; }
    public float[] Updates { get; }
    public float[] Grads { get; }
    public float[] State { get; }
    public float[] State0 { get; }
    public IDiscreteVectorEnv[] Envs { get; }
    public A2CLoss<float>[] Losses { get; }
    public EpisodeTracker[] Trackers { get; }
    public Rng[] ActionRngs { get; }
    public Rng[] InitRngs { get; }

    /// <summary>Fresh θ (LeCun normal from the agent's init stream), zero optimizer state, fresh episode.</summary>
    public void ResetAgent(int j)
    {
        var init = InitRngs[j].Fork();
        Spec.InitParams(Theta.AsSpan(j * P, P), ref init);
        for (int s = 0; s < StateSize; s++) State.AsSpan(s * N + j * P, P).Clear();
        Envs[j].Reset();
        Trackers[j].Restart(0);
    }

    public void Save(BinaryWriter w)
    {
        w.Write(Config.Env);
        w.Write(B);
        w.Write(P);
        BinaryArrays.WriteFloats(w, Theta);
        BinaryArrays.WriteFloats(w, State);
        for (int j = 0; j < B; j++)
        {
            Envs[j].SaveState(w);
            w.Write(ActionRngs[j].Key); w.Write(ActionRngs[j].Counter);
            w.Write(InitRngs[j].Key); w.Write(InitRngs[j].Counter);
            Trackers[j].Save(w);
        }
    }

    public void Load(BinaryReader r)
    {
        string env = r.ReadString();
        int b = r.ReadInt32(), p = r.ReadInt32();
        if (env != Config.Env || b != B || p != P)
            throw new InvalidDataException($"Checkpoint task '{env}' with {b} agents × {p} parameters does not match this run's '{Config.Env}' with {B} × {P}.");
        BinaryArrays.ReadFloats(r, Theta);
        BinaryArrays.ReadFloats(r, State);
        for (int j = 0; j < B; j++)
        {
            Envs[j].LoadState(r);
            ActionRngs[j] = new Rng(r.ReadUInt64(), r.ReadUInt64());
            InitRngs[j] = new Rng(r.ReadUInt64(), r.ReadUInt64());
            Trackers[j].Load(r);
        }
    }
}
