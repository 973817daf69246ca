using System.Runtime.InteropServices;
using Optim4RL.Distributed;
using Optim4RL.Tests.Cli;
using Optim4RL.Tests.Docs;

namespace Optim4RL.Tests.Distributed;

/// <summary>
/// Real multi-rank jobs on localhost (mpiexec of MPICH, more ranks than this machine's 2 cores included):
/// the ordered sum, gather and broadcast; sweeps spread over ranks; a killed rank; verbs that refuse ranks.
/// Skipped, with the reason, only where mpiexec is not installed.
/// </summary>
public class MpiJobTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "o4r-mpi-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    // Four A2C runs on catch (two optimizers × two learning rates), a fraction of a second each.
    private static string WriteSweep(string dir, string name, int trainSteps)
    {
        string path = Path.Combine(dir, name + ".json");
        File.WriteAllText(path, $$"""
            {
              "env": [{"name": [["catch"]], "num_envs": [4], "train_steps": [{{trainSteps}}]}],
              "agent": [{"name": ["A2C"], "gae_lambda": [0.95], "rollout_steps": [10], "critic_loss_weight": [0.5], "entropy_weight": [0.01]}],
              "agent_optim": [{"name": ["RMSProp", "Adam"], "kwargs": [{"learning_rate": [1e-3, 3e-3], "grad_clip": [-1]}]}],
              "discount": [0.995],
              "seed": [7]
            }
            """);
        return path;
    }

    [SkippableFact]
    public void The_ordered_sum_over_1_to_4_ranks_is_bit_identical_to_one_process_and_gather_and_broadcast_hold()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        string expected = SelfCheck.Hash(SelfCheck.ReferenceSum(5, 37, 1000));
        for (int ranks = 1; ranks <= 4; ranks++)
        {
            var (code, output) = MpiJob.Run(ranks, ["mpi-check", "--chunks", "37", "--chunk-length", "1000", "--seed", "5"], Path.GetTempPath(), Limit);
            Assert.True(code == 0, output);
            Assert.Contains($"mpi-check: {ranks} rank(s), ordered sum {expected}: ok", output, StringComparison.Ordinal);
            Assert.DoesNotContain("leaked", output, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public void A_sweep_over_3_ranks_runs_each_index_once_with_the_results_of_one_process()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        string dir = TempDir();
        try
        {
            string config = WriteSweep(dir, "tiny", 2000);
            string one = Path.Combine(dir, "one"), three = Path.Combine(dir, "three");
            var single = CliHarness.Run("sweep", "--config", config, "--run", "--to", "5", "--threads", "1", "--logs", one);
            Assert.True(single.Code == 0, single.Out + single.Err);
            var (code, output) = MpiJob.Run(3, ["sweep", "--config", config, "--run", "--to", "5", "--threads", "1", "--logs", three], dir, Limit);
            Assert.True(code == 0, output);

            // Indices 1..5 over 3 ranks: 1-2, 3-4, 5; each run by its rank alone.
            Assert.Contains("rank 0 of 3: indices 1..2", output, StringComparison.Ordinal);
            Assert.Contains("rank 1 of 3: indices 3..4", output, StringComparison.Ordinal);
            Assert.Contains("rank 2 of 3: indices 5..5", output, StringComparison.Ordinal);
            for (int k = 1; k <= 5; k++)
            {
                Assert.Single(System.Text.RegularExpressions.Regex.Matches(output, $@"Results in .*[/\\]tiny[/\\]{k}\r?$", System.Text.RegularExpressions.RegexOptions.Multiline));
                string a = Path.Combine(one, "tiny", k.ToString()), b = Path.Combine(three, "tiny", k.ToString());
                Assert.Equal(File.ReadAllBytes(Path.Combine(a, "result_catch.csv")), File.ReadAllBytes(Path.Combine(b, "result_catch.csv")));
                Assert.Equal(File.ReadAllText(Path.Combine(a, "config.json")), File.ReadAllText(Path.Combine(b, "config.json")));
                // metrics.csv: equal apart from its two timing columns.
                static IEnumerable<string> Untimed(string file) => File.ReadAllLines(file).Select(l => string.Join(',', l.Split(',')[..^2]));
                Assert.Equal(Untimed(Path.Combine(a, "metrics.csv")), Untimed(Path.Combine(b, "metrics.csv")));
            }
            Assert.Equal(5, Directory.GetDirectories(Path.Combine(three, "tiny")).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public void A_killed_rank_stops_the_job_with_a_message_naming_it()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        string dir = TempDir();
        try
        {
            // Runs far longer than the test waits: the job can only end because a rank was killed.
            string config = WriteSweep(dir, "long", 50_000_000);
            string logs = Path.Combine(dir, "logs");
            using var job = MpiJob.Start(3, ["sweep", "--config", config, "--run", "--threads", "1", "--logs", logs], dir, throughRankScript: true);
            // Rank 1 owns index 3 (of 1..4 over 3 ranks); kill it once its run has started.
            string started = Path.Combine(logs, "long", "3", "log.txt");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int? pid = null;
            while (clock.Elapsed < Limit && (pid is null || !File.Exists(started)))
            {
                Thread.Sleep(100);
                pid ??= MpiJob.FindRank(1, logs);
            }
            Assert.True(pid is not null && File.Exists(started), "rank 1 never started its run:\n" + job.Output);
            System.Diagnostics.Process.GetProcessById(pid!.Value).Kill();
            int code = job.WaitForExit(TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, code);
            Assert.Contains($"rank 1 of 3 (pid {pid}", job.Output, StringComparison.Ordinal);
            Assert.Contains("was killed by SIGKILL", job.Output, StringComparison.Ordinal);
            // No rank lives on (killed processes may take a moment to be reaped).
            var gone = System.Diagnostics.Stopwatch.StartNew();
            while ((MpiJob.FindRank(0, logs) ?? MpiJob.FindRank(2, logs)) is not null && gone.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(100);
            Assert.Null(MpiJob.FindRank(0, logs));
            Assert.Null(MpiJob.FindRank(2, logs));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public void Verbs_that_run_as_one_process_refuse_several_ranks_with_one_message()
    {
        Skip.If(MpiJob.SkipReason() is not null, MpiJob.SkipReason());
        var (code, output) = MpiJob.Run(2, ["run", "--config", Path.Combine(ExternalProcess.RepoRoot(), "configs", "quick_a2c_catch.json")], Path.GetTempPath(), Limit);
        Assert.NotEqual(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("error: agent.name A2C runs as one process, but this job has 2 MPI ranks: under mpiexec only meta-training (MetaA2C, MetapA2C, MetaPPO, MetapPPO) uses the ranks; run it without mpiexec.",
            Assert.Single(lines).TrimEnd('\r'));
    }

    [SkippableFact]
    public void MPI_is_loaded_only_under_an_MPI_launcher_and_a_library_that_cannot_be_loaded_is_one_line()
    {
        Skip.If(!RuntimeInformation.IsOSPlatform(OSPlatform.Linux));
        var missing = new Dictionary<string, string> { ["OPTIM4RL_MPI_LIBRARY"] = "/nonexistent/libmpich.so.12", ["NO_COLOR"] = "1" };
        // A plain process never touches the library: the bad path is not even looked at.
        var plain = ExternalProcess.Run(ExternalProcess.DotnetHost(), [MpiJob.Cli, "mpi-check", "--chunks", "3", "--chunk-length", "4"], Path.GetTempPath(), Limit, missing);
        Assert.True(plain.ExitCode == 0, plain.Output);
        Assert.Contains("mpi-check: 1 rank(s)", plain.Output, StringComparison.Ordinal);
        // Under a launcher (PMI_RANK set as mpiexec would) the library is needed, and its absence is one line naming the fix.
        var launched = new Dictionary<string, string>(missing) { ["PMI_RANK"] = "0", ["PMI_SIZE"] = "1" };
        var failed = ExternalProcess.Run(ExternalProcess.DotnetHost(), [MpiJob.Cli, "mpi-check"], Path.GetTempPath(), Limit, launched);
        Assert.Equal(1, failed.ExitCode);
        Assert.Equal("error: OPTIM4RL_MPI_LIBRARY=/nonexistent/libmpich.so.12 could not be loaded: give the path of an MPICH-ABI library (libmpich.so.12 or libmpi.so.12), or unset it.",
            failed.Output.Trim());
    }
}
