using System.Numerics;
using Optim4RL.Tensors;

namespace Optim4RL.Agents;

/// <summary>
/// The softmax policy π(a) = exp(z_a) / Σ_b exp(z_b) of one row of logits z (the A2C actor's
/// output), computed in double with the maximum subtracted first.
/// </summary>
internal static class Categorical
{
    /// <summary>
    /// Draws an action by inversion: one uniform u ~ U[0, 1) from <paramref name="rng"/>, the first a with
    /// u·Σ exp(z − max) &lt; Σ_{b ≤ a} exp(z_b − max) (the last action when rounding leaves none).
    /// </summary>
    /// <exception cref="ArgumentException">The row is empty.</exception>
    public static int Sample<T>(ReadOnlySpan<T> logits, ref Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double max = Max(logits), sum = 0;
        for (int a = 0; a < logits.Length; a++) sum += Math.Exp(double.CreateChecked(logits[a]) - max);
        double u = rng.NextDouble() * sum, acc = 0;
        for (int a = 0; a < logits.Length; a++)
        {
            acc += Math.Exp(double.CreateChecked(logits[a]) - max);
            if (u < acc) return a;
        }

        return logits.Length - 1;
    }

    /// <summary>The most likely action (the lowest index among equal largest logits).</summary>
    /// <exception cref="ArgumentException">The row is empty.</exception>
    public static int Mode<T>(ReadOnlySpan<T> logits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (logits.IsEmpty) throw new ArgumentException("A policy needs at least one action.", nameof(logits));
        int best = 0;
        for (int a = 1; a < logits.Length; a++)
        {
            if (logits[a] > logits[best]) best = a;
        }

        return best;
    }

    /// <summary>log π(<paramref name="action"/>), natural log.</summary>
    /// <exception cref="ArgumentException">The row is empty.</exception>
    public static double LogProb<T>(ReadOnlySpan<T> logits, int action) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double max = Max(logits), sum = 0;
        for (int a = 0; a < logits.Length; a++) sum += Math.Exp(double.CreateChecked(logits[a]) - max);
        return double.CreateChecked(logits[action]) - max - Math.Log(sum);
    }

    private static double Max<T>(ReadOnlySpan<T> logits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (logits.IsEmpty) throw new ArgumentException("A policy needs at least one action.", nameof(logits));
        double max = double.NegativeInfinity;
        foreach (T z in logits) max = Math.Max(max, double.CreateChecked(z));
        return max;
    }
}
