namespace Optim4RL.Envs;

/// <summary>Argument checks shared by the vector environments, so every task words its errors alike.</summary>
internal static class EnvChecks
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 0 ≤ <paramref name="env"/> &lt; <paramref name="numEnvs"/>.</summary>
    public static void Env(int env, int numEnvs)
    {
        if ((uint)env >= (uint)numEnvs)
            throw new ArgumentOutOfRangeException(nameof(env), env, $"Environment index must be in [0, {numEnvs}).");
    }

    /// <summary>Throws <see cref="ArgumentException"/> when a span holds fewer than <paramref name="numEnvs"/> values.</summary>
    public static void Length(int length, int numEnvs, string name)
    {
        if (length < numEnvs)
            throw new ArgumentException($"Span holds {length} values; NumEnvs = {numEnvs} are needed.", name);
    }

    /// <summary>
    /// Validates a discrete step's spans and actions before any environment changes:
    /// <see cref="ArgumentException"/> for a short span, <see cref="ArgumentOutOfRangeException"/> for an action outside [0, <paramref name="actionCount"/>).
    /// </summary>
    public static void DiscreteStep(int numEnvs, int actionCount, ReadOnlySpan<int> actions, int rewards, int terminated, int truncated)
    {
        Length(actions.Length, numEnvs, nameof(actions));
        Length(rewards, numEnvs, nameof(rewards));
        Length(terminated, numEnvs, nameof(terminated));
        Length(truncated, numEnvs, nameof(truncated));
        for (int i = 0; i < numEnvs; i++)
        {
            if ((uint)actions[i] >= (uint)actionCount)
                throw new ArgumentOutOfRangeException(nameof(actions), actions[i], $"Action of environment {i} must be in [0, {actionCount}).");
        }
    }
}
