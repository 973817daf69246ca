namespace Optim4RL.Distributed;

/// <summary>
/// The processes of one job and the few collective operations the rest of the library needs. One
/// process is <see cref="SingleProcessCommunicator"/> (every operation an identity); under <c>mpiexec</c>
/// or <c>srun</c> it is an MPI communicator over all ranks (<see cref="Cluster.Start"/>). Every operation
/// is collective: all ranks call it in the same order, and only from one thread at a time.
/// The element types allowed in arrays are byte, int, long, float and double.
/// </summary>
public abstract class Communicator : IDisposable
{
    /// <summary>This process's rank, 0 ≤ Rank &lt; Size.</summary>
    public abstract int Rank { get; }

    /// <summary>The number of processes in the job (≥ 1).</summary>
    public abstract int Size { get; }

    /// <summary>True on rank 0, the rank that writes files shared by the whole job.</summary>
    public bool IsRoot => Rank == 0;

    /// <summary>Waits until every rank has called it. A rank that waits sleeps between checks instead of spinning on a core.</summary>
    public abstract void Barrier();

    /// <summary>Rank <paramref name="root"/>'s array (its length included) on every rank; other ranks may pass null.</summary>
    /// <exception cref="ArgumentNullException">values is null on the root.</exception>
    /// <exception cref="NotSupportedException">T is not one of the allowed element types.</exception>
    public abstract T[] Broadcast<T>(T[]? values, int root = 0) where T : unmanaged;

    /// <summary>
    /// Every rank's array, of any length, collected on <paramref name="root"/> as one array per rank in
    /// rank order; null on the other ranks.
    /// </summary>
    /// <exception cref="NotSupportedException">T is not one of the allowed element types.</exception>
    public abstract T[][]? Gather<T>(T[] local, int root = 0) where T : unmanaged;

    /// <summary>Every rank's array, of any length, on every rank, one array per rank in rank order.</summary>
    /// <exception cref="NotSupportedException">T is not one of the allowed element types.</exception>
    public virtual T[][] AllGather<T>(T[] local) where T : unmanaged
    {
        var gathered = Gather(local);
        int[] lengths = Broadcast(gathered?.Select(a => a.Length).ToArray());
        T[] flat = Broadcast(gathered?.SelectMany(a => a).ToArray());
        var result = new T[lengths.Length][];
        for (int r = 0, at = 0; r < lengths.Length; at += lengths[r], r++) result[r] = flat.AsSpan(at, lengths[r]).ToArray();
        return result;
    }

    /// <summary>
    /// The deterministic sum of chunked partial sums. Each rank passes the partials of its own contiguous
    /// range of chunks (row-major, <paramref name="chunkLength"/> values per chunk; zero chunks is allowed),
    /// the ranges lying in rank order as <see cref="StaticPartition"/> makes them. Every rank gets the
    /// element-wise sum added in global chunk order (<see cref="OrderedReduction.SumChunks"/>): the same bits
    /// as one process summing all chunks, for any rank count. Costs one gather to rank 0 and one broadcast.
    /// </summary>
    /// <exception cref="ArgumentException">A rank's partials are not a whole number of chunks (raised on that rank before any communication).</exception>
    public double[] OrderedSum(double[] localPartials, int chunkLength)
    {
        ArgumentNullException.ThrowIfNull(localPartials);
        if (chunkLength < 1 || localPartials.Length % chunkLength != 0)
            throw new ArgumentException($"{localPartials.Length} partial values are not a whole number of chunks of {chunkLength}.", nameof(localPartials));
        double[]? sum = null;
        var all = Gather(localPartials);
        if (all is not null)
        {
            // Rank order is chunk order, so adding rank after rank is the global order.
            sum = new double[chunkLength];
            foreach (double[] part in all) OrderedReduction.AddChunks(part, chunkLength, sum);
        }
        return Broadcast(sum);
    }

    /// <summary>
    /// Stops the whole job at once after printing <paramref name="message"/> (one line, naming this rank)
    /// on stderr: the way out when one rank cannot go on and the others would otherwise wait for it forever.
    /// In one process it prints the message and exits with <paramref name="exitCode"/>.
    /// </summary>
    public abstract void Abort(string message, int exitCode);

    /// <summary>Ends this process's part in the job (for MPI: finalises it). Calling it twice is harmless.</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>Throws unless T is one of the element types the communicators move.</summary>
    /// <exception cref="NotSupportedException">T is not byte, int, long, float or double.</exception>
    protected static void CheckElementType<T>()
    {
        if (typeof(T) != typeof(byte) && typeof(T) != typeof(int) && typeof(T) != typeof(long) && typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"communicators move arrays of byte, int, long, float or double, not {typeof(T).Name}.");
    }
}
