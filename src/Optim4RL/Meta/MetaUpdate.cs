using Optim4RL.Io;
using Optim4RL.Agents;
using Optim4RL.Optimizers;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Meta;

/// <summary>The φ-side pieces of a meta-iteration used by <see cref="MetaTrainer"/> (docs/algorithms.md, "Meta-training", steps 5–6) and the small meta-state file.</summary>
internal static class MetaUpdate
{
    /// <summary>Rescales <paramref name="grad"/> to exactly global norm <paramref name="maxNorm"/> when that is &gt; 0 (the reference's max_norm).</summary>
    public static void RescaleToNorm(Span<float> grad, double maxNorm)
    {
        if (maxNorm <= 0) return;
        float norm = TP.Norm(grad);
        if (norm > 0) TP.Multiply(grad, (float)(maxNorm / norm), grad);
    }

    /// <summary>
    /// One meta-optimizer step φ ← φ + Δφ for meta-gradient <paramref name="metaGrad"/>; φ is changed
    /// only when both the gradient and the new φ are finite. Returns the gradient's global norm;
    /// <paramref name="updateNorm"/> is the global norm of the step Δφ.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The meta-gradient or the new φ is NaN/Inf (φ is kept).</exception>
    public static float Apply(IOptimizer metaOptimizer, OptimizerState state, float[] phi, float[] metaGrad, float[] scratch, long iteration, out float updateNorm)
    {
        float gradNorm = TP.Norm(metaGrad);
        if (!float.IsFinite(gradNorm))
            throw new TrainingDivergedException($"The meta-gradient is NaN/Inf at meta-iteration {iteration}; φ is kept at its value after iteration {iteration - 1}. Lower meta_optim learning_rate or set grad_clip/grad_norm.");
        metaOptimizer.Update(metaGrad, state, scratch);
        updateNorm = TP.Norm<float>(scratch);
        TP.Add(phi, scratch, scratch);
        if (!float.IsFinite(TP.Sum<float>(scratch)))
            throw new TrainingDivergedException($"φ became NaN/Inf at meta-iteration {iteration}; φ is kept at its value after iteration {iteration - 1}.");
        scratch.CopyTo(phi, 0);
        return gradNorm;
    }

    /// <summary>Writes the learned optimizer's name, the iteration, φ and the meta-optimizer state.</summary>
    public static void SaveMetaState(BinaryWriter writer, string optimizerName, long iteration, float[] phi, OptimizerState metaState)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(optimizerName);
        writer.Write(iteration);
        BinaryArrays.WriteFloats(writer, phi);
        metaState.Save(writer);
    }

    /// <summary>Reads what <see cref="SaveMetaState"/> wrote into φ and the meta-optimizer state; returns the iteration.</summary>
    /// <exception cref="InvalidDataException">Another learned optimizer's state, or arrays of other sizes.</exception>
    public static long LoadMetaState(BinaryReader reader, string optimizerName, float[] phi, OptimizerState metaState)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string name = reader.ReadString();
        if (name != optimizerName) throw new InvalidDataException($"the meta-state is for learned optimizer '{name}', this run uses '{optimizerName}'");
        long iteration = reader.ReadInt64();
        BinaryArrays.ReadFloats(reader, phi);
        metaState.Load(reader);
        return iteration;
    }
}
