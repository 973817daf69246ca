using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;
using Xunit.Abstractions;
using static Optim4RL.Tests.Optimizers.Learned.LearnedTestData;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>Measures allocations of the whole process, so nothing else may run beside it.</summary>
[Collection(ProcessWideMeasurements.Name)]
public class KernelAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public void Step_and_meta_gradient_allocate_nothing_in_the_steady_state()
    {
        var opt = new Optim4RLOptimizer();
        const int n = 3000, k = 4; // one chunk: no Parallel.For
        var phi = RandomPhi(opt, 61);
        var state = RandomState(16 * n, 62);
        var grads = RandomGrads(k * n, 63);
        var lambda = RandomNormal(n, 64);
        var upd = new float[n];
        var mg = new float[phi.Length];
        // Steady state: warm up past tiered-JIT promotion, then require a window with no allocation.
        long allocated = long.MaxValue;
        for (int window = 0; window < 5 && allocated != 0; window++)
        {
            for (int i = 0; i < 60; i++)
            {
                opt.Step(phi, state, grads.AsSpan(0, n), upd, 0.01f);
                opt.MetaGradient(phi, state, grads, k, lambda, 0.01f, mg);
            }
            Thread.Sleep(20);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++)
            {
                opt.Step(phi, state, grads.AsSpan(0, n), upd, 0.01f);
                opt.MetaGradient(phi, state, grads, k, lambda, 0.01f, mg);
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, allocated);

        // Several chunks: only Parallel.For's own small bookkeeping, no buffers.
        const int big = 200_000;
        var bState = RandomState(16 * big, 65);
        var bGrads = RandomGrads(k * big, 66);
        var bLambda = RandomNormal(big, 67);
        var bUpd = new float[big];
        // Process-wide counter: background runtime work (tier-up JIT, thread-pool growth) can add bytes to a
        // window, so take the quietest of several; a per-call buffer (≥ 800 KB here) would show in every one.
        long bytes = long.MaxValue;
        for (int window = 0; window < 5; window++)
        {
            opt.Step(phi, bState, bGrads.AsSpan(0, big), bUpd, 0.01f);
            opt.MetaGradient(phi, bState, bGrads, k, bLambda, 0.01f, mg);
            long total = GC.GetTotalAllocatedBytes(precise: true);
            opt.Step(phi, bState, bGrads.AsSpan(0, big), bUpd, 0.01f);
            opt.MetaGradient(phi, bState, bGrads, k, bLambda, 0.01f, mg);
            bytes = Math.Min(bytes, GC.GetTotalAllocatedBytes(precise: true) - total);
        }

        output.WriteLine($"allocated by one multi-chunk Step + MetaGradient: {bytes} bytes");
        Assert.True(bytes < 64 * 1024, $"{bytes} bytes");
    }

    [Fact]
    public void Fused_update_and_bfloat16_calls_allocate_nothing_in_the_steady_state()
    {
        var opt = new Optim4RLOptimizer();
        const int n = 3000, k = 4; // one chunk: no Parallel.For
        var phi = RandomPhi(opt, 71);
        var s32 = RandomState(16 * n, 72);
        var t32 = new float[16 * n];
        var s16 = Array.ConvertAll(RandomState(16 * n, 73), BFloat16Bits.FromSingle);
        var t16 = new ushort[16 * n];
        var grads = RandomGrads(k * n, 74);
        var clipped = new float[n];
        var theta = new float[n];
        var lambda = RandomNormal(n, 75);
        var upd = new float[n];
        var mg = new float[phi.Length];
        void Calls()
        {
            opt.UpdateGrouped(phi, new StateSpan(s32), new StateSpan(t32), grads.AsSpan(0, n), 1f, clipped, theta, 0.01f, n);
            opt.UpdateGrouped(phi, new StateSpan(s16), new StateSpan(t16), grads.AsSpan(0, n), 1f, clipped, theta, 0.01f, n);
            opt.StepGrouped(phi, new StateSpan(t16), new StateSpan(t16), grads.AsSpan(0, n), upd, 0.01f, n);
            opt.MetaGradientGrouped(phi, new StateSpan(s16), grads, k, lambda, 0.01f, mg, n);
        }

        long allocated = long.MaxValue;
        for (int window = 0; window < 5 && allocated != 0; window++)
        {
            for (int i = 0; i < 60; i++) Calls();
            Thread.Sleep(20);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) Calls();
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, allocated);
    }
}
