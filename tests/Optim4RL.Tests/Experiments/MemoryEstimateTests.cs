using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Meta;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Experiments;

/// <summary>The up-front memory estimate against the heap a run really holds (measured alone: it reads the process's heap size).</summary>
[Collection(ProcessWideMeasurements.Name)]
public class MemoryEstimateTests
{
    private static NetworkSpec Network(string task)
    {
        var probe = EnvRegistry.CreateDiscrete(task, 1, new Rng(0));
        return NetworkSpec.ForTask(probe.Name, probe.ObservationShape.ToArray(), probe.ActionCount);
    }

    private static double Measured(Func<object> build)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        object kept = build();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(kept);
        return after - before;
    }

    [Theory]
    [InlineData("catch", 1024)]
    [InlineData("small_dense_long", 1024)]
    public void A2C_estimate_is_within_half_of_the_heap_it_takes(string task, int envs)
    {
        var spec = Network(task);
        double measured = Measured(() =>
        {
            var a2c = new A2C(spec, A2C.CreateShards(task, envs, A2C.DefaultShards(envs), new Rng(1)), Optax.Adam(1e-3), new A2CConfig(), new Rng(2));
            a2c.Step();
            return a2c;
        });
        double estimate = MemoryEstimate.A2CBytes(spec, envs, 20, 2);
        Assert.InRange(estimate / measured, 0.67, 1.5);
    }

    [Theory]
    [InlineData("catch", 64, StateDtype.BFloat16)]
    [InlineData("small_dense_long", 128, StateDtype.BFloat16)]
    [InlineData("small_dense_long", 128, StateDtype.Float32)]
    public void Meta_estimate_is_within_half_of_the_heap_it_takes(string task, int agents, StateDtype dtype)
    {
        var spec = Network(task);
        var lopt = LearnedOptimizers.Create("Optim4RL");
        double measured = Measured(() =>
        {
            var cfg = new MetaA2CConfig([new MetaTaskConfig(task, agents, 1e-3f)], 1_000_000, 4, true, 1, -1, new A2CConfig(), 1, StateDtype: dtype);
            var meta = new MetaA2C(cfg, lopt, Optax.Adam(1e-3)) { MaxDegreeOfParallelism = 1 };
            meta.Step();
            return meta;
        });
        double estimate = agents * MemoryEstimate.MetaAgentBytes(spec, 20, 4, lopt.StateSize, dtype.Bytes());
        Assert.InRange(estimate / measured, 0.67, 1.5);
    }

    [Fact]
    public void Format_reads_like_a_size()
    {
        Assert.Equal("512 bytes", MemoryEstimate.Format(512));
        Assert.Equal("1.5 KiB", MemoryEstimate.Format(1536));
        Assert.Equal("209 TiB", MemoryEstimate.Format(209.0 * (1L << 40)));
    }
}
