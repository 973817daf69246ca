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
}

/// <summary>Thrown when training produces a NaN or infinity; names the iteration.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// Plain A2C (spec §4.1): one agent θ, N environments, one optimizer update per T-step
/// rollout, the gradient being the mean over environments and steps. The optimizer is any
/// <see cref="IOptimizer"/> (Adam, RMSProp, or a learned optimizer with fixed φ).
/// </summary>
/// <remarks>The loop mirrors the reference's <c>A2C.learn</c>: rollout → λ-returns → loss → update.</remarks>
public sealed class A2C
{
    private readonly A2CLoss<float> _loss;
    private readonly IOptimizer _optimizer;
    private readonly OptimizerState _optState;
    private readonly float[] _theta, _grad, _updates;
    private readonly EpisodeTracker _tracker;
    private Rng _rng;
    private long _iteration;

    /// <summary>Creates the agent: θ initialised from <paramref name="rng"/> (LeCun normal, zero biases), optimizer state from <c>Init</c>.</summary>
    public A2C(NetworkSpec spec, IDiscreteVectorEnv env, IOptimizer optimizer, A2CConfig cfg, Rng rng)
    {
        Spec = spec;
        Env = env;
        Config = cfg;
        _optimizer = optimizer;
        int p = spec.Layout.Count;
        _theta = new float[p];
        _grad = new float[p];
        _updates = new float[p];
        var init = rng.Split(0);
        spec.InitParams(_theta, ref init);
        _rng = rng.Split(1);
        _optState = optimizer.Init(p);
        _loss = new A2CLoss<float>(spec, env, cfg, _theta, _grad, 0);
        _tracker = new EpisodeTracker(env.NumEnvs);
        env.Reset();
    }

    /// <summary>The network.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>The environments.</summary>
    public IDiscreteVectorEnv Env { get; }

    /// <summary>Hyper-parameters.</summary>
    public A2CConfig Config { get; }

    /// <summary>The agent's parameters θ, shape [P].</summary>
    public float[] Theta => _theta;

    /// <summary>Environment steps per iteration: N environments × T rollout steps.</summary>
    public long StepsPerIteration => (long)Env.NumEnvs * Config.RolloutSteps;

    /// <summary>Iterations done so far.</summary>
    public long Iteration => _iteration;

    /// <summary>
    /// Optional observer called after every update with read-only views of g and Δθ (gradient
    /// collection); null (the default) costs one check per iteration.
    /// </summary>
    public IUpdateObserver? Observer { get; set; }

    /// <summary>One iteration: a rollout, the gradient, one optimizer update θ ← θ + Δθ.</summary>
    /// <exception cref="TrainingDivergedException">The loss or the gradient is not finite.</exception>
    public IterationLog Step()
    {
        double loss = _loss.RolloutAndGradient(ref _rng, _tracker);
        _iteration++;
        if (!double.IsFinite(loss) || !float.IsFinite(TP.Sum<float>(_grad)))
            throw new TrainingDivergedException($"A2C diverged at iteration {_iteration}: the loss or gradient is NaN/Inf. Lower the learning rate or enable grad_clip.");
        _optimizer.Update(_grad, _optState, _updates);
        TP.Add(_theta, _updates, _theta);
        Observer?.OnUpdate(_iteration, _iteration * StepsPerIteration, _grad, _updates);
        var (sum, count) = _tracker.Drain();
        return new IterationLog(_iteration, _iteration * StepsPerIteration, loss, sum, count);
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
