using System.Numerics;
using Optim4RL.Envs;
using Optim4RL.Tensors;

namespace Optim4RL.Agents;

/// <summary>
/// Everything one PPO agent owns apart from its optimizer (docs/algorithms.md, "PPO"; Brax's training state plus
/// environment state): θ (a view into a caller-owned vector), the observation normaliser, the
/// environments, the rollout batch, the loss, the minibatch permutation, an episode tracker and
/// its RNG streams. <see cref="Ppo"/> (any <see cref="Optimizers.IOptimizer"/>) and
/// <c>MetaPpo</c> (a learned optimizer whose steps are recorded for the meta-gradient) both drive
/// it, so the rollout, the normaliser and the loss exist once.
/// </summary>
/// <remarks>
/// One training step, as Brax's <c>training_step</c>: <see cref="CollectBatch"/> (rollout with the
/// current normaliser, then the normaliser is updated with the batch's observations and the batch
/// normalised), then for each epoch <see cref="ShuffleSegments"/> and, for each minibatch,
/// <see cref="MinibatchGradient"/> followed by the caller's optimizer step.
/// RNG streams (children of the agent's stream): 0 parameter init, 1 action noise, 2 minibatch
/// permutations, 3 entropy-estimate noise. Not thread-safe: one agent per thread.
/// </remarks>
public sealed class PpoAgent<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _theta, _grad;
    private readonly int _offset, _n, _obsSize, _a, _t;
    private readonly PpoActor<T> _actor;
    private readonly int[] _perm;
    private readonly int[] _metaSegments;
    private readonly float[] _obsRaw, _actions, _raw, _logp, _rewards;
    private readonly bool[] _terminated, _truncated;
    private Rng _initRng, _actRng, _shuffleRng, _noiseRng;

    /// <summary>Creates the agent (θ is not initialised: call <see cref="InitParameters"/>).</summary>
    /// <param name="nets">Policy and value networks.</param>
    /// <param name="env">The agent's environments (N of them); their state advances with every rollout.</param>
    /// <param name="cfg">Hyper-parameters (validated against N).</param>
    /// <param name="theta">The parameter vector holding θ at [offset, offset + P).</param>
    /// <param name="grad">The gradient vector; ∇θ is written at the same offset.</param>
    /// <param name="offset">Start of this agent's θ.</param>
    /// <param name="rng">The agent's root stream.</param>
    /// <param name="withMetaBatch">Also allocate the meta-loss rollout (MetaPPO).</param>
    /// <exception cref="ArgumentException">The environment does not match the networks.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is invalid for N environments.</exception>
    public PpoAgent(PpoNetworks nets, IContinuousVectorEnv env, PpoConfig cfg, T[] theta, T[] grad, int offset, Rng rng, bool withMetaBatch = false)
    {
        cfg.Validate(env.NumEnvs);
        if (env.ObservationSize != nets.ObservationSize || env.ActionSize != nets.ActionSize)
            throw new ArgumentException($"The environment ({env.ObservationSize} observations, {env.ActionSize} actions) does not match the networks ({nets.ObservationSize}, {nets.ActionSize}).", nameof(env));
        Networks = nets;
        Env = env;
        Config = cfg;
        _theta = theta;
        _grad = grad;
        _offset = offset;
        _n = env.NumEnvs;
        _obsSize = nets.ObservationSize;
        _a = nets.ActionSize;
        _t = cfg.UnrollLength;
        _initRng = rng.Split(0);
        _actRng = rng.Split(1);
        _shuffleRng = rng.Split(2);
        _noiseRng = rng.Split(3);

        Normalizer = new RunningNormalizer(_obsSize, cfg.NormalizeObservations);
        Tracker = new EpisodeTracker(_n);
        Batch = new PpoBatch(cfg.SegmentsPerStep, _t, _obsSize, _a);
        _perm = new int[Batch.Segments];
        for (int i = 0; i < _perm.Length; i++) _perm[i] = i;

        int chunkSegments = cfg.BatchSize / cfg.LossChunks;
        int maxSegments = cfg.BatchSize;
        if (withMetaBatch)
        {
            int metaSegments = cfg.MetaUnrolls(_n) * _n;
            MetaBatch = new PpoBatch(metaSegments, _t, _obsSize, _a);
            chunkSegments = Gcd(chunkSegments, metaSegments);
            maxSegments = Math.Max(maxSegments, metaSegments);
        }
        _metaSegments = new int[MetaBatch?.Segments ?? 0];
        for (int i = 0; i < _metaSegments.Length; i++) _metaSegments[i] = i;
        Loss = new PpoLoss<T>(nets, cfg, maxSegments, chunkSegments, theta, grad, offset);
        _actor = new PpoActor<T>(nets, _n, theta, grad, offset);

        _obsRaw = new float[_n * _obsSize];
        _actions = new float[_n * _a];
        _raw = new float[_n * _a];
        _logp = new float[_n];
        _rewards = new float[_n];
        _terminated = new bool[_n];
        _truncated = new bool[_n];
    }

    /// <summary>The networks.</summary>
    public PpoNetworks Networks { get; }

    /// <summary>The training environments.</summary>
    public IContinuousVectorEnv Env { get; }

    /// <summary>Hyper-parameters.</summary>
    public PpoConfig Config { get; }

    /// <summary>The observation normaliser (shared with evaluation).</summary>
    public RunningNormalizer Normalizer { get; }

    /// <summary>Returns of the training episodes as they finish (unscaled rewards).</summary>
    public EpisodeTracker Tracker { get; }

    /// <summary>The training batch of the current training step.</summary>
    public PpoBatch Batch { get; }

    /// <summary>The meta-loss rollout (MetaPPO only).</summary>
    public PpoBatch? MetaBatch { get; }

    /// <summary>The loss.</summary>
    public PpoLoss<T> Loss { get; }

    /// <summary>P, this agent's parameter count.</summary>
    public int ParamCount => Networks.ParamCount;

    /// <summary>This agent's θ.</summary>
    public Span<T> Theta => _theta.AsSpan(_offset, ParamCount);

    /// <summary>This agent's gradient slice (written by <see cref="MinibatchGradient"/> and <see cref="MetaLossGradient"/>).</summary>
    public Span<T> Gradient => _grad.AsSpan(_offset, ParamCount);

    /// <summary>Parallelism of the loss's chunks (null: one thread per core).</summary>
    public ParallelOptions? Parallelism
    {
        get => Loss.Parallelism;
        set => Loss.Parallelism = value;
    }

    /// <summary>The whole parameter vector this agent's θ lives in.</summary>
    internal T[] ThetaVector => _theta;

    /// <summary>Where this agent's θ starts in <see cref="ThetaVector"/>.</summary>
    internal int Offset => _offset;

    /// <summary>Fresh θ from the agent's init stream (each call draws new values): LeCun-uniform kernels, zero biases.</summary>
    public void InitParameters()
    {
        var init = _initRng.Fork();
        Networks.InitParams(Theta, ref init);
    }

    /// <summary>Fresh normaliser, fresh episodes in every environment.</summary>
    public void ResetEpisodes()
    {
        Normalizer.Reset();
        Env.Reset();
        for (int e = 0; e < _n; e++) Tracker.Restart(e);
    }

    /// <summary>
    /// Collects the training batch: <see cref="PpoConfig.UnrollsPerStep"/> unrolls of
    /// <see cref="PpoConfig.UnrollLength"/> steps in all environments with the current θ and
    /// normaliser; then updates the normaliser with the batch's step observations and normalises
    /// the whole batch in place (Brax: the normaliser changes once per training step, before the
    /// SGD passes, and the loss uses the new statistics).
    /// </summary>
    public void CollectBatch()
    {
        Collect(Batch);
        Normalizer.Update(Batch.Observations, _t, _t + 1);
        Normalizer.NormalizeInPlace(Batch.Observations);
    }

    /// <summary>Draws a new permutation of the batch's segments (one per epoch).</summary>
    public void ShuffleSegments()
    {
        for (int i = _perm.Length - 1; i > 0; i--)
        {
            int j = _shuffleRng.NextInt(i + 1);
            (_perm[i], _perm[j]) = (_perm[j], _perm[i]);
        }
    }

    /// <summary>The segments of minibatch <paramref name="index"/> under the current permutation.</summary>
    public ReadOnlySpan<int> Minibatch(int index) => _perm.AsSpan(index * Config.BatchSize, Config.BatchSize);

    /// <summary>Writes ∇θ of the PPO loss on minibatch <paramref name="index"/> (fresh entropy noise) and returns the loss.</summary>
    public double MinibatchGradient(int index)
    {
        DrawNoise(Config.BatchSize);
        return Loss.LossAndGradient(Batch, Minibatch(index));
    }

    /// <summary>
    /// The meta-loss of MetaPPO: a fresh rollout of <see cref="PpoConfig.MetaUnrolls"/> unrolls with
    /// the current θ, normalised with the current statistics (not updated), and the PPO loss over all
    /// of it; writes its gradient λ = ∇θ L and returns L.
    /// </summary>
    /// <exception cref="InvalidOperationException">The agent was created without a meta batch.</exception>
    public double MetaLossGradient()
    {
        var batch = MetaBatch ?? throw new InvalidOperationException("This agent was created without a meta-loss batch (withMetaBatch: false).");
        Collect(batch);
        Normalizer.NormalizeInPlace(batch.Observations);
        DrawNoise(batch.Segments);
        return Loss.LossAndGradient(batch, _metaSegments);
    }

    /// <summary>Writes θ, the normaliser, the environments' state, the RNG streams, the minibatch order and the unfinished episodes' returns.</summary>
    public void Save(BinaryWriter w)
    {
        w.Write(ParamCount);
        foreach (T x in Theta) w.Write(double.CreateChecked(x));
        Normalizer.Save(w);
        Env.SaveState(w);
        foreach (var r in new[] { _initRng, _actRng, _shuffleRng, _noiseRng })
        {
            w.Write(r.Key);
            w.Write(r.Counter);
        }
        w.Write(_perm.Length);
        foreach (int i in _perm) w.Write(i);
        Tracker.Save(w);
    }

    /// <summary>Restores a state written by <see cref="Save"/> (unfinished episodes' returns restart at 0).</summary>
    /// <exception cref="InvalidDataException">The saved agent has another size.</exception>
    public void Load(BinaryReader r)
    {
        int p = r.ReadInt32();
        if (p != ParamCount) throw new InvalidDataException($"Saved agent has {p} parameters; this one has {ParamCount}.");
        Span<T> theta = Theta;
        for (int i = 0; i < p; i++) theta[i] = T.CreateChecked(r.ReadDouble());
        Normalizer.Load(r);
        Env.LoadState(r);
        _initRng = new Rng(r.ReadUInt64(), r.ReadUInt64());
        _actRng = new Rng(r.ReadUInt64(), r.ReadUInt64());
        _shuffleRng = new Rng(r.ReadUInt64(), r.ReadUInt64());
        _noiseRng = new Rng(r.ReadUInt64(), r.ReadUInt64());
        int n = r.ReadInt32();
        if (n != _perm.Length) throw new InvalidDataException($"Saved permutation has {n} segments; this agent has {_perm.Length}.");
        for (int i = 0; i < n; i++) _perm[i] = r.ReadInt32();
        Tracker.Load(r);
    }

    /// <summary>Rollout into <paramref name="batch"/> (raw observations); records training episodes.</summary>
    private void Collect(PpoBatch batch)
    {
        int unrolls = batch.Segments / _n;
        for (int u = 0; u < unrolls; u++)
        {
            for (int t = 0; t < _t; t++)
            {
                Env.Observe(_obsRaw);
                _actor.Act(_obsRaw, Normalizer, deterministic: false, ref _actRng, _actions, _raw, _logp);
                Env.Step(_actions, _rewards, _terminated, _truncated);
                for (int e = 0; e < _n; e++)
                {
                    int s = u * _n + e;
                    int i = s * _t + t;
                    _obsRaw.AsSpan(e * _obsSize, _obsSize).CopyTo(batch.Observation(s, t));
                    _raw.AsSpan(e * _a, _a).CopyTo(batch.RawActions.AsSpan(i * _a, _a));
                    batch.LogProbs[i] = _logp[e];
                    batch.Rewards[i] = _rewards[e];
                    batch.Terminations[i] = _terminated[e];
                    batch.Truncations[i] = _truncated[e] && !_terminated[e];
                    Tracker.Record(e, _rewards[e], _terminated[e] || _truncated[e]);
                }
            }
            Env.Observe(_obsRaw);
            for (int e = 0; e < _n; e++) _obsRaw.AsSpan(e * _obsSize, _obsSize).CopyTo(batch.Observation(u * _n + e, _t));
        }
    }

    private void DrawNoise(int segments)
    {
        Span<double> noise = Loss.EntropyNoise.AsSpan(0, segments * _t * _a);
        for (int i = 0; i < noise.Length; i++) noise[i] = _noiseRng.NextNormal();
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
