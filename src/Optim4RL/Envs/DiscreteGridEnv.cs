using Optim4RL.Tensors;

namespace Optim4RL.Envs;

/// <summary>
/// What the discrete grid tasks (<see cref="Catch"/>, <see cref="Gridworld"/>) share: a batch of
/// <see cref="NumEnvs"/> boards in which environment i draws only from its own stream <c>rng.Split(i)</c>
/// (so its trajectory does not depend on the batch size), reset one by one, observed into one buffer, and
/// saved as a versioned state that starts with the same header (tag, version, task name, NumEnvs) and
/// holds every environment's stream before its own fields.
/// </summary>
public abstract class DiscreteGridEnv : IDiscreteVectorEnv
{
    /// <summary>Creates the batch's streams: environment i uses <c>rng.Split((ulong)i)</c>; <paramref name="rng"/> is not advanced.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1.</exception>
    private protected DiscreteGridEnv(int numEnvs, Rng rng, float rewardScaling)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        NumEnvs = numEnvs;
        RewardScaling = rewardScaling;
        Rngs = new Rng[numEnvs];
        for (int i = 0; i < numEnvs; i++) Rngs[i] = rng.Split((ulong)i);
    }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public int NumEnvs { get; }

    /// <summary>The factor applied to every reward.</summary>
    public float RewardScaling { get; }

    /// <inheritdoc/>
    public abstract IReadOnlyList<int> ObservationShape { get; }

    /// <inheritdoc/>
    public abstract int ObservationSize { get; }

    /// <inheritdoc/>
    public abstract int ActionCount { get; }

    /// <summary>Environment i's random stream.</summary>
    private protected Rng[] Rngs { get; }

    /// <inheritdoc/>
    public void Reset()
    {
        for (int i = 0; i < NumEnvs; i++) ResetEnv(i);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="env"/> is outside [0, NumEnvs).</exception>
    public void Reset(int env)
    {
        EnvChecks.Env(env, NumEnvs);
        ResetEnv(env);
    }

    /// <summary>Starts a new episode in environment <paramref name="i"/>, drawing from its own stream.</summary>
    private protected abstract void ResetEnv(int i);

    /// <inheritdoc/>
    public abstract void Step(ReadOnlySpan<int> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated);

    /// <inheritdoc/>
    public abstract void Observe(Span<float> destination);

    /// <inheritdoc/>
    public abstract void SaveState(BinaryWriter writer);

    /// <inheritdoc/>
    public abstract void LoadState(BinaryReader reader);

    /// <summary>The first NumEnvs × ObservationSize values of <paramref name="destination"/>, cleared, for <see cref="Observe"/> to draw into.</summary>
    /// <exception cref="ArgumentException">The span is shorter than NumEnvs × ObservationSize.</exception>
    private protected Span<float> ObservationBuffer(Span<float> destination)
    {
        int size = ObservationSize;
        int total = NumEnvs * size;
        if (destination.Length < total)
            throw new ArgumentException($"Observation buffer holds {destination.Length} values; {total} (NumEnvs × {size}) are needed.", nameof(destination));
        destination = destination[..total];
        destination.Clear();
        return destination;
    }

    /// <summary>Writes the state header: <paramref name="tag"/>, <paramref name="version"/>, the task name and NumEnvs.</summary>
    private protected void WriteHeader(BinaryWriter writer, string tag, int version)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(tag);
        writer.Write(version);
        writer.Write(Name);
        writer.Write(NumEnvs);
    }

    /// <summary>Writes environment <paramref name="i"/>'s stream (key, counter).</summary>
    private protected void WriteRng(BinaryWriter writer, int i)
    {
        writer.Write(Rngs[i].Key);
        writer.Write(Rngs[i].Counter);
    }

    /// <summary>
    /// Reads a state written as <see cref="WriteHeader"/>, then <paramref name="readShape"/>'s fields, then per environment
    /// its stream (<see cref="WriteRng"/>) and <paramref name="readEnv"/>'s fields. The callbacks read into staging buffers:
    /// the streams are replaced only when everything was read, and the caller commits its buffers after this returns.
    /// <paramref name="kind"/> names the state in messages ("Catch", "gridworld").
    /// </summary>
    /// <exception cref="InvalidDataException">Another tag, version, task or NumEnvs; the data is truncated; or a callback rejects it.</exception>
    private protected void ReadState(BinaryReader reader, string tag, int version, string kind, Action<int> readEnv, Action? readShape = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var rngs = new Rng[NumEnvs];
        try
        {
            string savedTag = reader.ReadString();
            if (savedTag != tag) throw new InvalidDataException($"Not a {kind} state (tag '{savedTag}').");
            int savedVersion = reader.ReadInt32();
            if (savedVersion != version) throw new InvalidDataException($"Unsupported {kind} state version {savedVersion}.");
            string name = reader.ReadString();
            if (name != Name) throw new InvalidDataException($"Saved state belongs to task '{name}', not '{Name}'.");
            int savedN = reader.ReadInt32();
            if (savedN != NumEnvs) throw new InvalidDataException($"Saved state has {savedN} environments; this batch has {NumEnvs}.");
            readShape?.Invoke();
            for (int i = 0; i < NumEnvs; i++)
            {
                ulong key = reader.ReadUInt64();
                ulong counter = reader.ReadUInt64();
                rngs[i] = new Rng(key, counter);
                readEnv(i);
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"Saved {kind} state is truncated.", e);
        }
        rngs.CopyTo(Rngs, 0);
    }

    // ---- test hooks ----

    internal Rng GetRng(int env) => Rngs[env];
}
