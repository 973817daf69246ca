using System.Text.Json.Nodes;
using Optim4RL.Envs;
using Optim4RL.Nn;
using Optim4RL.Tensors;

namespace Optim4RL.Agents;

/// <summary>Which agent a saved policy comes from.</summary>
public enum PolicyKind
{
    /// <summary>A2C on a discrete task: a softmax policy over the actor head's logits.</summary>
    A2C,

    /// <summary>PPO on a continuous-control task: a tanh-Gaussian policy on normalised observations.</summary>
    Ppo,
}

/// <summary>The outcome of evaluating a saved policy: each episode's undiscounted return.</summary>
/// <param name="Task">The task.</param>
/// <param name="Returns">One return per episode (an episode still running at the step cap counts with its partial return).</param>
/// <param name="Finished">Episodes that ended within the step cap.</param>
/// <param name="Deterministic">True when the policy's most likely action was taken (argmax, or tanh of the Gaussian's mean), false when actions were sampled.</param>
public sealed record PolicyEvaluation(string Task, IReadOnlyList<double> Returns, int Finished, bool Deterministic)
{
    /// <summary>Mean return over episodes.</summary>
    public double Mean => Returns.Average();

    /// <summary>Standard error of <see cref="Mean"/>: sample standard deviation / √episodes (0 for one episode).</summary>
    public double StdErr
    {
        get
        {
            int n = Returns.Count;
            if (n < 2) return 0;
            double m = Mean, ss = 0;
            foreach (double r in Returns) ss += (r - m) * (r - m);
            return Math.Sqrt(ss / (n - 1) / n);
        }
    }
}

/// <summary>
/// A policy loaded with <see cref="PolicyFile.Load"/>: the task, θ and the networks (plus, for PPO,
/// the observation normaliser as it was at the end of training), ready to act or be evaluated on
/// fresh environments of its task.
/// </summary>
public sealed class SavedPolicy
{
    /// <summary>Environments run side by side in an evaluation; more episodes run in further batches.</summary>
    public const int EvaluationBatch = 256;

    /// <summary>Batch steps after which a discrete-task evaluation stops waiting for unfinished episodes.</summary>
    public const int DiscreteStepCap = 100_000;

    /// <summary>Episodes of an evaluation when none is asked for: 1,000 on discrete tasks, 128 on continuous-control ones.</summary>
    public int DefaultEpisodes => Kind == PolicyKind.A2C ? 1000 : 128;

    /// <summary>Wraps loaded parts (use <see cref="PolicyFile.Load"/>).</summary>
    internal SavedPolicy(JsonObject header, PolicyKind kind, string task, float rewardScaling, float[] theta)
    {
        Header = header;
        Kind = kind;
        Task = task;
        RewardScaling = rewardScaling;
        Theta = theta;
    }

    /// <summary>The file's header (sizes, provenance, seed).</summary>
    public JsonObject Header { get; }

    /// <summary>Which agent saved it.</summary>
    public PolicyKind Kind { get; }

    /// <summary>The task it was trained on.</summary>
    public string Task { get; }

    /// <summary>Reward scaling of the evaluation environments (A2C: the training environments'; PPO: 1, unscaled returns).</summary>
    public float RewardScaling { get; }

    /// <summary>θ, shape [P].</summary>
    public float[] Theta { get; }

    /// <summary>The actor-critic network (A2C policies; null for PPO).</summary>
    public NetworkSpec? Network { get; init; }

    /// <summary>The policy and value networks (PPO policies; null for A2C).</summary>
    public PpoNetworks? PpoNetworks { get; init; }

    /// <summary>The observation normaliser (PPO policies; null for A2C).</summary>
    public RunningNormalizer? Normalizer { get; init; }

    /// <summary>Environment steps the agent was trained for (0 when the header does not say).</summary>
    public long TrainedSteps => Header["trained_steps"] is JsonValue v && v.TryGetValue(out long s) ? s : 0;

    /// <summary>
    /// Runs <paramref name="episodes"/> episodes on fresh environments of the task (in batches of
    /// <see cref="EvaluationBatch"/>; batch b draws environments from <c>Rng(seed).Split(b).Split(0)</c>
    /// and actions from <c>.Split(1)</c>, so the numbers depend only on the arguments).
    /// Each environment's first episode counts (<see cref="FirstEpisodes"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="episodes"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The task is unknown to this process (e.g. a custom task that is not registered).</exception>
    public PolicyEvaluation Evaluate(int episodes, bool deterministic, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(episodes, 1);
        var returns = new double[episodes];
        int finished = 0;
        var root = new Rng(seed);
        for (int start = 0, b = 0; start < episodes; start += EvaluationBatch, b++)
        {
            int n = Math.Min(EvaluationBatch, episodes - start);
            var rng = root.Split((ulong)b);
            var part = new double[n];
            finished += Kind == PolicyKind.A2C ? EvaluateDiscrete(n, deterministic, rng, part) : EvaluateContinuous(n, deterministic, rng, part);
            part.CopyTo(returns, start);
        }

        return new PolicyEvaluation(Task, returns, finished, deterministic);
    }

    /// <summary>An actor over this policy's θ for <paramref name="count"/> observations at a time (A2C policies).</summary>
    /// <exception cref="InvalidOperationException">This is a PPO policy.</exception>
    public DiscreteActor CreateDiscreteActor(int count) =>
        new(Network ?? throw new InvalidOperationException("A PPO policy has no discrete actor; use CreatePpoActor."), Theta, count);

    /// <summary>An actor over this policy's θ for <paramref name="count"/> observations at a time (PPO policies; act with <see cref="Normalizer"/>).</summary>
    /// <exception cref="InvalidOperationException">This is an A2C policy.</exception>
    public PpoActor<float> CreatePpoActor(int count) =>
        new(PpoNetworks ?? throw new InvalidOperationException("An A2C policy has no PPO actor; use CreateDiscreteActor."), count, Theta, new float[Theta.Length], 0);

    private int EvaluateDiscrete(int n, bool deterministic, Rng rng, double[] returns)
    {
        var env = EnvRegistry.CreateDiscrete(Task, n, rng.Split(0), RewardScaling);
        var actor = CreateDiscreteActor(n);
        var act = rng.Split(1);
        var obs = new float[n * env.ObservationSize];
        var actions = new int[n];
        var logp = new double[n];
        env.Reset();
        return FirstEpisodes.Run((rewards, terminated, truncated) =>
        {
            env.Observe(obs);
            actor.Act(obs, deterministic, ref act, actions, logp);
            env.Step(actions, rewards, terminated, truncated);
        }, DiscreteStepCap, returns);
    }

    private int EvaluateContinuous(int n, bool deterministic, Rng rng, double[] returns)
    {
        var env = ContinuousEnvRegistry.Create(Task, n, rng.Split(0));
        using var owned = env as IDisposable; // MuJoCo environments hold native memory
        var actor = CreatePpoActor(n);
        var normalizer = Normalizer!;
        var act = rng.Split(1);
        int a = env.ActionSize;
        var obs = new float[n * env.ObservationSize];
        var actions = new float[n * a];
        var raw = new float[n * a];
        var logp = new float[n];
        env.Reset();
        return FirstEpisodes.Run((rewards, terminated, truncated) =>
        {
            env.Observe(obs);
            actor.Act(obs, normalizer, deterministic, ref act, actions, raw, logp);
            env.Step(actions, rewards, terminated, truncated);
        }, env.MaxEpisodeSteps, returns);
    }
}
