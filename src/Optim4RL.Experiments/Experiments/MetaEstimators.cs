using Optim4RL.Distributed;

namespace Optim4RL.Experiments;

/// <summary>A meta-gradient estimator a config can name: its <c>meta_estimator.name</c>, what it is, and how its settings bind.</summary>
/// <param name="Name">The config name.</param>
/// <param name="Description">One line for docs/configs.md.</param>
/// <param name="Create">Builds the estimator from the resolved config (its <c>meta_estimator.*</c> keys and the run's seed) and the MPI job
/// that shares the run (null: one process), over which an estimator may spread its own work.</param>
public sealed record MetaEstimatorKind(string Name, string Description, Func<RunConfig, Communicator?, IMetaGradientEstimator> Create);

/// <summary>
/// The registry of meta-gradient estimators (docs/estimators.md): one line per estimator. Meta-training
/// configs choose one with <c>meta_estimator.name</c>; absent, it is back-propagation through time.
/// </summary>
public static class MetaEstimators
{
    /// <summary>Every estimator a config can name, the default first.</summary>
    public static IReadOnlyList<MetaEstimatorKind> All { get; } =
    [
        new(BackpropThroughTime.EstimatorName, "back-propagation through the K inner updates (the paper's method; minimises the RL loss)", (_, _) => new BackpropThroughTime()),
        new(EvolutionStrategies.EstimatorName, "antithetic evolution strategies over truncated or full inner runs (maximises the reward collected)", (run, ranks) => new EvolutionStrategies(EsSettingsOf(run), run.RunSeed, ranks)),
    ];

    /// <summary>The names, for the schema and messages.</summary>
    public static IReadOnlyList<string> Names => [.. All.Select(k => k.Name)];

    /// <summary>The estimator the config names (<see cref="BackpropThroughTime"/> when <c>meta_estimator</c> is absent).</summary>
    /// <param name="run">The resolved config.</param>
    /// <param name="ranks">The MPI job that shares the run (null: one process); ES spreads its perturbation pairs over it.</param>
    /// <exception cref="ConfigException">An unknown name or an invalid setting.</exception>
    public static IMetaGradientEstimator FromConfig(RunConfig run, Communicator? ranks = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        string name = run.GetString("meta_estimator.name", BackpropThroughTime.EstimatorName);
        var kind = All.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ConfigException($"config key 'meta_estimator.name': unknown estimator '{name}'. Valid: {string.Join(", ", Names)}.");
        try
        {
            return kind.Create(run, ranks);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"invalid meta_estimator settings: {e.Message}", e);
        }
    }

    private static EsSettings EsSettingsOf(RunConfig run)
    {
        var d = new EsSettings();
        string shaping = run.GetString("meta_estimator.fitness_shaping", "centered_ranks");
        return new EsSettings(
            run.GetInt("meta_estimator.population", d.Population),
            run.GetDouble("meta_estimator.sigma", d.Sigma),
            shaping switch
            {
                "centered_ranks" => FitnessShaping.CenteredRanks,
                "none" => FitnessShaping.None,
                _ => throw new ConfigException($"config key 'meta_estimator.fitness_shaping': unknown shaping '{shaping}'. Valid: centered_ranks, none."),
            },
            run.GetInt("meta_estimator.inner_steps", d.InnerSteps));
    }
}
