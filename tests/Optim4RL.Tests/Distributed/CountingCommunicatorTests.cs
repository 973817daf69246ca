using Optim4RL.Distributed;

namespace Optim4RL.Tests.Distributed;

/// <summary>
/// The counting communicator in this process: array bytes counted per rank as the collective moves them (root to every
/// other rank, every other rank to the root), nothing in one process, time inside the calls, results passed through untouched.
/// </summary>
public class CountingCommunicatorTests
{
    /// <summary>
    /// Rank <paramref name="rank"/> of a job of <paramref name="size"/> as the other ranks would make it look: a broadcast
    /// from elsewhere delivers <paramref name="broadcastLength"/> elements, a gather on this root brings rank r's
    /// <paramref name="gatherLengths"/>[r] elements. Barrier sleeps, so time spent inside it is measurable.
    /// </summary>
    private sealed class FakeRank(int rank, int size, int broadcastLength, int[] gatherLengths) : Communicator
    {
        public override int Rank => rank;

        public override int Size => size;

        public override void Barrier() => Thread.Sleep(30);

        public override T[] Broadcast<T>(T[]? values, int root = 0) => Rank == root ? values! : new T[broadcastLength];

        public override T[][]? Gather<T>(T[] local, int root = 0) =>
            Rank != root ? null : [.. Enumerable.Range(0, Size).Select(r => r == root ? local : new T[gatherLengths[r]])];

        public override void Abort(string message, int exitCode) => throw new InvalidOperationException(message);
    }

    [Fact]
    public void One_process_moves_no_bytes_but_its_calls_are_counted_and_results_pass_through()
    {
        var counting = new CountingCommunicator(SingleProcessCommunicator.Instance);
        double[] values = [1, 2, 3];
        Assert.Same(values, counting.Broadcast(values));
        Assert.Same(values, Assert.Single(counting.Gather(values)!));
        Assert.Equal(values, Assert.Single(counting.AllGather(values)));
        Assert.Equal(new double[] { 4, 6 }, counting.OrderedSum([1, 2, 3, 4], 2));
        counting.Barrier();
        var counts = counting.Counts;
        Assert.Equal(0, counts.Bytes);
        // Broadcast, gather, all-gather (a gather and two broadcasts), ordered sum (a gather and a broadcast), barrier.
        Assert.Equal(1 + 1 + 3 + 2 + 1, counts.Calls);
        Assert.True(counts.Seconds >= 0);
        Assert.Equal(0, counting.Rank);
        Assert.Equal(1, counting.Size);
    }

    [Fact]
    public void The_root_of_three_sends_a_broadcast_to_two_ranks_and_receives_the_others_gathered_arrays()
    {
        var counting = new CountingCommunicator(new FakeRank(0, 3, 0, [99, 7, 5]));
        counting.Broadcast(new double[100]);
        Assert.Equal(new CommunicationCounts(2 * 800, 0, 1, counting.Counts.Seconds), counting.Counts);
        var before = counting.Counts;
        counting.Gather(new float[10]); // its own 10 floats stay here; ranks 1 and 2 bring 7 and 5
        var gather = counting.Counts.Since(before);
        Assert.Equal(0, gather.BytesSent);
        Assert.Equal((7 + 5) * sizeof(float), gather.BytesReceived);
        Assert.Equal(1, gather.Calls);
    }

    [Fact]
    public void Another_rank_receives_a_broadcast_and_sends_its_gathered_array_and_ordered_sum_counts_both()
    {
        var counting = new CountingCommunicator(new FakeRank(1, 3, 6, []));
        Assert.Equal(6, counting.Broadcast<int>(null).Length);
        Assert.Equal(new CommunicationCounts(0, 6 * sizeof(int), 1, counting.Counts.Seconds), counting.Counts);
        Assert.Null(counting.Gather(new long[3]));
        Assert.Equal(3 * sizeof(long), counting.Counts.BytesSent);

        // An ordered sum of 4 chunks of 6 partials: this rank's chunks go to the root, the 6-value sum comes back.
        var before = counting.Counts;
        counting.OrderedSum(new double[4 * 6], 6);
        var sum = counting.Counts.Since(before);
        Assert.Equal(4 * 6 * sizeof(double), sum.BytesSent);
        Assert.Equal(6 * sizeof(double), sum.BytesReceived);
        Assert.Equal(2, sum.Calls);
    }

    [Fact]
    public void Time_inside_the_calls_is_counted_and_nothing_else()
    {
        var counting = new CountingCommunicator(new FakeRank(0, 2, 0, [0, 0]));
        Thread.Sleep(500); // outside any call: not counted
        counting.Barrier();
        counting.Barrier();
        var counts = counting.Counts;
        Assert.InRange(counts.Seconds, 0.055, 0.45);
        Assert.Equal(2, counts.Calls);
        Assert.Equal(0, counts.Bytes);
    }
}
