using System.Runtime.InteropServices;
using Optim4RL.Distributed;

namespace Optim4RL.Tests.Distributed;

/// <summary>The ordered sum of chunk partials and the single-process communicator, in this process.</summary>
public class OrderedSumTests
{
    private static byte[] Bits(double[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    [Fact]
    public void Sum_chunks_adds_in_chunk_order_like_a_plain_loop()
    {
        const int chunks = 9, length = 17;
        var partials = Enumerable.Range(0, chunks).SelectMany(c => SelfCheck.ChunkPartials(3, c, length)).ToArray();
        var expected = new double[length];
        for (int c = 0; c < chunks; c++)
            for (int j = 0; j < length; j++) expected[j] += partials[c * length + j];
        var sum = new double[length];
        OrderedReduction.SumChunks(partials, length, sum);
        Assert.Equal(Bits(expected), Bits(sum));
    }

    [Fact]
    public void The_check_data_makes_the_order_matter_so_a_wrong_order_would_be_caught()
    {
        // Without this, the multi-rank tests could pass with any summation order.
        const int chunks = 37, length = 1000;
        var forward = SelfCheck.ReferenceSum(1, chunks, length);
        var backward = new double[length];
        for (int c = chunks - 1; c >= 0; c--) OrderedReduction.AddChunks(SelfCheck.ChunkPartials(1, c, length), length, backward);
        Assert.NotEqual(Bits(forward), Bits(backward));
    }

    [Fact]
    public void Adding_consecutive_pieces_gives_the_bits_of_one_sum_for_every_split()
    {
        const int chunks = 23, length = 31;
        var reference = SelfCheck.ReferenceSum(11, chunks, length);
        for (int ranks = 1; ranks <= 8; ranks++)
        {
            var sum = new double[length];
            for (int r = 0; r < ranks; r++)
            {
                var (start, count) = StaticPartition.Even(chunks, ranks, r);
                var piece = Enumerable.Range(start, count).SelectMany(c => SelfCheck.ChunkPartials(11, c, length)).ToArray();
                OrderedReduction.AddChunks(piece, length, sum);
            }
            Assert.Equal(Bits(reference), Bits(sum));
        }
    }

    [Fact]
    public void Bad_chunk_shapes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => OrderedReduction.SumChunks(new double[10], 3, new double[3]));
        Assert.Throws<ArgumentException>(() => OrderedReduction.SumChunks(new double[9], 3, new double[4]));
        Assert.Throws<ArgumentException>(() => SingleProcessCommunicator.Instance.OrderedSum(new double[7], 2));
    }

    [Fact]
    public void A_single_process_is_rank_0_of_1_and_every_operation_is_an_identity()
    {
        var one = SingleProcessCommunicator.Instance;
        Assert.Equal((0, 1, true), (one.Rank, one.Size, one.IsRoot));
        one.Barrier();
        float[] values = [1, 2, 3];
        Assert.Same(values, one.Broadcast(values));
        Assert.Same(values, Assert.Single(one.Gather(values)!));
        Assert.Equal([values], one.AllGather(values));
        Assert.Throws<ArgumentOutOfRangeException>(() => one.Broadcast(values, root: 1));
        Assert.Throws<NotSupportedException>(() => one.Gather(new[] { 'x' }));
        var result = SelfCheck.Run(one, chunks: 5, chunkLength: 8, seed: 2);
        Assert.Empty(result.Problems);
        Assert.Equal(SelfCheck.Hash(SelfCheck.ReferenceSum(2, 5, 8)), result.SumHash);
        Assert.Same(one, Cluster.Current);
    }

    [Fact]
    public void The_launch_is_read_from_the_process_managers_variables()
    {
        static MpiLaunch Detect(params (string Key, string Value)[] vars) =>
            MpiLaunch.Detect(k => vars.FirstOrDefault(v => v.Key == k).Value);

        Assert.Equal(new MpiLaunch(false, 0, 1), Detect());
        Assert.Equal(new MpiLaunch(true, 2, 4), Detect(("PMI_RANK", "2"), ("PMI_SIZE", "4")));
        Assert.Equal(new MpiLaunch(true, 1, null), Detect(("PMIX_RANK", "1")));
        Assert.Equal(new MpiLaunch(true, null, null), Detect(("PMI_FD", "5")));
        Assert.Contains("Open MPI", Assert.Throws<DistributedException>(() => Detect(("OMPI_COMM_WORLD_SIZE", "2"), ("PMIX_RANK", "0"))).Message);
        Assert.Contains("PMI_RANK=two", Assert.Throws<DistributedException>(() => Detect(("PMI_RANK", "two"))).Message);
    }
}
