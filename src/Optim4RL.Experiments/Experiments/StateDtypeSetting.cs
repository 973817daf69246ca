namespace Optim4RL.Experiments;

/// <summary>
/// The config key <c>agent_optim.kwargs.state_dtype</c>: how meta-training stores the learned
/// optimizer's recurrent state ("float32", the default, or "bfloat16": half the memory, float32
/// arithmetic, rounded to nearest even when stored). Other runs keep float32.
/// </summary>
public static class StateDtypeSetting
{
    /// <summary>The key path.</summary>
    public const string Key = "agent_optim.kwargs.state_dtype";

    /// <summary>The storage type the config asks for (float32 when the key is absent).</summary>
    /// <exception cref="ConfigException">Not a string, or not a known type.</exception>
    public static StateDtype Of(RunConfig run) => Parse(run, Key);

    /// <summary>As <see cref="Of"/>, checked against the learned optimizer meta-training runs with.</summary>
    /// <exception cref="ConfigException">As <see cref="Of"/>, or <paramref name="lopt"/> cannot keep its state in that type.</exception>
    public static StateDtype For(RunConfig run, ILearnedOptimizer lopt)
    {
        var dtype = Of(run);
        if (!lopt.Supports(dtype))
        {
            var able = LearnedOptimizers.Names.Where(n => LearnedOptimizers.Create(n).Supports(dtype));
            throw new ConfigException($"config key '{Key}': {lopt.Name} keeps its recurrent state in float32 only, not {dtype.Name()}; {dtype.Name()} is supported by {string.Join(", ", able)}.");
        }
        return dtype;
    }

    /// <summary>Rejects any storage type but float32 under <paramref name="section"/><c>.kwargs.state_dtype</c>, for runs that do not implement the others.</summary>
    /// <param name="run">The config.</param>
    /// <param name="section">The optimizer's section (<c>agent_optim</c>, or <c>optim</c> in the reference's PPO files).</param>
    /// <param name="what">The kind of run, for the message (e.g. "MetaPPO").</param>
    /// <exception cref="ConfigException">The key names another type, or an unknown one.</exception>
    public static void RequireFloat32(RunConfig run, string section, string what)
    {
        string key = section + ".kwargs.state_dtype";
        var dtype = Parse(run, key);
        if (dtype != StateDtype.Float32)
            throw new ConfigException($"config key '{key}': {what} keeps the learned optimizer's state in float32 only; {dtype.Name()} is supported by MetaA2C and MetapA2C.");
    }

    private static StateDtype Parse(RunConfig run, string key)
    {
        string name = run.GetString(key, StateDtype.Float32.Name());
        if (!StateDtypes.TryParse(name, out var dtype))
            throw new ConfigException($"config key '{key}': '{name}' is not a state storage type; use one of {string.Join(", ", StateDtypes.Names)}.");
        return dtype;
    }
}
