using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Optim4RL.Distributed;

/// <summary>
/// Another communicator, with counters: per rank, the bytes of array data its collective operations send to and
/// receive from the other ranks, and the wall time spent inside them (<see cref="Counts"/>). Pass it wherever the
/// wrapped communicator would go; results are the wrapped communicator's, bit for bit.
/// </summary>
/// <remarks>
/// Bytes are array payload, each collective counted as direct messages between its root and every other rank:
/// a broadcast of n bytes is n received on every other rank and n·(Size − 1) sent by the root; a gather is each
/// rank's array sent to the root and received there (the root's own array moves nowhere). That is what crosses
/// between two ranks; with more ranks MPI may relay the same data along a tree. The few bytes an implementation
/// adds of its own (array lengths, synchronisation tokens) are not counted. <see cref="Communicator.AllGather{T}"/>
/// and <see cref="Communicator.OrderedSum"/> run as their gather and broadcasts through this communicator, each
/// counted. One process (Size 1) moves nothing: zero bytes. Time is read from <see cref="Stopwatch"/> around each
/// operation, two timestamps a call, so counting costs nothing next to the communication itself.
/// </remarks>
public sealed class CountingCommunicator : Communicator
{
    private readonly Communicator _inner;
    private long _sent, _received, _calls, _ticks;

    /// <summary>Counts what <paramref name="inner"/> moves from now on. Disposing this leaves <paramref name="inner"/> open.</summary>
    public CountingCommunicator(Communicator inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>Everything counted so far on this rank (take two snapshots and <see cref="CommunicationCounts.Since"/> for an interval).</summary>
    public CommunicationCounts Counts => new(_sent, _received, _calls, (double)_ticks / Stopwatch.Frequency);

    /// <inheritdoc/>
    public override int Rank => _inner.Rank;

    /// <inheritdoc/>
    public override int Size => _inner.Size;

    /// <inheritdoc/>
    public override void Barrier()
    {
        long start = Stopwatch.GetTimestamp();
        _inner.Barrier();
        Finish(start);
    }

    /// <inheritdoc/>
    public override T[] Broadcast<T>(T[]? values, int root = 0)
    {
        long start = Stopwatch.GetTimestamp();
        T[] result = _inner.Broadcast(values, root);
        long bytes = BytesOf<T>(result.Length);
        if (Rank == root) _sent += bytes * (Size - 1);
        else _received += bytes;
        Finish(start);
        return result;
    }

    /// <inheritdoc/>
    public override T[][]? Gather<T>(T[] local, int root = 0)
    {
        long start = Stopwatch.GetTimestamp();
        var result = _inner.Gather(local, root);
        if (Rank != root) _sent += BytesOf<T>(local.Length);
        else if (result is not null)
        {
            for (int r = 0; r < result.Length; r++)
                if (r != root) _received += BytesOf<T>(result[r].Length);
        }
        Finish(start);
        return result;
    }

    /// <inheritdoc/>
    public override void Abort(string message, int exitCode) => _inner.Abort(message, exitCode);

    private void Finish(long start)
    {
        _ticks += Stopwatch.GetTimestamp() - start;
        _calls++;
    }

    private static long BytesOf<T>(int count) where T : unmanaged => (long)count * Unsafe.SizeOf<T>();
}
