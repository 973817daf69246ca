using Optim4RL.Autodiff;
using Optim4RL.Envs;
using Optim4RL.Nn;
using Optim4RL.Tensors;

namespace Optim4RL.Agents;

/// <summary>The terms of an A2C loss (<see cref="A2CLoss{T}"/>), as they enter it: their sum is the loss.</summary>
/// <param name="Policy">−mean(log π(a_t|s_t)·δ_t).</param>
/// <param name="Value">critic_loss_weight·mean(δ²).</param>
/// <param name="EntropyLoss">−entropy_weight·mean(H(π(·|s_t))).</param>
/// <param name="Entropy">mean(H(π(·|s_t))), the policy's mean entropy in nats.</param>
public readonly record struct A2CLossTerms(double Policy, double Value, double EntropyLoss, double Entropy)
{
    /// <summary>The total loss.</summary>
    public double Total => Policy + Value + EntropyLoss;

    /// <summary>This plus <paramref name="weight"/> × <paramref name="other"/>, term by term (means over shards or agents).</summary>
    public A2CLossTerms AddScaled(A2CLossTerms other, double weight) =>
        new(Policy + weight * other.Policy, Value + weight * other.Value, EntropyLoss + weight * other.EntropyLoss, Entropy + weight * other.Entropy);
}

/// <summary>
/// One A2C agent's rollout and loss (docs/algorithms.md, "A2C"): runs the current policy θ for T steps in
/// every environment of an <see cref="IDiscreteVectorEnv"/>, then computes the A2C loss and
/// its gradient ∇θ over the (T+1)·N observations. θ and ∇θ are views into caller-owned
/// vectors, so many agents can share one contiguous θ of shape [B·P].
/// </summary>
/// <remarks>
/// Rows are time-major: row t·N + i holds environment i at time t. Loss =
/// −mean(log π(a_t|s_t)·δ_t) + w_c·mean(δ²) − w_e·mean(H(π(·|s_t))), δ_t = G^λ_t − v(s_t) with
/// targets not differentiated (rlax <c>td_lambda</c> with stop-gradient targets,
/// <c>policy_gradient_loss</c>, <c>entropy_loss</c>). All buffers are allocated once.
/// Generic over T so the whole loss can be checked by finite differences in double.
/// <see cref="Retarget"/> points the loss at another agent (its environments and its slice of θ/∇θ),
/// so a population needs one loss per worker thread, not one per agent: a rollout rewrites every
/// buffer it reads, so no state of one agent's call reaches another's.
/// </remarks>
public sealed class A2CLoss<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    private IDiscreteVectorEnv _env;
    private readonly A2CConfig _cfg;
    private readonly int _n, _t, _obsSize, _actions;
    private readonly int[] _obsShape;
    private readonly T[] _theta, _grad;
    private int _offset;
    private readonly int _paramCount;

    private readonly Graph<T> _loss;
    private readonly Node<T> _obs, _logits, _values, _adv, _targets, _total;
    private readonly Node<T> _actorTerm, _criticTerm, _entropyTerm, _entropyMean;
    private readonly int[] _actionsTaken;
    private readonly int _netEnd;

    private readonly float[] _rewards;
    private readonly bool[] _dones;
    private readonly float[] _stepRewards;
    private readonly bool[] _terminated, _truncated;
    private readonly int[] _stepActions;
    private readonly float[] _obsScratch;

    /// <summary>
    /// Builds the graph over (T+1)·N observations for θ at <paramref name="offset"/>. The rollout runs
    /// its network part one time step (N rows) at a time, so the loss reuses those activations
    /// instead of a second forward pass.
    /// </summary>
    /// <param name="spec">The network (docs/networks.md).</param>
    /// <param name="env">The environments this agent acts in; their state advances with every rollout.</param>
    /// <param name="cfg">A2C hyper-parameters.</param>
    /// <param name="theta">The parameter vector holding this agent's θ at [offset, offset + P).</param>
    /// <param name="grad">The gradient vector; ∇θ is written (not accumulated) at the same offset.</param>
    /// <param name="offset">Start of this agent's θ in <paramref name="theta"/>.</param>
    public A2CLoss(NetworkSpec spec, IDiscreteVectorEnv env, A2CConfig cfg, T[] theta, T[] grad, int offset)
    {
        cfg.Validate();
        _env = env;
        _cfg = cfg;
        _n = env.NumEnvs;
        _t = cfg.RolloutSteps;
        _obsSize = env.ObservationSize;
        _actions = env.ActionCount;
        _theta = theta;
        _grad = grad;
        _offset = offset;
        _paramCount = spec.Layout.Count;
        _obsShape = env.ObservationShape.ToArray();

        int rows = (_t + 1) * _n, used = _t * _n;
        _loss = new Graph<T>();
        _obs = _loss.Input([rows, .. _obsShape]);
        (_logits, _values) = spec.Build(_loss, _obs, theta, grad, offset);
        _netEnd = _loss.Count;

        var logp = _loss.LogSoftmax(_loss.SliceRows(_logits, 0, used));
        _actionsTaken = _loss.IndexInput(used);
        _adv = _loss.Input(used);
        var actor = _loss.Scale(_loss.Mean(_loss.Mul(_loss.Gather(logp, _actionsTaken), _adv)), T.CreateChecked(-1.0));
        _targets = _loss.Input(used);
        var v = _loss.Reshape(_loss.SliceRows(_values, 0, used), used);
        var critic = _loss.Scale(_loss.Mean(_loss.Square(_loss.Sub(_targets, v))), T.CreateChecked(cfg.CriticLossWeight));
        _entropyMean = _loss.Mean(_loss.Entropy(logp));
        var entropy = _loss.Scale(_entropyMean, T.CreateChecked(-cfg.EntropyWeight));
        _total = _loss.Add(_loss.Add(actor, critic), entropy);
        (_actorTerm, _criticTerm, _entropyTerm) = (actor, critic, entropy);

        _rewards = new float[used];
        _dones = new bool[used];
        _stepRewards = new float[_n];
        _terminated = new bool[_n];
        _truncated = new bool[_n];
        _stepActions = new int[_n];
        _obsScratch = typeof(T) == typeof(float) ? [] : new float[_n * _obsSize]; // float observes in place
    }

    /// <summary>The environments this agent acts in.</summary>
    public IDiscreteVectorEnv Env => _env;

    /// <summary>Start of the agent's θ (and ∇θ) in the parameter and gradient vectors.</summary>
    internal int Offset => _offset;

    /// <summary>
    /// Points this loss at another agent of the same network: from now on it acts in <paramref name="env"/> and
    /// reads θ / writes ∇θ at [<paramref name="offset"/>, offset + P) of the same vectors. The graph is not
    /// rebuilt; its parameter views move (O(number of parameter tensors)). The next <see cref="RolloutAndGradient"/>
    /// computes exactly what a loss built for that agent would: a rollout overwrites every observation, action,
    /// reward, activation and target, and the backward pass zeroes all inner gradients and the agent's ∇θ slice
    /// first. <see cref="LastTerms"/> and the stored rollout then belong to the previous agent until that call.
    /// </summary>
    /// <param name="env">The agent's environments: the same NumEnvs, observation shape and action count as the current ones.</param>
    /// <param name="offset">Start of the agent's θ in the parameter vector (elements).</param>
    /// <exception cref="ArgumentException"><paramref name="env"/> differs in NumEnvs, observation shape or action count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">[offset, offset + P) is outside the parameter or gradient vector.</exception>
    internal void Retarget(IDiscreteVectorEnv env, int offset)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (!ReferenceEquals(env, _env)
            && (env.NumEnvs != _n || env.ActionCount != _actions || !env.ObservationShape.SequenceEqual(_obsShape)))
        {
            throw new ArgumentException(
                $"An A2C loss built for {_n} environments with observations {Tensor.ShapeString(_obsShape)} and {_actions} actions cannot act in "
                + $"'{env.Name}' with {env.NumEnvs} environments, observations {Tensor.ShapeString(env.ObservationShape.ToArray())} and {env.ActionCount} actions.",
                nameof(env));
        }

        if (offset < 0 || (long)offset + _paramCount > Math.Min(_theta.Length, _grad.Length))
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"The agent's {_paramCount} parameters at offset {offset} do not fit in θ ({_theta.Length}) and ∇θ ({_grad.Length}).");
        }

        _loss.MoveParameters(offset - _offset);
        _offset = offset;
        _env = env;
    }

    /// <summary>
    /// The terms of the loss last computed (read from the graph's values; nothing is recomputed).
    /// Valid until this object's next rollout or loss, whichever agent it is then pointed at (<see cref="Retarget"/>).
    /// </summary>
    public A2CLossTerms LastTerms => new(Scalar(_actorTerm), Scalar(_criticTerm), Scalar(_entropyTerm), Scalar(_entropyMean));

    private static double Scalar(Node<T> node) => double.CreateChecked(node.Value.Span[0]);

    /// <summary>
    /// Runs one T-step rollout with the current θ (actions sampled from π with <paramref name="rng"/>),
    /// then writes ∇θ of the A2C loss into the gradient vector (overwriting this agent's slice)
    /// and returns the loss. Episode returns are reported to <paramref name="tracker"/> when given.
    /// </summary>
    public double RolloutAndGradient(ref Rng rng, EpisodeTracker? tracker)
    {
        Rollout(ref rng, tracker);
        return LossAndGradientAfterRollout(recomputeTargets: true);
    }

    /// <summary>
    /// Runs a T-step rollout, storing observations, actions, rewards and done flags; the network's
    /// activations for all T + 1 observations are left in the graph for the loss.
    /// </summary>
    public void Rollout(ref Rng rng, EpisodeTracker? tracker)
    {
        Span<T> obsAll = _obs.Value.Span;
        int block = _n * _obsSize;
        long clock = PhaseClock.Now(); // the laps: measurements only (OPTIM4RL_PHASES=1), nothing otherwise
        for (int t = 0; t < _t; t++)
        {
            ObserveInto(obsAll.Slice(t * block, block));
            clock = PhaseClock.Lap(AgentPhase.Observe, clock);
            _loss.ForwardRows(0, _netEnd, t * _n, _n);
            clock = PhaseClock.Lap(AgentPhase.NetForward, clock);
            SampleActions(_logits.Value.Span.Slice(t * _n * _actions, _n * _actions), ref rng);
            clock = PhaseClock.Lap(AgentPhase.Sample, clock);
            _env.Step(_stepActions, _stepRewards, _terminated, _truncated);
            for (int i = 0; i < _n; i++)
            {
                int r = t * _n + i;
                bool done = _terminated[i] || _truncated[i];
                _actionsTaken[r] = _stepActions[i];
                _rewards[r] = _stepRewards[i];
                _dones[r] = done;
                tracker?.Record(i, _stepRewards[i], done);
            }
            clock = PhaseClock.Lap(AgentPhase.EnvStep, clock);
        }
        ObserveInto(obsAll.Slice(_t * block, block));
        clock = PhaseClock.Lap(AgentPhase.Observe, clock);
        _loss.ForwardRows(0, _netEnd, _t * _n, _n);
        PhaseClock.Lap(AgentPhase.NetForward, clock);
    }

    /// <summary>
    /// Computes the A2C loss of the stored rollout under the current θ and writes ∇θ
    /// (this agent's slice of the gradient vector is overwritten). Returns the loss.
    /// </summary>
    public double LossAndGradient() => LossAndGradient(recomputeTargets: true);

    /// <summary>
    /// As <see cref="LossAndGradient()"/> (a full forward pass under the current θ); with <paramref name="recomputeTargets"/> false the λ-return
    /// targets and advantages of the previous call are kept, so the loss is the function whose
    /// gradient the semi-gradient is (used to check it by finite differences).
    /// </summary>
    internal double LossAndGradient(bool recomputeTargets)
    {
        _loss.Forward(0, _netEnd);
        return LossAndGradientAfterRollout(recomputeTargets);
    }

    /// <summary>The loss and ∇θ using the network activations that <see cref="Rollout"/> left (θ unchanged since).</summary>
    private double LossAndGradientAfterRollout(bool recomputeTargets)
    {
        long clock = PhaseClock.Now();
        if (recomputeTargets) ComputeTargets();
        _loss.Forward(_netEnd, _loss.Count);
        _grad.AsSpan(_offset, _paramCount).Clear();
        clock = PhaseClock.Lap(AgentPhase.LossForward, clock);
        _loss.Backward(_total);
        PhaseClock.Lap(AgentPhase.Backward, clock);
        return double.CreateChecked(_total.Value.Span[0]);
    }

    /// <summary>Writes an observation batch (rows time-major, as after a rollout) for tests.</summary>
    internal Span<T> ObservationBuffer => _obs.Value.Span;

    internal int[] ActionBuffer => _actionsTaken;

    internal ReadOnlySpan<T> TargetBuffer => _targets.Value.Span;

    internal ReadOnlySpan<T> AdvantageBuffer => _adv.Value.Span;

    internal ReadOnlySpan<T> ValueBuffer => _values.Value.Span;

    internal float[] RewardBuffer => _rewards;

    internal bool[] DoneBuffer => _dones;

    /// <summary>λ-returns G_t = r_t + γ_t[(1−λ)v_{t+1} + λG_{t+1}], G_T = v_T; δ_t = G_t − v_t.</summary>
    private void ComputeTargets()
    {
        ReadOnlySpan<T> v = _values.Value.Span; // [(T+1)·N] (shape [rows, 1])
        Span<T> targets = _targets.Value.Span, adv = _adv.Value.Span;
        double gamma = _cfg.Discount, lambda = _cfg.GaeLambda;
        for (int i = 0; i < _n; i++)
        {
            double next = double.CreateChecked(v[_t * _n + i]); // G_T = v(s_T)
            for (int t = _t - 1; t >= 0; t--)
            {
                int r = t * _n + i;
                double vNext = double.CreateChecked(v[r + _n]);
                double g = _dones[r] ? 0.0 : gamma;
                double ret = _rewards[r] + g * ((1 - lambda) * vNext + lambda * next);
                targets[r] = T.CreateChecked(ret);
                adv[r] = T.CreateChecked(ret - double.CreateChecked(v[r]));
                next = ret;
            }
        }
    }

    private void SampleActions(ReadOnlySpan<T> logits, ref Rng rng)
    {
        for (int i = 0; i < _n; i++) _stepActions[i] = Categorical.Sample(logits.Slice(i * _actions, _actions), ref rng);
    }

    /// <summary>Writes the environments' observations into one block of the graph's input: in place for float, through a converted copy for double.</summary>
    private void ObserveInto(Span<T> dst)
    {
        if (typeof(T) == typeof(float))
        {
            _env.Observe(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(dst));
            return;
        }

        _env.Observe(_obsScratch);
        for (int i = 0; i < _obsScratch.Length; i++) dst[i] = T.CreateChecked(_obsScratch[i]);
    }
}
