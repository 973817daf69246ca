using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Meta;

/// <summary>
/// A learned optimizer as an <see cref="IOptimizer"/> for one meta-training agent: every
/// <see cref="Update"/> clips g (grad_clip), stores it as step k of the meta-iteration and runs the
/// kernel with the trainer's current φ; <see cref="MetaGradient"/> then back-propagates the
/// meta-loss adjoint λ through all recorded steps (docs/algorithms.md, "MetaPPO"). So MetaPPO trains its
/// agents with the ordinary <see cref="Agents.Ppo"/> loop and every minibatch step is one
/// learned-optimizer step.
/// </summary>
/// <param name="kernel">The kernel (stateless between calls, so agents running in parallel may share one).</param>
/// <param name="phi">The trainer's φ (read at every step; changed by the trainer between meta-iterations).</param>
/// <param name="learningRate">α.</param>
/// <param name="gradClip">Elementwise clip of g before the kernel (≤ 0: none).</param>
/// <param name="paramCount">P.</param>
/// <param name="maxSteps">K, steps recorded per meta-iteration.</param>
internal sealed class RecordingLearnedOptimizer(ILearnedOptimizer kernel, float[] phi, float learningRate, float gradClip, int paramCount, int maxSteps) : IOptimizer
{
    private readonly ILearnedOptimizer _kernel = kernel;
    private readonly float[] _phi = phi;
    private readonly float _alpha = learningRate, _clip = gradClip;
    private readonly int _p = paramCount, _maxSteps = maxSteps;
    private readonly float[] _grads = new float[checked(maxSteps * paramCount)], _state0 = new float[kernel.StateSize * paramCount];
    private bool _recording = true;

    public string Name => _kernel.Name;

    public ILearnedOptimizer Kernel => _kernel;

    /// <summary>Steps recorded since <see cref="Begin"/>.</summary>
    public int Steps { get; private set; }

    /// <summary>Zero recurrent state <c>state</c> [StateSize·P].</summary>
    public OptimizerState Init(int paramCount)
    {
        if (paramCount != _p) throw new ArgumentException($"This optimizer was made for {_p} parameters, not {paramCount}.", nameof(paramCount));
        return new OptimizerState(paramCount, ["state"], [new float[_kernel.StateSize * paramCount]]);
    }

    /// <summary>
    /// Starts a meta-iteration: remembers the state h_0 and forgets the recorded steps. Without
    /// <paramref name="record"/> (estimators that need no back-propagation) steps are taken but not kept, and any number may follow.
    /// </summary>
    public void Begin(OptimizerState state, bool record = true)
    {
        _recording = record;
        if (record) state.Buffers[0].CopyTo(_state0, 0);
        Steps = 0;
    }

    /// <exception cref="InvalidOperationException">More than K recorded steps in one meta-iteration.</exception>
    public void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates)
    {
        if (_recording && Steps >= _maxSteps) throw new InvalidOperationException($"More than the {_maxSteps} learned-optimizer steps planned for one meta-iteration.");
        var g = _grads.AsSpan((_recording ? Steps : 0) * _p, _p);
        ClipElementwise.Into(grads, g, _clip);
        _kernel.Step(_phi, state.Buffers[0], g, updates, _alpha);
        if (_recording) Steps++;
        state.Count++;
    }

    /// <summary>Adds Σ_k (∂Δ_k/∂φ)ᵀ λ over the recorded steps to <paramref name="metaGrad"/>.</summary>
    public void MetaGradient(ReadOnlySpan<float> adjoint, Span<float> metaGrad) =>
        _kernel.MetaGradient(_phi, _state0, _grads.AsSpan(0, Steps * _p), Steps, adjoint, _alpha, metaGrad);
}
