using System.Text.Json;
using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Nn;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;
using Optim4RL.Tests.Docs;

namespace Optim4RL.Tests.Distributed;

/// <summary>
/// <c>bench --only scaling</c> on a tiny task (Catch, 8 agents): one process exchanges nothing; two ranks, over shared
/// memory and over TCP, exchange per meta-iteration exactly the bytes that MetaA2C's collectives carry, computed here
/// from the agent split, the parameter count and the kernel's chunk size; and without mpiexec the MPI rows say so in one line.
/// </summary>
public class MpiScalingBenchTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    // NaN throughputs are written as named literals.
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static (int Code, string Output) Bench(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var (code, output, _) = ExternalProcess.Run(ExternalProcess.DotnetHost(), [MpiJob.Cli, "bench", "--json", .. args], Path.GetTempPath(), Limit,
            environment ?? new Dictionary<string, string> { ["NO_COLOR"] = "1" });
        return (code, output);
    }

    /// <summary>
    /// Bytes a rank sends plus receives per meta-iteration of MetaA2C with one task of <paramref name="agents"/> agents on
    /// 2 ranks, each collective counted as its array payload: rank 0's "step" command (one int); the meta-loss rows (an
    /// all-gather of 5 doubles per agent: rank 1's rows to rank 0, the 2 row lengths and all rows back); the ordered sum
    /// of the meta-gradient's chunk partials (rank 1's chunks × |φ| doubles to rank 0, the |φ|-double sum back); the
    /// episode returns (an all-gather of 2 doubles per agent). With two ranks what one sends the other receives, so
    /// both ranks count the same.
    /// </summary>
    private static long ExpectedBytesPerIteration(string env, int agents)
    {
        int rank1Agents = agents / 2; // agents of one task cost the same: an even count splits evenly
        var probe = EnvRegistry.CreateDiscrete(env, 1, new Rng(1));
        int p = NetworkSpec.ForTask(probe.Name, probe.ObservationShape.ToArray(), probe.ActionCount).Layout.Count;
        int phi = LearnedOptimizers.Create("Optim4RL").Layout.Count;
        const int chunkSize = 4096; // coordinates per chunk of the kernel's partial sums, chunks never crossing agents
        long rank1Chunks = (long)rank1Agents * ((p + chunkSize - 1) / chunkSize);
        long AllGather(int perAgent) => 8L * perAgent * rank1Agents + 2 * sizeof(int) + 8L * perAgent * agents;
        return sizeof(int) + AllGather(5) + (8L * phi * rank1Chunks + 8L * phi) + AllGather(2);
    }

    [SkippableFact]
    public void Two_ranks_exchange_exactly_what_the_collectives_carry_and_one_process_nothing()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        var (code, output) = Bench(null, "--only", "scaling", "--scaling-task", "catch:8", "--repeats", "2");
        Assert.True(code == 0, output);
        var results = output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('{'))
            .Select(l => JsonSerializer.Deserialize<BenchResult>(l, Json)!).ToDictionary(r => r.Workload);
        Assert.Equal(["scaling_1x2", "scaling_2x1_shm", "scaling_2x1_tcp"], results.Keys.Order());

        long expected = ExpectedBytesPerIteration("catch", 8);
        Assert.True(expected > 50_000, $"the meta-gradient's partials dominate: {expected} bytes"); // a sanity check of the formula itself
        foreach (var (name, result) in results)
        {
            var s = result.Scaling!;
            Assert.Equal(2, result.Samples.Length); // the warm-up iteration is not among the timed ones
            Assert.All(result.Samples, t => Assert.True(t > 0));
            Assert.Equal(("catch", 8), (s.Task, s.Agents));
            if (name == "scaling_1x2")
            {
                Assert.Equal((1, 2), (s.Ranks, s.ThreadsPerRank));
                Assert.Equal([0.0], s.BytesPerIteration);
                Assert.Equal([0.0], s.CallsPerIteration);
                Assert.Equal([0.0], s.CommunicationShare);
                continue;
            }
            Assert.Equal((2, 1), (s.Ranks, s.ThreadsPerRank));
            Assert.Equal([expected, expected], s.BytesPerIteration);
            // Per iteration: the step command (1), two all-gathers (3 each), the ordered sum (2).
            Assert.Equal([9.0, 9.0], s.CallsPerIteration);
            Assert.All(s.CommunicationShare, share => Assert.InRange(share, 1e-9, 1.0));
            Assert.Equal(2, s.PeakWorkingSetBytes.Length);
            Assert.Equal(s.PeakWorkingSetBytes.Max(), result.PeakWorkingSetBytes);
        }
    }

    [SkippableFact]
    public void Without_mpiexec_the_MPI_rows_say_so_in_one_line_and_the_bench_goes_on()
    {
        Skip.If(!OperatingSystem.IsLinux());
        string host = ExternalProcess.DotnetHost();
        Skip.If(!Path.IsPathRooted(host), "the dotnet host is found only through PATH");
        var noMpi = new Dictionary<string, string> { ["NO_COLOR"] = "1", ["PATH"] = Path.GetDirectoryName(host)! };
        var (code, output) = Bench(noMpi, "--only", "scaling_2x1_shm", "scaling_2x1_tcp", "--scaling-task", "catch:2", "--repeats", "1");
        Assert.True(code == 0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(
            ["scaling_2x1_shm: not measured: mpiexec is not on PATH (install MPICH: scripts/setup.sh, or apt-get install mpich).",
             "scaling_2x1_tcp: not measured: mpiexec is not on PATH (install MPICH: scripts/setup.sh, or apt-get install mpich)."],
            lines);
    }

    [SkippableFact]
    public void Under_mpiexec_bench_runs_only_a_scaling_rows_child()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        var (code, output) = MpiJob.Run(2, ["bench", "--only", "scaling"], Path.GetTempPath(), Limit);
        Assert.NotEqual(0, code);
        Assert.Equal("error: under mpiexec, bench runs only its scaling rows' children; run 'optim4rl bench --only scaling' without mpiexec (it starts mpiexec -np 2 itself).",
            Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)).TrimEnd('\r'));
    }
}
