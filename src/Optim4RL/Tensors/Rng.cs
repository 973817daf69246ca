using System.Runtime.CompilerServices;

namespace Optim4RL.Tensors;

/// <summary>
/// A splittable, counter-based pseudo-random stream: the i-th draw is a pure function
/// <c>Mix(key, i)</c> (SplitMix64 finaliser over key + i·γ), so results never depend on
/// thread scheduling. Give every environment and every agent its own stream with
/// <see cref="Split"/>. A value type: copy it to fork, pass it by <c>ref</c> to advance it.
/// </summary>
/// <remarks>
/// Source: Steele, Lea, Flood, "Fast splittable pseudorandom number generators" (OOPSLA 2014),
/// the SplitMix64 mixing function; the splitting discipline follows JAX's <c>random.split</c>.
/// The whole state is two 64-bit words (<see cref="Key"/>, <see cref="Counter"/>), which
/// checkpoints save and restore exactly.
/// </remarks>
public struct Rng
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;

    /// <summary>The stream's key (fixed for the stream's life).</summary>
    public ulong Key;

    /// <summary>How many 64-bit words have been drawn so far.</summary>
    public ulong Counter;

    /// <summary>Creates the root stream for a seed.</summary>
    public Rng(ulong seed)
    {
        Key = Mix(seed ^ 0x6A09E667F3BCC909UL);
        Counter = 0;
    }

    /// <summary>Restores a stream from its saved state.</summary>
    public Rng(ulong key, ulong counter)
    {
        Key = key;
        Counter = counter;
    }

    /// <summary>
    /// An independent child stream, the <paramref name="index"/>-th of this stream's children.
    /// Does not advance this stream: <c>Split(0)</c>, <c>Split(1)</c>, … are all distinct.
    /// </summary>
    public readonly Rng Split(ulong index) => new(Mix(Key ^ Mix(index * Gamma + 0xBB67AE8584CAA73BUL)), 0);

    /// <summary>Draws a child stream and advances this one (like <c>key, sub = split(key)</c>).</summary>
    public Rng Fork() => new(Mix(NextUInt64() ^ 0x3C6EF372FE94F82BUL), 0);

    /// <summary>The next 64 uniformly distributed bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64() => Mix(Key + (++Counter) * Gamma);

    /// <summary>A uniform float in [0, 1) with 24 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="n"/>) (Lemire's multiply-shift; n ≥ 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be positive.");
        return (int)(((NextUInt64() >> 32) * (ulong)n) >> 32);
    }

    /// <summary>True with probability <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>A standard normal draw (Box–Muller, both uniforms fresh; no cached second value).</summary>
    public double NextNormal()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>
    /// A standard normal draw truncated to [−2, 2] by rejection, as flax/JAX's
    /// <c>truncated_normal</c> used by <c>lecun_normal</c>.
    /// </summary>
    public double NextTruncatedNormal()
    {
        while (true)
        {
            double z = NextNormal();
            if (z >= -2.0 && z <= 2.0) return z;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
