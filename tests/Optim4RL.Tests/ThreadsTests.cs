using Optim4RL.Tensors;

namespace Optim4RL.Tests;

/// <summary>Every parallel loop is bounded: "all cores" means one thread per core, never the thread pool's unbounded default.</summary>
public class ThreadsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData(-1)]
    public void AllCoresMeansOneThreadPerCore(int? requested)
    {
        Assert.Equal(Environment.ProcessorCount, Threads.Count(requested));
        Assert.Equal(Environment.ProcessorCount, Threads.Options(requested).MaxDegreeOfParallelism);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    public void ARequestedCountIsKept(int requested) => Assert.Equal(requested, Threads.Options(requested).MaxDegreeOfParallelism);

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void ZeroOrBelowMinusOneIsRejected(int requested) => Assert.Throws<ArgumentOutOfRangeException>(() => Threads.Count(requested));

    [Fact]
    public void ALoopWithDefaultOptionsNeverRunsMoreBodiesAtOnceThanCores()
    {
        int running = 0, most = 0;
        Parallel.For(0, 200, Threads.Options(null), _ =>
        {
            int now = Interlocked.Increment(ref running);
            int seen;
            while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen) { }
            Thread.Sleep(2);
            Interlocked.Decrement(ref running);
        });
        Assert.InRange(most, 1, Environment.ProcessorCount);
    }
}
