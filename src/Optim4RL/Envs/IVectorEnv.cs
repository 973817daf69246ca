using Optim4RL.Tensors;

namespace Optim4RL.Envs;

/// <summary>
/// A batch of <see cref="NumEnvs"/> independent environments of one task, stepped together
/// (Brax/Gymnasium vector-env semantics). Every environment has its own RNG stream, so
/// results do not depend on how the batch is split across threads.
/// </summary>
/// <remarks>
/// Auto-reset (docs/environments.md, "Common rules"): a step that ends an episode reports it through the
/// terminated/truncated flags, and the observation written afterwards already belongs to
/// the fresh episode. Observations are float32, <see cref="ObservationSize"/> values per
/// environment, laid out row-major with shape <see cref="ObservationShape"/>.
/// </remarks>
public interface IVectorEnv
{
    /// <summary>The task name, e.g. <c>catch</c> or <c>small_dense_long</c>.</summary>
    string Name { get; }

    /// <summary>How many environments the batch holds.</summary>
    int NumEnvs { get; }

    /// <summary>The shape of one environment's observation, e.g. [10, 5] for Catch or [H, W, C] for a gridworld.</summary>
    IReadOnlyList<int> ObservationShape { get; }

    /// <summary>The product of <see cref="ObservationShape"/>.</summary>
    int ObservationSize { get; }

    /// <summary>Starts a fresh episode in every environment (drawing from each one's own RNG stream).</summary>
    void Reset();

    /// <summary>Starts a fresh episode in environment <paramref name="env"/> only.</summary>
    void Reset(int env);

    /// <summary>Writes the current observations, shape [NumEnvs, ObservationSize], into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The span is shorter than NumEnvs × ObservationSize.</exception>
    void Observe(Span<float> destination);

    /// <summary>Writes the complete state (every environment's state and RNG stream) for a checkpoint.</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Restores a state written by <see cref="SaveState"/> on an environment of the same task and size.</summary>
    /// <exception cref="InvalidDataException">The saved state belongs to another task or batch size.</exception>
    void LoadState(BinaryReader reader);
}

/// <summary>A vector environment with a discrete action space of <see cref="ActionCount"/> actions.</summary>
public interface IDiscreteVectorEnv : IVectorEnv
{
    /// <summary>How many discrete actions there are (3 for Catch, 9 for the gridworlds).</summary>
    int ActionCount { get; }

    /// <summary>
    /// Advances every environment by one step.
    /// </summary>
    /// <param name="actions">[NumEnvs] action indices in [0, ActionCount).</param>
    /// <param name="rewards">[NumEnvs] receives the (scaled) rewards.</param>
    /// <param name="terminated">[NumEnvs] receives true where the episode ended by the task's own rule.</param>
    /// <param name="truncated">[NumEnvs] receives true where the episode ended only by the time limit.</param>
    /// <exception cref="ArgumentOutOfRangeException">An action is outside [0, ActionCount).</exception>
    void Step(ReadOnlySpan<int> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated);
}

/// <summary>
/// A vector environment with continuous actions of <see cref="ActionSize"/> values per
/// environment (the MuJoCo tasks; Gymnasium v4 / Brax semantics, see
/// docs/environments.md).
/// </summary>
public interface IContinuousVectorEnv : IVectorEnv
{
    /// <summary>
    /// Values per action (e.g. 8 for Ant). As in Gymnasium v4 and Brax v0.9.4 the raw action is written to
    /// the controls and the engine clamps it to each actuator's control range (so a tanh policy's [−1, 1]
    /// drives Humanoid's ±0.4 motors at saturation); tasks may offer scaling to the range as an option.
    /// </summary>
    int ActionSize { get; }

    /// <summary>Length of an episode before truncation (1000 for the MuJoCo tasks).</summary>
    int MaxEpisodeSteps { get; }

    /// <summary>
    /// Advances every environment by one step with auto-reset.
    /// </summary>
    /// <param name="actions">[NumEnvs, ActionSize] actions.</param>
    /// <param name="rewards">[NumEnvs] receives the rewards.</param>
    /// <param name="terminated">[NumEnvs] true where the task's own rule ended the episode (e.g. unhealthy).</param>
    /// <param name="truncated">[NumEnvs] true where only the time limit ended it (bootstrap from the value there).</param>
    void Step(ReadOnlySpan<float> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated);
}
