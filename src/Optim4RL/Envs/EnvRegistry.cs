using Optim4RL.Nn;
using Optim4RL.Tensors;

namespace Optim4RL.Envs;

/// <summary>
/// Looks tasks up by name. Discrete-action tasks (docs/environments.md): <c>catch</c> and the eight LPG gridworlds of
/// <see cref="GridworldConfig.All"/>; names are matched case-insensitively after trimming, and the gridworld
/// abbreviations of docs/environments.md (first letters: <c>sss</c>, <c>ssl</c>, <c>sds</c>, <c>sdl</c>, <c>bss</c>,
/// <c>bsl</c>, <c>bds</c>, <c>bdl</c>) are accepted too. The names of the continuous-control tasks on MuJoCo
/// (docs/environments.md, "Continuous control") are <see cref="ContinuousNames"/>; the tasks themselves are in the
/// Optim4RL.MuJoCo package, which adds them to <see cref="ContinuousEnvRegistry"/>.
/// Discrete tasks of your own join the lookup through <see cref="RegisterDiscrete"/>, so that code which
/// creates tasks by name (<c>MetaA2C</c>'s <c>MetaTaskConfig.Env</c>, <c>A2C.CreateShards</c>) can create them.
/// </summary>
public static class EnvRegistry
{
    /// <summary>The canonical task names: <c>catch</c>, then the eight gridworlds in the order of the table in docs/environments.md.</summary>
    public static IReadOnlyList<string> Names { get; } =
        Array.AsReadOnly<string>(["catch", .. GridworldConfig.All.Select(c => c.Name)]);

    /// <summary>
    /// Abbreviation → canonical name, e.g. <c>bdl</c> → <c>big_dense_long</c>: the first letter of each
    /// word of every gridworld name.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Abbreviations { get; } =
        GridworldConfig.All.ToDictionary(c => string.Concat(c.Name.Split('_').Select(w => w[0])), c => c.Name);

    /// <summary>Factories of the tasks registered with <see cref="RegisterDiscrete"/>, by lower-case name.</summary>
    private static readonly Dictionary<string, Func<int, Rng, float, IDiscreteVectorEnv>> Custom = new(StringComparer.Ordinal);

    /// <summary>
    /// True when <paramref name="name"/> (or an abbreviation of it) is one of the discrete tasks of
    /// <see cref="Names"/> or a task registered with <see cref="RegisterDiscrete"/>; false for any other name
    /// (continuous-control tasks and unknown names alike).
    /// </summary>
    public static bool IsDiscrete(string name) => TryResolve(name, out _);

    /// <summary>
    /// The canonical name for a task name or abbreviation (e.g. <c>SDL</c> → <c>small_dense_long</c>;
    /// a registered task's name in lower case), or false when it names no discrete task.
    /// </summary>
    public static bool TryResolve(string? name, out string canonical) =>
        TryResolve(name, Abbreviations, key => Names.Contains(key) || IsRegistered(key), out canonical);

    private static bool IsRegistered(string key)
    {
        lock (Custom) return Custom.ContainsKey(key);
    }

    /// <summary>
    /// Registers a discrete task of your own under <paramref name="name"/>: afterwards
    /// <see cref="CreateDiscrete"/> creates it with <paramref name="factory"/>, and
    /// <see cref="NetworkSpec.ForTask"/> gives it the actor-critic network "flatten → (optional 2×2 conv of
    /// <paramref name="convFilters"/> filters) → Dense <paramref name="hiddenSize"/>, ReLU → actor and critic
    /// heads". Everything that builds tasks by name then takes it, in particular meta-training:
    /// <c>new MetaA2C(new MetaA2CConfig([new MetaTaskConfig("my_task", …)], …), …)</c>.
    /// Registration is process-wide; registering a name again replaces the earlier factory and network.
    /// </summary>
    /// <param name="name">The task's name; matched case-insensitively after trimming. It must not be a
    /// built-in task name or abbreviation, nor a continuous-control task name.</param>
    /// <param name="factory">Creates <c>numEnvs</c> environments from a root stream and a reward scaling:
    /// <c>(numEnvs, rng, rewardScaling) =&gt; new MyEnv(numEnvs, rng, rewardScaling)</c>. Environment i should
    /// draw from <c>rng.Split(i)</c> (as the built-in tasks do) so that results do not depend on the batch size.
    /// The environments it returns must report <paramref name="name"/> as their <see cref="IVectorEnv.Name"/>
    /// and hold exactly <c>numEnvs</c> environments (<see cref="CreateDiscrete"/> checks both).</param>
    /// <param name="hiddenSize">Units of the network's Dense torso layer (32, as on the small gridworlds, by default).</param>
    /// <param name="convFilters">Filters of a 2×2 conv before the Dense layer (0, none, by default; needs an
    /// [H, W, C] observation).</param>
    /// <exception cref="ArgumentException">The name is empty or names a built-in task.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="hiddenSize"/> ≤ 0 or <paramref name="convFilters"/> &lt; 0.</exception>
    public static void RegisterDiscrete(string name, Func<int, Rng, float, IDiscreteVectorEnv> factory, int hiddenSize = 32, int convFilters = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegative(convFilters);
        string key = name.Trim().ToLowerInvariant();
        if (Names.Contains(key) || Abbreviations.ContainsKey(key) || IsContinuous(key))
            throw new ArgumentException($"'{name}' is a built-in task; register your task under another name.", nameof(name));
        lock (Custom)
        {
            NetworkSpec.RegisterTask(key, hiddenSize, convFilters);
            Custom[key] = factory;
        }
    }

    /// <summary>The canonical name for a task name or abbreviation.</summary>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    public static string Resolve(string name) =>
        TryResolve(name, out var canonical) ? canonical : throw UnknownTask(name);

    /// <summary>
    /// Creates a batch of <paramref name="numEnvs"/> environments of a discrete task: a <see cref="Catch"/> for
    /// <c>catch</c>, a <see cref="Gridworld"/> on a named map, or a registered task from its factory
    /// (<see cref="RegisterDiscrete"/>). Environment i uses <c>rng.Split(i)</c>.
    /// </summary>
    /// <param name="name">A name of <see cref="Names"/> or an abbreviation (case-insensitive).</param>
    /// <param name="numEnvs">How many environments (≥ 1).</param>
    /// <param name="rng">Root stream (not advanced).</param>
    /// <param name="rewardScaling">Multiplies every reward (<c>env.reward_scaling</c>; 1 by default).</param>
    /// <exception cref="ArgumentException">The name is unknown, e.g. "Unknown task 'foo'. Valid tasks: catch,
    /// small_sparse_short, … (abbreviations: sss, …)."</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1.</exception>
    /// <exception cref="InvalidOperationException">A registered factory returned null, or environments of another name or count.</exception>
    public static IDiscreteVectorEnv CreateDiscrete(string name, int numEnvs, Rng rng, float rewardScaling = 1f)
    {
        string canonical = Resolve(name);
        Func<int, Rng, float, IDiscreteVectorEnv>? factory;
        lock (Custom) Custom.TryGetValue(canonical, out factory);
        if (factory is not null)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
            var env = factory(numEnvs, rng, rewardScaling)
                ?? throw new InvalidOperationException($"The factory registered for task '{canonical}' returned null.");
            if (!string.Equals(env.Name?.Trim(), canonical, StringComparison.OrdinalIgnoreCase) || env.NumEnvs != numEnvs)
            {
                throw new InvalidOperationException(
                    $"The factory registered for task '{canonical}' made {env.NumEnvs} environments named '{env.Name}'; " +
                    $"it must make {numEnvs} named '{canonical}' (IVectorEnv.Name selects the task's network).");
            }

            return env;
        }

        if (canonical == "catch") return new Catch(numEnvs, rng, rewardScaling);
        return new Gridworld(GridworldConfig.Find(canonical)!, numEnvs, rng, rewardScaling);
    }

    /// <summary>
    /// The continuous-control tasks (MuJoCo, Gymnasium v4 semantics), named as in the reference's configs and Brax:
    /// <c>ant</c>, <c>halfcheetah</c>, <c>hopper</c>, <c>walker2d</c>, <c>humanoid</c>, <c>inverted_pendulum</c>,
    /// <c>inverted_double_pendulum</c>. (The reference's <c>ppo_pendulum.json</c> runs <c>inverted_double_pendulum</c>;
    /// "pendulum" alone is deliberately not a name.) The tasks are created by the Optim4RL.MuJoCo package
    /// (<c>MuJoCoTasks.Create</c>), or by name through <see cref="ContinuousEnvRegistry"/> once
    /// <c>MuJoCoTasks.Register()</c> has run.
    /// </summary>
    public static IReadOnlyList<string> ContinuousNames { get; } = Array.AsReadOnly(
        ["ant", "halfcheetah", "hopper", "walker2d", "humanoid", "inverted_pendulum", "inverted_double_pendulum"]);

    /// <summary>
    /// Other spellings of the continuous tasks: <c>half_cheetah</c> and the Gymnasium ids (<c>Ant-v4</c>,
    /// <c>HalfCheetah-v4</c>, <c>Hopper-v4</c>, <c>Walker2d-v4</c>, <c>Humanoid-v4</c>, <c>InvertedPendulum-v4</c>,
    /// <c>InvertedDoublePendulum-v4</c>), all matched case-insensitively.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ContinuousAliases { get; } = new Dictionary<string, string>
    {
        ["half_cheetah"] = "halfcheetah",
        ["ant-v4"] = "ant",
        ["halfcheetah-v4"] = "halfcheetah",
        ["hopper-v4"] = "hopper",
        ["walker2d-v4"] = "walker2d",
        ["humanoid-v4"] = "humanoid",
        ["invertedpendulum-v4"] = "inverted_pendulum",
        ["inverteddoublependulum-v4"] = "inverted_double_pendulum",
    };

    /// <summary>True when <paramref name="name"/> (or an alias) is one of <see cref="ContinuousNames"/>.</summary>
    public static bool IsContinuous(string? name) => TryResolveContinuous(name, out _);

    /// <summary>The canonical continuous task name for a name or alias, or false when it names none.</summary>
    public static bool TryResolveContinuous(string? name, out string canonical) =>
        TryResolve(name, ContinuousAliases, ContinuousNames.Contains, out canonical);

    /// <summary>
    /// The one name lookup of both task families: <paramref name="name"/> trimmed and in lower case, then its
    /// alias in <paramref name="aliases"/>, or itself when <paramref name="isName"/> knows it.
    /// </summary>
    private static bool TryResolve(string? name, IReadOnlyDictionary<string, string> aliases, Func<string, bool> isName, out string canonical)
    {
        canonical = "";
        if (name is null) return false;
        string key = name.Trim().ToLowerInvariant();
        if (aliases.TryGetValue(key, out var full)) canonical = full;
        else if (isName(key)) canonical = key;
        return canonical.Length > 0;
    }

    private static ArgumentException UnknownTask(string? name)
    {
        string registered;
        lock (Custom) registered = Custom.Count == 0 ? "" : $"; registered: {string.Join(", ", Custom.Keys.Order(StringComparer.Ordinal))}";
        return new($"Unknown task '{name}'. Valid tasks: {string.Join(", ", Names)} (abbreviations: {string.Join(", ", Abbreviations.Keys)}){registered}.", nameof(name));
    }
}
