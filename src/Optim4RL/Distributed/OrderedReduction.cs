namespace Optim4RL.Distributed;

/// <summary>
/// The one summation order of chunked partial sums: element-wise, chunk 0 first, then chunk 1, and
/// so on. Floating-point addition is not associative, so fixing this order is what makes a sum come
/// out bit-identical whether its chunks were computed in one process or spread over any number of
/// ranks (MPI_Allreduce leaves its order unspecified, so it is never used for this).
/// </summary>
internal static class OrderedReduction
{
    /// <summary>
    /// Adds the chunks of <paramref name="partials"/> (row-major, <paramref name="chunkLength"/> values per
    /// chunk) in chunk order into <paramref name="sum"/>, which is first set to zero: sum[j] = ((0 + c₀[j]) + c₁[j]) + ….
    /// </summary>
    /// <exception cref="ArgumentException">chunkLength &lt; 1, partials not a whole number of chunks, or sum's length not chunkLength.</exception>
    public static void SumChunks(ReadOnlySpan<double> partials, int chunkLength, Span<double> sum)
    {
        if (chunkLength < 1) throw new ArgumentException($"chunk length must be ≥ 1; got {chunkLength}.", nameof(chunkLength));
        if (partials.Length % chunkLength != 0)
            throw new ArgumentException($"{partials.Length} partial values are not a whole number of chunks of {chunkLength}.", nameof(partials));
        if (sum.Length != chunkLength) throw new ArgumentException($"the sum has {sum.Length} values; expected the chunk length {chunkLength}.", nameof(sum));
        sum.Clear();
        AddChunks(partials, chunkLength, sum);
    }

    /// <summary>
    /// Adds the chunks of <paramref name="partials"/> in chunk order onto <paramref name="sum"/> as it stands:
    /// calling it on consecutive pieces of a chunk sequence gives the same bits as one call on the whole.
    /// </summary>
    /// <exception cref="ArgumentException">partials not a whole number of chunks of sum's length.</exception>
    public static void AddChunks(ReadOnlySpan<double> partials, int chunkLength, Span<double> sum)
    {
        if (chunkLength < 1 || sum.Length != chunkLength || partials.Length % chunkLength != 0)
            throw new ArgumentException($"{partials.Length} partial values are not a whole number of chunks of {sum.Length}.", nameof(partials));
        for (int at = 0; at < partials.Length; at += chunkLength)
        {
            var chunk = partials.Slice(at, chunkLength);
            for (int j = 0; j < chunkLength; j++) sum[j] += chunk[j];
        }
    }
}
