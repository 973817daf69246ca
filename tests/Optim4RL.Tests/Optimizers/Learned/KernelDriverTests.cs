using Optim4RL.Optimizers.Learned;
using static Optim4RL.Tests.Optimizers.Learned.BaselineTestData;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>
/// The chunked SIMD driver shared by every learned-optimizer kernel: calls on one instance from
/// several threads at once, thread-count independence of grouped calls, and the agent-aligned
/// chunking rule.
/// </summary>
public class KernelDriverTests
{
    public static TheoryData<string> AllArchitectures => new() { "Optim4RL", "LinearOptim", "L2LGD2", "STAR" };

    // Three parameter vectors of 5,000 coordinates: two chunks each (4,096 + 904, the second with a partial vector).
    private const int Group = 5000, Agents = 3, N = Agents * Group, K = 3;

    private sealed record Inputs(float[] Phi, float[] State, float[] Grads, float[] Lambda);

    private sealed record Outputs(float[] Updates, float[] State, float[] MetaGrad);

    private static Inputs MakeInputs(ILearnedOptimizer opt, ulong seed) =>
        new(Phi(opt, seed), State(opt, N, seed + 1, Group), Grads(K * N, seed + 2), LearnedTestData.RandomNormal(N, seed + 3));

    /// <summary>K grouped steps from the inputs' state, then the meta-gradient of those K steps.</summary>
    private static Outputs Run(ILearnedOptimizer opt, Inputs x)
    {
        var state = (float[])x.State.Clone();
        var upd = new float[N];
        for (int s = 0; s < K; s++) opt.StepGrouped(x.Phi, state, x.Grads.AsSpan(s * N, N), upd, 0.01f, Group);
        var mg = new float[x.Phi.Length];
        opt.MetaGradientGrouped(x.Phi, x.State, x.Grads, K, x.Lambda, 0.01f, mg, Group);
        return new Outputs(upd, state, mg);
    }

    [Theory]
    [MemberData(nameof(AllArchitectures))]
    public async Task One_instance_driven_from_several_threads_gives_the_sequential_results(string name)
    {
        const int tasks = 4, rounds = 3;
        var opt = LearnedOptimizers.Create(name);
        var inputs = new Inputs[tasks];
        var expected = new Outputs[tasks];
        for (int t = 0; t < tasks; t++)
        {
            inputs[t] = MakeInputs(opt, 100 + 10 * (ulong)t);
            expected[t] = Run(opt, inputs[t]);
        }

        for (int round = 0; round < rounds; round++)
        {
            using var start = new Barrier(tasks);
            var running = new Task<Outputs>[tasks];
            for (int t = 0; t < tasks; t++)
            {
                int ti = t;
                running[t] = Task.Factory.StartNew(() =>
                {
                    start.SignalAndWait();
                    return Run(opt, inputs[ti]);
                }, TaskCreationOptions.LongRunning);
            }
            var results = await Task.WhenAll(running);
            for (int t = 0; t < tasks; t++)
            {
                Assert.Equal(expected[t].Updates, results[t].Updates);
                Assert.Equal(expected[t].State, results[t].State);
                Assert.Equal(expected[t].MetaGrad, results[t].MetaGrad);
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllArchitectures))]
    public void Grouped_results_are_bitwise_identical_for_thread_counts_1_2_3(string name)
    {
        Outputs? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var opt = LearnedOptimizers.Create(name);
            opt.MaxDegreeOfParallelism = threads;
            var result = Run(opt, MakeInputs(opt, 7));
            if (first is null) { first = result; continue; }
            Assert.Equal(first.Updates, result.Updates);
            Assert.Equal(first.State, result.State);
            Assert.Equal(first.MetaGrad, result.MetaGrad);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4096, 4096)]
    [InlineData(4097, 4097)]
    [InlineData(5 * 7, 7)]
    [InlineData(3 * 2741, 2741)]
    [InlineData(3 * 5000, 5000)]
    [InlineData(2 * 8192, 8192)]
    [InlineData(4 * 15_625, 15_625)]
    public void Chunks_are_agent_aligned_bounded_and_fixed_by_the_group_size(int n, int group)
    {
        var plan = new ChunkPlan(n, group);
        int perAgent = (group + 4095) / 4096;
        Assert.Equal(perAgent, plan.ChunksPerGroup);
        Assert.Equal(n / group * perAgent, plan.Count);
        int next = 0;
        for (int c = 0; c < plan.Count; c++)
        {
            var (start, end) = plan.Range(c);
            int agent = plan.GroupOf(c);
            Assert.Equal(next, start);                                  // in order, no gaps or overlaps
            Assert.InRange(end - start, 1, LearnedKernelDriver.ChunkSize);
            Assert.Equal(agent, start / group);                          // never straddles two agents
            Assert.Equal(agent, (end - 1) / group);
            Assert.Equal((c % perAgent) * 4096, start - agent * group); // offsets 0, 4096, … in every agent
            next = end;
        }
        Assert.Equal(n, next);
        // The boundaries inside an agent depend on its size alone, not on the number of agents.
        var one = new ChunkPlan(group, group);
        for (int c = 0; c < perAgent; c++) Assert.Equal(one.Range(c), plan.Range(c));
    }

    [Fact]
    public void Thread_cap_rejects_values_below_one_and_meta_trainers_pass_theirs_to_the_kernel()
    {
        var opt = LearnedOptimizers.Create("Optim4RL");
        Assert.Null(opt.MaxDegreeOfParallelism);
        Assert.Throws<ArgumentOutOfRangeException>(() => opt.MaxDegreeOfParallelism = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => opt.MaxDegreeOfParallelism = -1);
        var cfg = new Optim4RL.Meta.MetaA2CConfig([new Optim4RL.Meta.MetaTaskConfig("catch", 2, 1e-3f, 1f, 4)], 1000, 2, true, -1, -1,
            new Optim4RL.Agents.A2CConfig(), 3);
        var meta = new Optim4RL.Meta.MetaA2C(cfg, opt, Optim4RL.Optimizers.Optax.FromConfig("Adam", 1e-3)) { MaxDegreeOfParallelism = 2 };
        Assert.Equal(2, opt.MaxDegreeOfParallelism);
        Assert.Equal(2, meta.MaxDegreeOfParallelism);
    }
}
