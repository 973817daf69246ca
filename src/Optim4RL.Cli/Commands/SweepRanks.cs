using System.Text;
using Optim4RL.Distributed;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary>
/// <c>sweep --run</c> under <c>mpiexec -np N</c>: indices --from..--to are split into N contiguous ranges by
/// <see cref="StaticPartition.Even"/> (from the count alone), each rank runs its own range one index after
/// another, and only the rank that owns an index touches its run directory. The ranks agree on the checks
/// before any run starts and on the exit code at the end, so they all finish together.
/// </summary>
internal static class SweepRanks
{
    public static int Run(Communicator world, string configPath, int from, int? to, RunOptions options, CancellationToken ct)
    {
        SweepConfig? sweep = null;
        int first = from, last = 0, start = 0, count = 0;
        string? problem = null;
        try
        {
            sweep = SweepConfig.Load(configPath);
            last = to ?? sweep.Total;
            if (first < 1 || last < first) problem = $"--from/--to must satisfy 1 ≤ from ≤ to; got {first}..{last}.";
            else
            {
                // Every rank checks the whole range (same verdict everywhere), then its own indices against its memory.
                for (long k = first; k <= Math.Min(last, (long)first + sweep.Total - 1); k++) SweepCommand.Checked(sweep, (int)k, ConfigChecks.Static);
                (start, count) = StaticPartition.Even(last - first + 1, world.Size, world.Rank);
                start += first;
                if (!options.Force)
                    for (int k = start; k < start + Math.Min(count, sweep.Total); k++) SweepCommand.Checked(sweep, k, ConfigChecks.Memory);
            }
        }
        catch (Exception e) when (e is ConfigException or ArgumentException or InvalidDataException or IOException)
        {
            problem = e.Message;
        }

        // Nothing runs unless every rank is ready; the first problem (lowest rank) is reported once.
        var problems = world.AllGather(Encoding.UTF8.GetBytes(problem ?? ""));
        int failing = Array.FindIndex(problems, p => p.Length > 0);
        if (failing >= 0)
        {
            if (!world.IsRoot) return 1;
            string text = Encoding.UTF8.GetString(problems[failing]);
            return Ui.Error(failing == 0 ? text : $"rank {failing} of {world.Size}: {text}");
        }

        // Ranks that share a machine share its cores unless --threads says otherwise.
        var hosts = world.AllGather(Encoding.UTF8.GetBytes(Environment.MachineName));
        int onThisHost = hosts.Count(h => h.AsSpan().SequenceEqual(hosts[world.Rank]));
        options = options with { Threads = options.Threads ?? Math.Max(1, Environment.ProcessorCount / onThisHost) };

        if (world.IsRoot)
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(sweep!.Name)}[/]: {sweep.Total} combination(s); indices {first}..{last} over {world.Size} ranks " +
                                   $"({options.Threads} thread(s) each unless --threads).");
        }
        Console.WriteLine(count == 0
            ? $"{Cluster.Describe(world)}: no index to run"
            : $"{Cluster.Describe(world)}: indices {start}..{start + count - 1}");
        var failed = new List<int>();
        for (int k = start; k < start + count && !ct.IsCancellationRequested; k++)
        {
            if (RunCommand.Execute(configPath, k, options, ct) != 0) failed.Add(k);
        }

        // The job's verdict: the same exit code on every rank, and rank 0 names what failed.
        var all = world.Gather(failed.ToArray());
        int[] code = world.Broadcast<int>(all is null ? null : [all.Sum(f => f.Length) == 0 ? 0 : 1]);
        if (all is not null && code[0] != 0)
        {
            var indices = all.SelectMany(f => f).Order().ToList();
            Ui.Error($"{indices.Count} of {last - first + 1} run(s) did not complete: {string.Join(", ", indices.Take(20))}{(indices.Count > 20 ? ", …" : "")} (their messages are above).");
        }
        return code[0];
    }
}
