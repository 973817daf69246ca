namespace Optim4RL.Experiments;

/// <summary>
/// The config key <c>agent_optim.kwargs.state_dtype</c>: how meta-training stores the learned
/// optimizer's recurrent state ("bfloat16": half the memory, float32 arithmetic, rounded to nearest
/// even when stored; or "float32", the reference's storage). When the key is absent, MetaA2C and
/// MetapA2C use bfloat16 where the learned optimizer supports it and float32 otherwise
/// (<see cref="StateDtypes.DefaultFor"/>); every other run keeps float32. config.json records the
/// storage a run used under <c>provenance.numerics.state_dtype</c>.
/// </summary>
public static class StateDtypeSetting
{
    /// <summary>The key path.</summary>
    public const string Key = "agent_optim.kwargs.state_dtype";

    /// <summary>The storage type the run uses: the one the config asks for, or the default for its kind of run when the key is absent.</summary>
    /// <exception cref="ConfigException">Not a string, or not a known type.</exception>
    public static StateDtype Of(RunConfig run) => run.Has(Key) ? Parse(run, Key) : DefaultOf(run);

    /// <summary>True when the config names the storage type itself (the key is present).</summary>
    public static bool IsExplicit(RunConfig run) => run.Has(Key);

    /// <summary>bfloat16 for MetaA2C/MetapA2C with a learned optimizer that supports it; float32 for everything else.</summary>
    private static StateDtype DefaultOf(RunConfig run)
    {
        if (run.GetString("agent.name", "") is not ("MetaA2C" or "MetapA2C")) return StateDtype.Float32;
        string name = run.GetString("agent_optim.name", "");
        return LearnedOptimizers.Names.Contains(name) ? StateDtypes.DefaultFor(LearnedOptimizers.Create(name)) : StateDtype.Float32;
    }

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
