using System.Diagnostics;

namespace Optim4RL.Distributed;

/// <summary>
/// All ranks of an MPI job (MPI_COMM_WORLD), through MPI.NET over an MPICH-ABI library. Created by
/// <see cref="Cluster.Start"/>, which has loaded the library and initialised MPI.
/// </summary>
/// <remarks>
/// MPICH waits by polling, so a rank blocked in a collective spins a core at 100 % — fatal when ranks
/// outnumber cores, and wasteful when a rank waits minutes for a slower one. Every operation here
/// therefore first meets the other ranks in <see cref="Barrier"/>, whose waits poll non-blocking
/// point-to-point requests with sleeps in between; the blocking collective that follows finds every
/// rank present and finishes at once.
/// </remarks>
internal sealed class MpiCommunicator : Communicator
{
    // Tags of the quiet barrier's messages (user tags; MPI.NET's own traffic uses a duplicate communicator).
    private const int ArriveTag = 31_001, ReleaseTag = 31_002;

    private readonly MPI.Environment environment;
    private readonly MPI.Intracommunicator world;
    private bool disposed;

    public MpiCommunicator(MPI.Environment environment)
    {
        this.environment = environment;
        world = MPI.Communicator.world;
    }

    public override int Rank => world.Rank;

    public override int Size => world.Size;

    public override void Barrier()
    {
        if (Size == 1) return;
        var token = new int[1];
        if (Rank == 0)
        {
            for (int r = 1; r < Size; r++) WaitQuietly(world.ImmediateReceive(r, ArriveTag, new int[1]));
            var sends = new List<MPI.Request>();
            for (int r = 1; r < Size; r++) sends.Add(world.ImmediateSend(token, r, ReleaseTag));
            foreach (var s in sends) WaitQuietly(s);
        }
        else
        {
            var sent = world.ImmediateSend(token, 0, ArriveTag);
            var released = world.ImmediateReceive(0, ReleaseTag, new int[1]);
            WaitQuietly(sent);
            WaitQuietly(released);
        }
    }

    public override T[] Broadcast<T>(T[]? values, int root = 0)
    {
        CheckElementType<T>();
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        if (Rank == root) ArgumentNullException.ThrowIfNull(values);
        Barrier();
        int length = Rank == root ? values!.Length : 0;
        world.Broadcast(ref length, root);
        T[] result = Rank == root ? values! : new T[length];
        if (length > 0) world.Broadcast(ref result, root);
        return result;
    }

    public override T[][]? Gather<T>(T[] local, int root = 0)
    {
        CheckElementType<T>();
        ArgumentNullException.ThrowIfNull(local);
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        Barrier();
        int[] lengths = world.Gather(local.Length, root);
        T[] flat = world.GatherFlattened(local, Rank == root ? lengths : [], root);
        if (Rank != root) return null;
        var result = new T[Size][];
        for (int r = 0, at = 0; r < Size; at += lengths[r], r++) result[r] = flat.AsSpan(at, lengths[r]).ToArray();
        return result;
    }

    public override void Abort(string message, int exitCode)
    {
        Console.Out.Flush();
        Console.Error.WriteLine(message);
        Console.Error.Flush();
        world.Abort(exitCode);
    }

    public override void Dispose()
    {
        if (disposed) return;
        disposed = true;
        MpiLibrary.FreeCachedDatatypes();
        environment.Dispose();
        base.Dispose();
    }

    /// <summary>Polls <paramref name="request"/> until it completes: yields first, then sleeps 1 ms, and 10 ms once a wait passes a second.</summary>
    private static void WaitQuietly(MPI.Request request)
    {
        var clock = Stopwatch.StartNew();
        for (int polls = 0; request.Test() is null; polls++)
        {
            if (polls < 64) Thread.Yield();
            else Thread.Sleep(clock.ElapsedMilliseconds < 1000 ? 1 : 10);
        }
    }
}
