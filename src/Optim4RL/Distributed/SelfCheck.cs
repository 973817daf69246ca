using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Optim4RL.Distributed;

/// <summary>
/// Checks a job's communication end to end (<c>optim4rl mpi-check</c>): barrier, broadcast, gather and
/// all-gather of variable-length arrays, and the ordered sum of chunk partials spread over the ranks
/// with <see cref="StaticPartition.Even"/>, compared bit for bit with one process summing all chunks.
/// </summary>
internal static class SelfCheck
{
    /// <summary>The outcome, the same on every rank.</summary>
    /// <param name="Ranks">The rank count of the job.</param>
    /// <param name="Problems">What did not hold (empty when everything did).</param>
    /// <param name="SumHash">XXH64 of the ordered sum's bytes (hex): equal across rank counts when the sum is bit-identical.</param>
    public sealed record Result(int Ranks, IReadOnlyList<string> Problems, string SumHash);

    /// <summary>
    /// The partials of chunk <paramref name="chunk"/>: <paramref name="chunkLength"/> values of both signs over
    /// about 40 binary orders of magnitude, so that adding chunks in another order changes the bits. They
    /// depend only on the seed and the chunk index, never on which rank computes them.
    /// </summary>
    public static double[] ChunkPartials(ulong seed, int chunk, int chunkLength)
    {
        var values = new double[chunkLength];
        for (int j = 0; j < chunkLength; j++)
        {
            ulong x = Mix(seed ^ Mix(((ulong)(uint)chunk << 32) | (uint)j));
            double mantissa = 1 + (x >> 11 & 0xFFFFF) / (double)(1 << 20);
            int exponent = (int)(x >> 40 & 0x3F) % 40 - 20;
            values[j] = ((x & 1) == 0 ? 1 : -1) * Math.ScaleB(mantissa, exponent);
        }
        return values;
    }

    /// <summary>The single-process reference: all chunks summed in order on this rank alone.</summary>
    public static double[] ReferenceSum(ulong seed, int chunks, int chunkLength)
    {
        var sum = new double[chunkLength];
        for (int c = 0; c < chunks; c++) OrderedReduction.AddChunks(ChunkPartials(seed, c, chunkLength), chunkLength, sum);
        return sum;
    }

    /// <summary>Hex XXH64 of the values' bytes.</summary>
    public static string Hash(double[] values) => Convert.ToHexStringLower(XxHash64.Hash(MemoryMarshal.AsBytes(values.AsSpan())));

    /// <summary>Runs every check; collective (all ranks call it with the same arguments).</summary>
    /// <exception cref="ArgumentOutOfRangeException">chunks &lt; 0 or chunkLength &lt; 1.</exception>
    public static Result Run(Communicator communicator, int chunks, int chunkLength, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkLength, 1);
        var problems = new List<string>();
        int rank = communicator.Rank, size = communicator.Size;
        communicator.Barrier();

        // Broadcast: rank 0's array reaches everyone, length included.
        double[] sent = [Math.PI, -0.0, double.Epsilon, size];
        double[] got = communicator.Broadcast(rank == 0 ? sent : null);
        if (!got.AsSpan().SequenceEqual(sent)) problems.Add($"rank {rank}: broadcast gave [{string.Join(", ", got)}]");

        // Gather and all-gather: rank r sends r + 1 values (rank 0 two, so lengths are not all distinct from ranks), float and int.
        float[] mine = Enumerable.Range(0, rank + 1 + (rank == 0 ? 1 : 0)).Select(i => rank * 100f + i).ToArray();
        var gathered = communicator.Gather(mine);
        if (rank == 0 && (gathered is null || !Enumerable.Range(0, size).All(r => gathered[r].SequenceEqual(Expected(r)))))
            problems.Add("rank 0: gather did not return every rank's array in rank order");
        if (rank != 0 && gathered is not null) problems.Add($"rank {rank}: gather returned data off the root");
        var all = communicator.AllGather(new[] { rank, -rank });
        if (all.Length != size || !Enumerable.Range(0, size).All(r => all[r].SequenceEqual(new[] { r, -r })))
            problems.Add($"rank {rank}: all-gather did not return every rank's array in rank order");

        // Ordered sum of this rank's contiguous chunk range.
        var (start, count) = StaticPartition.Even(chunks, size, rank);
        var partials = new double[count * chunkLength];
        for (int c = 0; c < count; c++) ChunkPartials(seed, start + c, chunkLength).CopyTo(partials, c * chunkLength);
        double[] sum = communicator.OrderedSum(partials, chunkLength);
        double[] reference = ReferenceSum(seed, chunks, chunkLength);
        if (!MemoryMarshal.AsBytes(sum.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(reference.AsSpan())))
            problems.Add($"rank {rank}: the ordered sum differs from the single-process sum");

        // Every rank learns every problem, so all agree on the outcome.
        byte[] text = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', problems));
        var reported = communicator.AllGather(text).SelectMany(b => System.Text.Encoding.UTF8.GetString(b).Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        return new Result(size, reported, Hash(sum));

        static float[] Expected(int r) => Enumerable.Range(0, r + 1 + (r == 0 ? 1 : 0)).Select(i => r * 100f + i).ToArray();
    }

    private static ulong Mix(ulong z)
    {
        // SplitMix64's finaliser: a fixed, well-spread function of the input.
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
