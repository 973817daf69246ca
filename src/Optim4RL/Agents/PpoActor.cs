using System.Numerics;
using Optim4RL.Autodiff;
using Optim4RL.Tensors;

namespace Optim4RL.Agents;

/// <summary>
/// Acting with the PPO policy for a batch of environments (Brax's <c>make_inference_fn</c>):
/// normalises raw observations, runs the policy network, and either samples from the
/// tanh-Gaussian (actions, raw actions, log π) or takes its mode tanh(loc). The policy's
/// parameters are views of θ, so the actor always uses the current θ.
/// </summary>
public sealed class PpoActor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Graph<T> _graph;
    private readonly Node<T> _obs, _out;
    private readonly int _n, _a, _obsSize;

    /// <summary>Builds the acting graph for <paramref name="numEnvs"/> observations at a time.</summary>
    /// <param name="nets">The networks (only the policy is used).</param>
    /// <param name="numEnvs">Observations per call.</param>
    /// <param name="theta">The parameter vector holding θ at <paramref name="offset"/>.</param>
    /// <param name="grad">The matching gradient vector (never written by acting).</param>
    /// <param name="offset">Start of θ.</param>
    public PpoActor(PpoNetworks nets, int numEnvs, T[] theta, T[] grad, int offset)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        _n = numEnvs;
        _a = nets.ActionSize;
        _obsSize = nets.ObservationSize;
        _graph = new Graph<T>();
        _obs = _graph.Input(numEnvs, nets.ObservationSize);
        _out = nets.BuildPolicy(_graph, _obs, theta, grad, offset);
    }

    /// <summary>Observations per call.</summary>
    public int NumEnvs => _n;

    /// <summary>
    /// Acts in every environment. <paramref name="rawObservations"/> is [N, obs] (unnormalised);
    /// <paramref name="actions"/> receives [N, A] values in (−1, 1). When sampling, the raw actions
    /// [N, A] and log π [N] are written too (they may be empty spans when <paramref name="deterministic"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Act(ReadOnlySpan<float> rawObservations, RunningNormalizer normalizer, bool deterministic, ref Rng rng,
        Span<float> actions, Span<float> rawActions, Span<float> logProbs)
    {
        if (rawObservations.Length != _n * _obsSize || actions.Length != _n * _a)
            throw new ArgumentException($"Expected {_n}×{_obsSize} observations and {_n}×{_a} actions.");
        if (!deterministic && (rawActions.Length != _n * _a || logProbs.Length != _n))
            throw new ArgumentException($"Sampling needs {_n}×{_a} raw actions and {_n} log-probabilities.");
        normalizer.Normalize(rawObservations, _obs.Value.Span);
        _graph.Forward();
        ReadOnlySpan<T> o = _out.Value.Span;
        for (int e = 0; e < _n; e++)
        {
            var row = o.Slice(e * 2 * _a, 2 * _a);
            if (deterministic)
                TanhNormal.Mode(row, actions.Slice(e * _a, _a));
            else
                logProbs[e] = (float)TanhNormal.Sample(row, ref rng, actions.Slice(e * _a, _a), rawActions.Slice(e * _a, _a));
        }
    }
}
