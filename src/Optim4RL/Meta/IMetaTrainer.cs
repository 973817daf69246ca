using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Meta;

/// <summary>
/// What the experiment runner needs from a meta-trainer (<see cref="MetaA2C"/>, <see cref="MetaPpo"/>):
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

    /// <summary>Restores a checkpoint of the same configuration.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this configuration.</exception>
    void LoadCheckpoint(Stream stream);
}
