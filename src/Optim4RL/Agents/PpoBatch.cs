namespace Optim4RL.Agents;

/// <summary>
/// The transitions of one PPO training step, stored as <see cref="Segments"/> segments of
/// <see cref="Unroll"/> consecutive steps of one environment (Brax's <c>Transition</c> batch of shape
/// [batch_size × num_minibatches, unroll_length]). Segment s = u·N + e holds unroll u of environment e.
/// All arrays are allocated once and overwritten by every collection.
/// </summary>
/// <remarks>
/// Per segment: T + 1 observations (the T observations the actions were taken in, then the one
/// after the last step, used to bootstrap), the raw (pre-tanh) actions, the behaviour policy's
/// log-probabilities, the unscaled rewards, and the termination and truncation flags. A step that
/// ends an episode is either terminated (the task's rule, no bootstrap) or truncated (time limit
/// only); never both. After an auto-reset the next observation belongs to the new episode.
/// </remarks>
public sealed class PpoBatch
{
    /// <summary>Allocates a batch of <paramref name="segments"/> segments.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public PpoBatch(int segments, int unroll, int observationSize, int actionSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segments, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(unroll, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(observationSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionSize, 1);
        Segments = segments;
        Unroll = unroll;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        Observations = new float[checked((long)segments * (unroll + 1) * observationSize)];
        RawActions = new float[checked((long)segments * unroll * actionSize)];
        LogProbs = new float[segments * unroll];
        Rewards = new float[segments * unroll];
        Terminations = new bool[segments * unroll];
        Truncations = new bool[segments * unroll];
    }

    /// <summary>S, the number of segments.</summary>
    public int Segments { get; }

    /// <summary>T, transitions per segment.</summary>
    public int Unroll { get; }

    /// <summary>Values per observation.</summary>
    public int ObservationSize { get; }

    /// <summary>Values per action (A).</summary>
    public int ActionSize { get; }

    /// <summary>Observations [S, T + 1, obs]; index t = T is the bootstrap observation.</summary>
    public float[] Observations { get; }

    /// <summary>Raw (pre-tanh) actions [S, T, A].</summary>
    public float[] RawActions { get; }

    /// <summary>log π_behaviour of the actions [S, T].</summary>
    public float[] LogProbs { get; }

    /// <summary>Unscaled rewards [S, T].</summary>
    public float[] Rewards { get; }

    /// <summary>True where the step ended the episode by the task's rule [S, T].</summary>
    public bool[] Terminations { get; }

    /// <summary>True where the step ended the episode by the time limit only [S, T].</summary>
    public bool[] Truncations { get; }

    /// <summary>The observation at step <paramref name="t"/> (0 ≤ t ≤ T) of segment <paramref name="segment"/>.</summary>
    public Span<float> Observation(int segment, int t) =>
        Observations.AsSpan(((segment * (Unroll + 1)) + t) * ObservationSize, ObservationSize);

    /// <summary>The T + 1 observations of segment <paramref name="segment"/>, [T + 1, obs].</summary>
    public Span<float> SegmentObservations(int segment) =>
        Observations.AsSpan(segment * (Unroll + 1) * ObservationSize, (Unroll + 1) * ObservationSize);
}
