using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Optim4RL.Distributed;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary>
/// <c>optim4rl bench</c>: throughput and peak memory of the main workloads, each run in its own
/// child process so that its peak working set is its own (<see cref="BenchChild"/>); the scaling rows of two
/// ranks run as <c>mpiexec -np 2</c> children, and under mpiexec this verb is such a child.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var repeats = new Option<int>("--repeats") { Description = "Timed repeats per workload; the median is reported.", DefaultValueFactory = _ => 5 };
        var only = new Option<string[]>("--only") { Description = $"Run only these workloads (or the groups 'core' = A2C, MetaA2C and the kernel; 'continuous' = MuJoCo and PPO; 'scale' = paper-scale meta-training, the kernel in cache and streaming, and memory bandwidth; 'scaling' = paper-scale meta-training as 1 process × 2 threads and as 2 MPI ranks × 1 thread over shared memory and over TCP; 'scale' and 'scaling' are not run by default): {string.Join(", ", Bench.Workloads.Select(w => w.Name))}.", AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int?>("--threads") { Description = "Threads for the workloads, the learned-optimizer kernels included (default: all cores). The scaling rows fix their own." };
        var scalingTask = new Option<string>("--scaling-task") { Description = $"Task and agent count of the scaling rows, ENV:AGENTS (default {ScalingTask.Default}, the paper's scale; e.g. catch:8 checks an MPI setup in seconds).", DefaultValueFactory = _ => ScalingTask.Default.ToString() };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per workload instead of a table (used for the child processes)." };
        var inProcess = new Option<bool>("--in-process") { Description = "Run the workloads in this process (peak memory then accumulates; scaling rows of several ranks still start mpiexec)." };
        var cmd = new Command("bench", "Measure throughput and peak memory (medians of repeats, each workload in its own process): A2C, MetaA2C and the Optim4RL kernel (core); MuJoCo physics, PPO end to end and the learned optimizer's overhead per PPO update (continuous); on request, paper-scale rows (scale) and meta-training over 1 process or 2 MPI ranks (scaling).")
        {
            repeats, only, threads, scalingTask, json, inProcess,
        };
        cmd.SetAction(pr =>
        {
            // Under mpiexec every rank reaches the same verdict; rank 0 says it.
            var world = Cluster.Current;
            int Fail(string message) => world.IsRoot ? Ui.Error(message) : 1;
            int r = pr.GetValue(repeats);
            if (r < 1) return Fail("--repeats must be ≥ 1.");
            if (pr.GetValue(threads) is < 1) return Fail("--threads must be ≥ 1.");
            ScalingTask task;
            try
            {
                task = ScalingTask.Parse(pr.GetValue(scalingTask) ?? "");
            }
            catch (ArgumentException e)
            {
                return Fail($"--scaling-task: {e.Message.Replace(" (Parameter 'text')", "", StringComparison.Ordinal)}");
            }
            var all = Bench.Workloads.Select(w => w.Name).ToArray();
            // The paper-scale and scaling rows take minutes and gigabytes: only on request (`--only scale`, `--only scaling` or by name).
            var standard = all.Except(Bench.ScaleNames).Except(Bench.ScalingNames).ToArray();
            var names = (pr.GetValue(only) is { Length: > 0 } o ? o : standard).SelectMany(n => n switch
            {
                "core" => Bench.CoreNames,
                "continuous" => standard.Except(Bench.CoreNames),
                "scale" => Bench.ScaleNames,
                "scaling" => Bench.ScalingNames,
                _ => [n],
            }).ToArray();
            foreach (var n in names)
                if (!Bench.Workloads.Any(w => w.Name == n))
                    return Fail($"Unknown workload '{n}'. Valid: {string.Join(", ", Bench.Workloads.Select(w => w.Name))}.");
            if (world.Size > 1) return RunAsRank(world, names, r, task, pr.GetValue(json));
            bool quiet = pr.GetValue(json), here = quiet || pr.GetValue(inProcess);
            var results = new List<BenchResult>();
            foreach (var n in names)
            {
                var row = Bench.FindScalingRow(n);
                BenchResult res;
                try
                {
                    if (!quiet) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(row is { Ranks: > 1 } ? $"running {n} under mpiexec -np {row.Ranks}…" : $"running {n}…")}[/]");
                    res = row switch
                    {
                        { Ranks: > 1 } => BenchChild.RunUnderMpi(row, r, task),
                        _ when !here => BenchChild.Run(n, r, pr.GetValue(threads), row is null ? null : task),
                        null => Bench.Run(n, r, pr.GetValue(threads)),
                        _ => Bench.RunScaling(n, r, task, world)!,
                    };
                }
                catch (Exception e) when (row is { Ranks: > 1 } && e is InvalidOperationException or InvalidDataException or JsonException)
                {
                    // An MPI row that cannot run here (no mpiexec, no MPI library) says so and the bench goes on.
                    (quiet ? Console.Error : Console.Out).WriteLine($"{n}: not measured: {e.Message.ReplaceLineEndings(" ")}");
                    continue;
                }
                catch (Exception e) when (!here && (e is InvalidOperationException or InvalidDataException or JsonException))
                {
                    Ui.Error($"{n}: {e.Message}");
                    continue;
                }
                if (quiet) Console.WriteLine(JsonSerializer.Serialize(res, BenchChild.Json));
                results.Add(res);
            }
            if (!quiet)
            {
                Print(results.Where(x => x.Scaling is null).ToList());
                BenchScalingTable.Print(results.Where(x => x.Scaling is not null).ToList());
            }
            return 0;
        });
        return cmd;
    }

    // Under mpiexec: the child of a scaling row of that many ranks; every rank measures, rank 0 prints the result.
    private static int RunAsRank(Communicator world, string[] names, int repeats, ScalingTask task, bool json)
    {
        if (!json || names.Length != 1 || Bench.FindScalingRow(names[0]) is not { } row || row.Ranks != world.Size)
        {
            return world.IsRoot
                ? Ui.Error("under mpiexec, bench runs only its scaling rows' children; run 'optim4rl bench --only scaling' without mpiexec (it starts mpiexec -np 2 itself).")
                : 1;
        }
        var result = Bench.RunScaling(row.Name, repeats, task, world);
        if (result is not null) Console.WriteLine(JsonSerializer.Serialize(result, BenchChild.Json));
        return 0;
    }

    private static void Print(IReadOnlyList<BenchResult> results)
    {
        if (results.Count == 0) return;
        var table = new Table().Title($"optim4rl bench ({Environment.ProcessorCount} cores, BLAS: {Tensors.Blas.Backend})")
            .AddColumn("workload").AddColumn(new TableColumn("median").RightAligned()).AddColumn("unit")
            .AddColumn(new TableColumn("also").RightAligned()).AddColumn(new TableColumn("peak memory").RightAligned()).AddColumn("repeats (min–max)");
        foreach (var r in results)
        {
            string also = double.IsFinite(r.Secondary) ? $"{r.Secondary:N0} {r.SecondaryUnit}" : "";
            table.AddRow(Markup.Escape(r.Description), Fmt(r.Median), r.Unit, also, $"{r.PeakWorkingSetBytes / (1024.0 * 1024 * 1024):F2} GB",
                $"{Fmt(r.Samples.Min())}–{Fmt(r.Samples.Max())}");
        }
        AnsiConsole.Write(table);
    }

    private static string Fmt(double x) => x >= 100 ? x.ToString("N0", CultureInfo.InvariantCulture) : x.ToString("F2", CultureInfo.InvariantCulture);
}
