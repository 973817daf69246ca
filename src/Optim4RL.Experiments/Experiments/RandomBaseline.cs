using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optim4RL.Experiments;

/// <summary>The return of a uniformly random policy on one task, R_random of the normalised score.</summary>
/// <param name="Env">The task's name.</param>
/// <param name="Mean">Mean episode return.</param>
/// <param name="StdDev">Standard deviation of the episode returns (n − 1 denominator; 0 for one episode).</param>
/// <param name="Episodes">Complete episodes measured.</param>
/// <param name="NumEnvs">Environments run side by side; each contributed its first Episodes ÷ NumEnvs episodes.</param>
/// <param name="Seed">Seed of the environments and the policy.</param>
/// <param name="Policy">The policy in words.</param>
public sealed record RandomReturn(string Env, double Mean, double StdDev, long Episodes, int NumEnvs, ulong Seed, string Policy)
{
    /// <summary>Standard error of <see cref="Mean"/>, StdDev/√Episodes.</summary>
    public double StdErr => Episodes > 0 ? StdDev / Math.Sqrt(Episodes) : double.NaN;
}

/// <summary>
/// Measures R_random, the return of a uniformly random policy (discrete tasks: every action equally
/// likely; continuous tasks: every action coordinate uniform in [−1, 1], the box a tanh policy acts in),
/// and keeps the results in a small JSON file (<see cref="DefaultFile"/>) that <c>report</c> reads.
/// </summary>
/// <remarks>
/// Every environment of the batch runs its first k episodes from reset and the mean is taken over all
/// of them, so no episode length is favoured (stopping at the first N finished episodes would favour
/// short ones). Rewards are the task's own, unscaled: the same units as logged training returns with
/// <c>env.reward_scaling</c> 1 and as PPO's evaluations, which never scale.
/// </remarks>
public static class RandomBaseline
{
    /// <summary>Where <c>baseline random</c> writes and <c>report</c> reads the measurements, relative to the working directory.</summary>
    public const string DefaultFile = "docs/results/random_returns.json";

    /// <summary>Default episodes per task.</summary>
    public const int DefaultEpisodes = 1000;

    /// <summary>Default environments run side by side (Brax's evaluation batch).</summary>
    public const int DefaultNumEnvs = 128;

    /// <summary>Steps one episode may take before the measurement gives up (a task that never ends an episode).</summary>
    public const long MaxEpisodeSteps = 1_000_000;

    /// <summary>
    /// Measures task <paramref name="env"/> (a discrete task of <see cref="EnvRegistry"/> or a continuous one of
    /// <see cref="ContinuousEnvRegistry"/>) over at least <paramref name="episodes"/> episodes: each of
    /// <paramref name="numEnvs"/> environments runs ⌈episodes ÷ numEnvs⌉ of them.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown task, or a count below 1.</exception>
    public static RandomReturn Measure(string env, int episodes = DefaultEpisodes, int numEnvs = DefaultNumEnvs, ulong seed = 0,
        IProgress<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(env);
        if (episodes < 1) throw new ArgumentException($"--episodes must be ≥ 1 (got {episodes}).", nameof(episodes));
        if (numEnvs < 1) throw new ArgumentException($"--num-envs must be ≥ 1 (got {numEnvs}).", nameof(numEnvs));
        int perEnv = (episodes + numEnvs - 1) / numEnvs;
        var root = new Rng(seed);
        if (EnvRegistry.IsDiscrete(env)) return Measure(EnvRegistry.CreateDiscrete(env, numEnvs, root.Split(0)), perEnv, root.Split(1), seed, progress, cancel);
        if (!ContinuousEnvRegistry.IsAvailable(env))
            throw new ArgumentException($"Unknown task '{env}'. Valid tasks: {string.Join(", ", EnvRegistry.Names.Concat(EnvRegistry.ContinuousNames))}.", nameof(env));
        var continuous = ContinuousEnvRegistry.Create(env, numEnvs, root.Split(0));
        try
        {
            return Measure(continuous, perEnv, root.Split(1), seed, progress, cancel);
        }
        finally
        {
            (continuous as IDisposable)?.Dispose();
        }
    }

    /// <summary>The first <paramref name="episodesPerEnv"/> episodes of every environment of <paramref name="env"/> under uniformly random actions.</summary>
    public static RandomReturn Measure(IDiscreteVectorEnv env, int episodesPerEnv, Rng rng, ulong seed = 0, IProgress<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(env);
        var actions = new int[env.NumEnvs];
        int count = env.ActionCount;
        return Run(env, episodesPerEnv, seed, $"uniform over the {count} actions", progress, cancel, (rewards, terminated, truncated) =>
        {
            for (int i = 0; i < actions.Length; i++) actions[i] = rng.NextInt(count);
            env.Step(actions, rewards, terminated, truncated);
        });
    }

    /// <summary>The first <paramref name="episodesPerEnv"/> episodes of every environment of <paramref name="env"/> with every action coordinate uniform in [−1, 1].</summary>
    public static RandomReturn Measure(IContinuousVectorEnv env, int episodesPerEnv, Rng rng, ulong seed = 0, IProgress<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(env);
        var actions = new float[env.NumEnvs * env.ActionSize];
        return Run(env, episodesPerEnv, seed, "uniform in [-1, 1] per action coordinate", progress, cancel, (rewards, terminated, truncated) =>
        {
            for (int i = 0; i < actions.Length; i++) actions[i] = (float)(2 * rng.NextDouble() - 1);
            env.Step(actions, rewards, terminated, truncated);
        });
    }

    private delegate void StepAll(Span<float> rewards, Span<bool> terminated, Span<bool> truncated);

    private static RandomReturn Run(IVectorEnv env, int episodesPerEnv, ulong seed, string policy, IProgress<RunProgress>? progress, CancellationToken cancel, StepAll step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(episodesPerEnv, 1);
        int n = env.NumEnvs;
        env.Reset();
        var rewards = new float[n];
        var terminated = new bool[n];
        var truncated = new bool[n];
        var running = new double[n];
        var steps = new long[n];
        var done = new int[n];
        long finished = 0, total = (long)episodesPerEnv * n;
        // Welford's running mean and sum of squared deviations.
        double mean = 0, m2 = 0;
        while (finished < total)
        {
            cancel.ThrowIfCancellationRequested();
            step(rewards, terminated, truncated);
            for (int i = 0; i < n; i++)
            {
                if (done[i] >= episodesPerEnv) continue;
                running[i] += rewards[i];
                if (++steps[i] > MaxEpisodeSteps)
                    throw new InvalidOperationException($"{env.Name}: an episode ran past {MaxEpisodeSteps} steps without ending.");
                if (!terminated[i] && !truncated[i]) continue;
                finished++;
                double delta = running[i] - mean;
                mean += delta / finished;
                m2 += delta * (running[i] - mean);
                running[i] = 0;
                steps[i] = 0;
                done[i]++;
                if (finished % Math.Max(1, total / 20) == 0) progress?.Report(new RunProgress($"random policy {env.Name}", finished, total, $"mean return {mean:F3}"));
            }
        }

        return new RandomReturn(env.Name, mean, finished > 1 ? Math.Sqrt(m2 / (finished - 1)) : 0, finished, n, seed, policy);
    }

    /// <summary>The measurements in <paramref name="path"/>, by task name (case-insensitive); empty when the file does not exist.</summary>
    /// <exception cref="InvalidDataException">The file is not a measurement file.</exception>
    public static IReadOnlyDictionary<string, RandomReturn> Load(string path)
    {
        var result = new Dictionary<string, RandomReturn>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path)) return result;
        try
        {
            var tasks = (JsonNode.Parse(File.ReadAllText(path)) as JsonObject)?["tasks"] as JsonObject
                ?? throw new InvalidDataException($"{path}: expected an object with a 'tasks' object (written by 'optim4rl baseline random').");
            foreach ((string env, JsonNode? node) in tasks)
            {
                if (node is not JsonObject o) throw new InvalidDataException($"{path}: tasks.{env} is not an object.");
                result[env] = new RandomReturn(env,
                    Number(o, "mean", path, env), Number(o, "std", path, env), (long)Number(o, "episodes", path, env), (int)Number(o, "num_envs", path, env),
                    o["seed"]?.GetValue<ulong>() ?? 0, o["policy"]?.GetValue<string>() ?? "uniform");
            }
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a random-policy measurement file ({e.Message}).", e);
        }

        return result;
    }

    /// <summary>Adds (or replaces) <paramref name="measured"/> in the file at <paramref name="path"/>, keeping the other tasks; written atomically.</summary>
    /// <exception cref="InvalidDataException">The existing file is not a measurement file.</exception>
    public static void Save(string path, IEnumerable<RandomReturn> measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var all = new SortedDictionary<string, RandomReturn>(StringComparer.Ordinal);
        foreach (var (k, v) in Load(path)) all[k] = v;
        foreach (var r in measured) all[r.Env] = r;
        var tasks = new JsonObject();
        foreach (var (env, r) in all)
        {
            tasks[env] = new JsonObject
            {
                ["mean"] = r.Mean,
                ["std"] = r.StdDev,
                ["stderr"] = r.StdErr,
                ["episodes"] = r.Episodes,
                ["num_envs"] = r.NumEnvs,
                ["seed"] = r.Seed,
                ["policy"] = r.Policy,
            };
        }

        var root = new JsonObject
        {
            ["about"] = "Returns of a uniformly random policy per task (R_random of the normalised score), written by 'optim4rl baseline random'.",
            ["tasks"] = tasks,
        };
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(path, root.ToJsonString(JsonText.Indented) + "\n");
    }

    private static double Number(JsonObject o, string key, string path, string env) =>
        o[key] is JsonValue v && v.TryGetValue(out double d) ? d
            : throw new InvalidDataException($"{path}: tasks.{env}.{key} is missing or not a number.");

    /// <summary>A measurement in one line, e.g. "-0.600 ± 0.008 (SE; 10000 episodes)".</summary>
    public static string Describe(RandomReturn r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return string.Create(CultureInfo.InvariantCulture, $"{r.Mean:0.####} ± {r.StdErr:0.####} (standard error; {r.Episodes} episodes, {r.Policy})");
    }
}
