using System.CommandLine;
using Optim4RL.Distributed;

namespace Optim4RL.Cli.Commands;

/// <summary><c>mpiexec -np N optim4rl mpi-check</c>: checks that the job's ranks can talk and that the ordered sum is bit-identical to one process.</summary>
internal static class MpiCheckCommand
{
    public static Command Create()
    {
        var chunks = new Option<int>("--chunks") { Description = "Chunks of partial sums spread over the ranks.", DefaultValueFactory = _ => 37 };
        var length = new Option<int>("--chunk-length") { Description = "Values per chunk.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the chunk values.", DefaultValueFactory = _ => 1UL };
        var cmd = new Command("mpi-check",
            "Check an MPI job (run it as 'mpiexec -np N ./optim4rl mpi-check'; without mpiexec it checks one process): barrier, broadcast, gather, " +
            "and the ordered sum of chunk partials spread over the ranks, which must equal one process's sum to the last bit. Prints the sum's hash, equal for every rank count.")
        {
            chunks, length, seed,
        };
        cmd.SetAction(pr =>
        {
            if (pr.GetValue(chunks) < 0 || pr.GetValue(length) < 1) return Ui.Error("--chunks must be ≥ 0 and --chunk-length ≥ 1.");
            var world = Cluster.Current;
            var result = SelfCheck.Run(world, pr.GetValue(chunks), pr.GetValue(length), pr.GetValue(seed));
            if (!world.IsRoot) return result.Problems.Count == 0 ? 0 : 1;
            foreach (string problem in result.Problems) Ui.Error(problem);
            Console.WriteLine($"mpi-check: {result.Ranks} rank(s), ordered sum {result.SumHash}: {(result.Problems.Count == 0 ? "ok" : $"{result.Problems.Count} problem(s)")}");
            return result.Problems.Count == 0 ? 0 : 1;
        });
        return cmd;
    }
}
