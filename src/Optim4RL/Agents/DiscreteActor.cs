using Optim4RL.Autodiff;
using Optim4RL.Nn;
using Optim4RL.Tensors;

namespace Optim4RL.Agents;

/// <summary>
/// Acting with an A2C actor-critic network (<see cref="NetworkSpec"/>) for a batch of observations:
/// the actor head's logits define a softmax policy π(·|s); an action is sampled from π (as during
/// training) or taken as its most likely one (argmax of the logits, lowest index on ties).
/// The network's parameters are views of θ, so the actor always uses the current θ.
/// </summary>
public sealed class DiscreteActor
{
    private readonly Graph<float> _graph;
    private readonly Node<float> _obs, _logits;
    private readonly int _n, _actions;

    /// <summary>Builds the acting graph for <paramref name="count"/> observations at a time.</summary>
    /// <param name="spec">The network.</param>
    /// <param name="theta">θ, at least <c>spec.Layout.Count</c> values (read, never written).</param>
    /// <param name="count">Observations per call.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1.</exception>
    /// <exception cref="ArgumentException">θ is shorter than the network.</exception>
    public DiscreteActor(NetworkSpec spec, float[] theta, int count)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (theta.Length < spec.Layout.Count) throw new ArgumentException($"θ has {theta.Length} values; the network needs {spec.Layout.Count}.", nameof(theta));
        _n = count;
        _actions = spec.ActionCount;
        _graph = new Graph<float>();
        _obs = _graph.Input([count, .. spec.ObservationShape]);
        (_logits, _) = spec.Build(_graph, _obs, theta, new float[theta.Length], 0);
    }

    /// <summary>Observations per call.</summary>
    public int Count => _n;

    /// <summary>
    /// Acts on <paramref name="observations"/> ([N, observation size], row-major): writes the action
    /// index [N] and its log-probability log π(a|s) [N] (natural log). Sampling draws one uniform
    /// number per observation from <paramref name="rng"/>; the deterministic choice draws none.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Act(ReadOnlySpan<float> observations, bool deterministic, ref Rng rng, Span<int> actions, Span<double> logProbs)
    {
        Span<float> input = _obs.Value.Span;
        if (observations.Length != input.Length || actions.Length != _n || logProbs.Length != _n)
            throw new ArgumentException($"Expected {input.Length} observation values, {_n} actions and {_n} log-probabilities.");
        observations.CopyTo(input);
        _graph.Forward();
        ReadOnlySpan<float> logits = _logits.Value.Span;
        for (int i = 0; i < _n; i++)
        {
            var row = logits.Slice(i * _actions, _actions);
            int chosen = deterministic ? Categorical.Mode(row) : Categorical.Sample(row, ref rng);
            actions[i] = chosen;
            logProbs[i] = Categorical.LogProb(row, chosen);
        }
    }
}
