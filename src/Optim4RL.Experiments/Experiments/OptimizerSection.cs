namespace Optim4RL.Experiments;

/// <summary>
/// One optimizer section of a config, read in one place: <c>&lt;section&gt;.name</c> and its <c>kwargs</c>
/// <c>grad_clip</c>, <c>grad_norm</c> and <c>param_load_path</c>. The sections are <c>agent_optim</c> (or
/// <c>optim</c> in the reference's PPO files), <c>meta_optim</c> and <c>optimizer</c> (SLCollect);
/// <see cref="Create"/> builds any of them through <see cref="Optax.FromConfig"/>, hand-designed or learned alike.
/// </summary>
/// <param name="Section">The section's name, e.g. <c>agent_optim</c>.</param>
/// <param name="Name">The optimizer's name as the config spells it.</param>
/// <param name="GradClip">Element-wise gradient clip; ≤ 0 (the default −1): none.</param>
/// <param name="GradNorm">Global-norm gradient clip; ≤ 0 (the default −1): none.</param>
/// <param name="ParamLoadPath">A learned optimizer's φ file; empty when absent.</param>
internal sealed record OptimizerSection(string Section, string Name, double GradClip, double GradNorm, string ParamLoadPath)
{
    /// <summary>Reads <paramref name="section"/> of <paramref name="run"/>.</summary>
    /// <exception cref="ConfigException">The name is missing, or a key has the wrong type.</exception>
    public static OptimizerSection Of(RunConfig run, string section) => new(section, run.GetString(section + ".name"),
        run.GetDouble(section + ".kwargs.grad_clip", -1), run.GetDouble(section + ".kwargs.grad_norm", -1),
        run.GetString(section + ".kwargs.param_load_path", ""));

    /// <summary>Whether the section names a learned optimizer.</summary>
    public bool IsLearned => Optax.IsLearned(Name);

    /// <summary>
    /// The optimizer with step size <paramref name="learningRate"/>; a learned one loads its φ file now (so a bad
    /// file fails before anything is written), uses at most <paramref name="threads"/> threads and says what it
    /// loaded in <paramref name="notes"/>.
    /// </summary>
    /// <exception cref="ConfigException">A learned optimizer without <c>kwargs.param_load_path</c>.</exception>
    /// <exception cref="ArgumentException">An unknown optimizer name, or both clips set.</exception>
    /// <exception cref="MetaParamsFileException">The φ file is damaged or of another architecture.</exception>
    public IOptimizer Create(double learningRate, int? threads = null, ICollection<string>? notes = null)
    {
        if (!IsLearned) return Optax.FromConfig(Name, learningRate, GradClip, GradNorm);
        if (string.IsNullOrWhiteSpace(ParamLoadPath))
            throw new ConfigException($"config key '{Section}.kwargs.param_load_path' is empty: a learned optimizer ({Name}) needs a φ file; run a Meta config first and point this key to its param.json.");
        var optimizer = Optax.FromConfig(Name, learningRate, GradClip, GradNorm, ParamLoadPath, threads);
        notes?.Add($"loaded φ of {LearnedOptimizers.Names.First(n => string.Equals(n, Name, StringComparison.OrdinalIgnoreCase))} from {ParamLoadPath}");
        return optimizer;
    }
}
