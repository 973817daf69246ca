using Optim4RL.Envs;
using Optim4RL.Tensors;

namespace Optim4RL.Agents;

/// <summary>The result of one evaluation: the mean over evaluation environments of their first episode's return.</summary>
/// <param name="MeanReturn">Mean undiscounted, unscaled return.</param>
/// <param name="Episodes">Environments whose episode finished within the step limit (the others count with their partial return).</param>
/// <param name="Environments">Evaluation environments.</param>
public readonly record struct EvaluationResult(double MeanReturn, int Episodes, int Environments);

/// <summary>
/// Evaluation episodes on separate environments (Brax's <c>Evaluator</c>): resets every evaluation
/// environment, runs the current policy — its mode tanh(loc) when deterministic, samples otherwise —
/// with the agent's current normaliser for up to <see cref="IContinuousVectorEnv.MaxEpisodeSteps"/>
/// steps, and averages each environment's first episode return. The reference reports the
/// stochastic one (<c>deterministic_eval = False</c>).
/// </summary>
public sealed class PpoEvaluator
{
    private readonly PpoAgent<float> _agent;
    private readonly IContinuousVectorEnv _env;
    private readonly PpoActor<float> _actor;
    private readonly float[] _obs, _actions, _raw, _logp;
    private readonly double[] _returns;
    private Rng _rng;

    /// <summary>Evaluates <paramref name="agent"/>'s policy (its live θ and normaliser) on <paramref name="env"/>.</summary>
    /// <param name="agent">The agent being trained.</param>
    /// <param name="env">Evaluation environments of the same task (not the training ones).</param>
    /// <param name="rng">Stream for the stochastic evaluation's action noise.</param>
    /// <exception cref="ArgumentException">The environment does not match the agent's networks.</exception>
    public PpoEvaluator(PpoAgent<float> agent, IContinuousVectorEnv env, Rng rng)
    {
        if (env.ObservationSize != agent.Networks.ObservationSize || env.ActionSize != agent.Networks.ActionSize)
            throw new ArgumentException("The evaluation environment does not match the agent's networks.", nameof(env));
        _agent = agent;
        _env = env;
        _rng = rng;
        int n = env.NumEnvs, a = env.ActionSize;
        _actor = new PpoActor<float>(agent.Networks, n, agent.ThetaVector, new float[agent.ThetaVector.Length], agent.Offset);
        _obs = new float[n * env.ObservationSize];
        _actions = new float[n * a];
        _raw = new float[n * a];
        _logp = new float[n];
        _returns = new double[n];
    }

    /// <summary>Runs one evaluation; the environments are reset first.</summary>
    public EvaluationResult Evaluate(bool deterministic)
    {
        _env.Reset();
        int finished = FirstEpisodes.Run((rewards, terminated, truncated) =>
        {
            _env.Observe(_obs);
            _actor.Act(_obs, _agent.Normalizer, deterministic, ref _rng, _actions, _raw, _logp);
            _env.Step(_actions, rewards, terminated, truncated);
        }, _env.MaxEpisodeSteps, _returns);
        double sum = 0;
        foreach (double r in _returns) sum += r;
        return new EvaluationResult(sum / _returns.Length, finished, _env.NumEnvs);
    }
}
