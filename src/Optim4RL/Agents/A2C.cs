using Optim4RL.Envs;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Tensors;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Agents;

/// <summary>One logged training iteration: environment steps so far and the episodes that finished in it.</summary>
/// <param name="Iteration">1-based iteration (one optimizer update).</param>
/// <param name="Step">Environment steps taken so far (all environments together).</param>
/// <param name="Loss">The A2C loss of the iteration's rollout.</param>
/// <param name="ReturnSum">Sum of the returns of the episodes that finished in the iteration.</param>
/// <param name="Episodes">How many episodes finished in the iteration.</param>
public readonly record struct IterationLog(long Iteration, long Step, double Loss, double ReturnSum, int Episodes)
{
    /// <summary>Mean return of the finished episodes, NaN when none finished.</summary>
    public double MeanReturn => Episodes > 0 ? ReturnSum / Episodes : double.NaN;

    /// <summary>The update's loss terms and norms (metrics.csv); default when the learner does not report them.</summary>
    public UpdateMetrics Metrics { get; init; }
}

/// <summary>Thrown when training produces a NaN or infinity; names the iteration.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// Plain A2C (docs/algorithms.md, "A2C"): one agent θ, N environments, one optimizer update per T-step
/// rollout, the gradient being the mean over environments and steps. The optimizer is any
/// <see cref="IOptimizer"/> (Adam, RMSProp, or a learned optimizer with fixed φ).
/// </summary>
/// <remarks>
/// <para>The loop mirrors the reference's <c>A2C.learn</c>: rollout → λ-returns → loss → update.</para>
/// <para>To use every core, the N environments are split into shards (independent vector
/// environments) whose rollouts and gradients run in parallel; the gradient is their mean weighted by
/// environment count, i.e. exactly the mean over all environments. The shard count comes from N alone
/// (<see cref="DefaultShards"/>), never from the thread count, so results do not depend on it.</para>
/// </remarks>
public sealed class A2C
{
    private readonly A2CLoss<float>[] _shards;
    private readonly float[][] _shardGrads;
    private readonly double[] _shardLoss;
    private readonly EpisodeTracker[] _trackers;
    private readonly Rng[] _rngs;
    private readonly IOptimizer _optimizer;
    private readonly OptimizerState _optState;
    private readonly float[] _theta, _grad, _updates;
    private readonly int _numEnvs;
    private long _iteration;

    /// <summary>Creates the agent on one vector environment (one shard).</summary>
    public A2C(NetworkSpec spec, IDiscreteVectorEnv env, IOptimizer optimizer, A2CConfig cfg, Rng rng)
        : this(spec, [env], optimizer, cfg, rng)
    {
    }

    /// <summary>
    /// Creates the agent: θ initialised from <paramref name="rng"/> (LeCun normal, zero biases), optimizer
    /// state from <c>Init</c>, one rollout/loss per environment shard (see <see cref="CreateShards"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No shard, or shards of different tasks.</exception>
    public A2C(NetworkSpec spec, IReadOnlyList<IDiscreteVectorEnv> shards, IOptimizer optimizer, A2CConfig cfg, Rng rng)
    {
        if (shards.Count == 0) throw new ArgumentException("A2C needs at least one environment shard.", nameof(shards));
        if (shards.Any(e => e.Name != shards[0].Name)) throw new ArgumentException("All environment shards must be of the same task.", nameof(shards));
        Spec = spec;
        Envs = shards;
        Config = cfg;
        _optimizer = optimizer;
        int p = spec.Layout.Count;
        _theta = new float[p];
        _grad = new float[p];
        _updates = new float[p];
        var init = rng.Split(0);
        spec.InitParams(_theta, ref init);
        _optState = optimizer.Init(p);
        _shards = new A2CLoss<float>[shards.Count];
        _shardGrads = new float[shards.Count][];
        _shardLoss = new double[shards.Count];
        _trackers = new EpisodeTracker[shards.Count];
        _rngs = new Rng[shards.Count];
        for (int s = 0; s < shards.Count; s++)
        {
            _shardGrads[s] = shards.Count == 1 ? _grad : new float[p];
            _shards[s] = new A2CLoss<float>(spec, shards[s], cfg, _theta, _shardGrads[s], 0);
            _trackers[s] = new EpisodeTracker(shards[s].NumEnvs);
            _rngs[s] = rng.Split(1 + (ulong)s);
            shards[s].Reset();
            _numEnvs += shards[s].NumEnvs;
        }
    }

    /// <summary>Shards for N environments: one per 128 environments, at most 4 (1 below 256 environments).</summary>
    public static int DefaultShards(int numEnvs) => Math.Clamp(numEnvs / 128, 1, 4);

    /// <summary>
    /// Splits <paramref name="numEnvs"/> environments of <paramref name="task"/> into <paramref name="shards"/>
    /// vector environments of near-equal size; shard s draws from <c>rng.Split(s)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown task, or more shards than environments.</exception>
    public static IDiscreteVectorEnv[] CreateShards(string task, int numEnvs, int shards, Rng rng, float rewardScaling = 1f)
    {
        if (numEnvs < 1) throw new ArgumentException($"env.num_envs must be ≥ 1, found {numEnvs}.", nameof(numEnvs));
        if (shards < 1 || shards > numEnvs) throw new ArgumentException($"Cannot split env.num_envs = {numEnvs} environments into {shards} shards (1 to num_envs).", nameof(shards));
        return Enumerable.Range(0, shards)
            .Select(s => EnvRegistry.CreateDiscrete(task, numEnvs / shards + (s < numEnvs % shards ? 1 : 0), rng.Split((ulong)s), rewardScaling))
            .ToArray();
    }

    /// <summary>The network.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>The environment shards.</summary>
    public IReadOnlyList<IDiscreteVectorEnv> Envs { get; }

    /// <summary>Total number of environments N over all shards.</summary>
    public int NumEnvs => _numEnvs;

    /// <summary>Hyper-parameters.</summary>
    public A2CConfig Config { get; }

    /// <summary>The agent's parameters θ, shape [P].</summary>
    public float[] Theta => _theta;

    /// <summary>Environment steps per iteration: N environments × T rollout steps.</summary>
    public long StepsPerIteration => (long)_numEnvs * Config.RolloutSteps;

    /// <summary>Iterations done so far.</summary>
    public long Iteration => _iteration;

    /// <summary>Thread count for the shards (null = all cores); results do not depend on it.</summary>
    public int? MaxDegreeOfParallelism { get; set; }

    /// <summary>
    /// Optional observer called after every update with read-only views of g and Δθ (gradient
    /// collection); null (the default) costs one check per iteration.
    /// </summary>
    public IUpdateObserver? Observer { get; set; }

    /// <summary>One iteration: a rollout, the gradient, one optimizer update θ ← θ + Δθ.</summary>
    /// <exception cref="TrainingDivergedException">The loss or the gradient is not finite.</exception>
    public IterationLog Step()
    {
        double loss;
        A2CLossTerms terms;
        if (_shards.Length == 1)
        {
            loss = _shards[0].RolloutAndGradient(ref _rngs[0], _trackers[0]);
            terms = _shards[0].LastTerms;
        }
        else
        {
            Parallel.For(0, _shards.Length, Tensors.Threads.Options(MaxDegreeOfParallelism),
                s => _shardLoss[s] = _shards[s].RolloutAndGradient(ref _rngs[s], _trackers[s]));
            // Mean over all environments = shard means weighted by shard size, summed in shard order.
            loss = 0;
            terms = default;
            Array.Clear(_grad);
            for (int s = 0; s < _shards.Length; s++)
            {
                float w = (float)Envs[s].NumEnvs / _numEnvs;
                TP.MultiplyAdd(_shardGrads[s], w, _grad, _grad);
                loss += _shardLoss[s] * Envs[s].NumEnvs / _numEnvs;
                terms = terms.AddScaled(_shards[s].LastTerms, (double)Envs[s].NumEnvs / _numEnvs);
            }
        }

        _iteration++;
        if (!double.IsFinite(loss) || !float.IsFinite(TP.Sum<float>(_grad)))
            throw new TrainingDivergedException($"A2C diverged at iteration {_iteration}: the loss or gradient is NaN/Inf. Lower the learning rate or enable grad_clip.");
        double gradNorm = TP.Norm<float>(_grad);
        _optimizer.Update(_grad, _optState, _updates);
        TP.Add(_theta, _updates, _theta);
        var metrics = new UpdateMetrics(terms.Policy, terms.Value, terms.EntropyLoss, terms.Entropy, gradNorm, TP.Norm<float>(_updates));
        Observer?.OnUpdate(_iteration, _iteration * StepsPerIteration, _grad, _updates);
        var (sum, count) = EpisodeTracker.DrainAll(_trackers);
        return new IterationLog(_iteration, _iteration * StepsPerIteration, loss, sum, count) { Metrics = metrics };
    }

    /// <summary>
    /// Trains for ⌊<paramref name="trainSteps"/> / (N·T)⌋ iterations, calling <paramref name="onIteration"/>
    /// after each; stops early (returning what was done) when <paramref name="cancel"/> is signalled.
    /// </summary>
    public List<IterationLog> Train(long trainSteps, Action<IterationLog>? onIteration = null, CancellationToken cancel = default)
    {
        long iterations = trainSteps / StepsPerIteration;
        var logs = new List<IterationLog>((int)Math.Min(iterations, 1 << 20));
        for (long i = 0; i < iterations && !cancel.IsCancellationRequested; i++)
        {
            var log = Step();
            logs.Add(log);
            onIteration?.Invoke(log);
        }
        return logs;
    }
}
