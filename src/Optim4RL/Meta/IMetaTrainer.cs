using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Meta;

/// <summary>
/// What the experiment runner needs from a meta-trainer (<see cref="MetaTrainer"/>, as <see cref="MetaA2C"/> or <see cref="MetaPpo"/>):
/// step it, read φ, and checkpoint it, so one loop drives both.
/// </summary>
public interface IMetaTrainer
{
    /// <summary>The learned optimizer being meta-trained.</summary>
    ILearnedOptimizer LearnedOptimizer { get; }

    /// <summary>The meta-parameters φ (live; copy before keeping).</summary>
    float[] Phi { get; }

    /// <summary>Meta-iterations completed.</summary>
    long Iteration { get; }

    /// <summary>Total meta-iterations of the run.</summary>
    long Iterations { get; }

    /// <summary>Thread count (null = all cores).</summary>
    int? MaxDegreeOfParallelism { get; set; }

    /// <summary>One meta-iteration.</summary>
    /// <exception cref="Agents.TrainingDivergedException">The meta-gradient or φ became NaN/Inf; φ keeps its last finite value.</exception>
    MetaIterationLog Step();

    /// <summary>Writes everything needed to continue exactly.</summary>
    void SaveCheckpoint(Stream stream);

    /// <summary>
    /// Writes the small part of the state — the learned optimizer's name, the iteration, φ and the
    /// meta-optimizer's state (a few KB) — that continues meta-training with a fresh population.
    /// </summary>
    void SaveMetaState(BinaryWriter writer);

    /// <summary>Restores φ and the meta-optimizer state written by <see cref="SaveMetaState"/>; returns the iteration it was written at.</summary>
    /// <exception cref="InvalidDataException">It belongs to another learned optimizer or its arrays do not fit.</exception>
    long LoadMetaState(BinaryReader reader);

    /// <summary>Whether <see cref="ContinueWithFreshPopulation"/> is supported (not for MetaPPO).</summary>
    bool CanRestartPopulation { get; }

    /// <summary>Meta-iterations <see cref="ContinueWithFreshPopulation"/> runs with φ frozen before meta-training goes on (the longest reset interval).</summary>
    int WarmUpIterations { get; }

    /// <summary>
    /// Continues meta-training after meta-iteration <paramref name="iteration"/> with φ and the meta-optimizer
    /// state as they are (e.g. from <see cref="LoadMetaState"/>) but this trainer's fresh population: first
    /// <see cref="WarmUpIterations"/> meta-iterations with φ frozen on the pipeline schedule of the iterations
    /// just before <paramref name="iteration"/>, so every agent is reset once at its slot and the population's
    /// ages are staggered again as in an uninterrupted run; then <see cref="Iteration"/> is <paramref name="iteration"/>.
    /// The result differs from an exact resume (other agents); it needs only the small meta-state file.
    /// </summary>
    /// <exception cref="NotSupportedException">The trainer cannot restart its population (MetaPPO).</exception>
    void ContinueWithFreshPopulation(long iteration);

    /// <summary>Restores a checkpoint of the same configuration.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this configuration.</exception>
    void LoadCheckpoint(Stream stream);
}
