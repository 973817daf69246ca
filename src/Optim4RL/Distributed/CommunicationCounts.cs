namespace Optim4RL.Distributed;

/// <summary>
/// What a <see cref="CountingCommunicator"/> counted on this rank: the array bytes of the collective operations that
/// left or reached this process, how many operations there were, and the wall time spent inside them.
/// </summary>
/// <param name="BytesSent">Array bytes this rank sent to other ranks.</param>
/// <param name="BytesReceived">Array bytes this rank received from other ranks.</param>
/// <param name="Calls">Collective operations called (barrier, broadcast, gather; an all-gather is a gather and two broadcasts).</param>
/// <param name="Seconds">Wall time spent inside those operations, waiting for slower ranks included.</param>
public readonly record struct CommunicationCounts(long BytesSent, long BytesReceived, long Calls, double Seconds)
{
    /// <summary>Bytes sent and received.</summary>
    public long Bytes => BytesSent + BytesReceived;

    /// <summary>What was counted after <paramref name="earlier"/>, a snapshot of the same counter: this minus it.</summary>
    public CommunicationCounts Since(CommunicationCounts earlier) =>
        new(BytesSent - earlier.BytesSent, BytesReceived - earlier.BytesReceived, Calls - earlier.Calls, Seconds - earlier.Seconds);
}
