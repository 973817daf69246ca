using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary>
/// <c>optim4rl bench</c>: throughput and peak memory of the main workloads, each run in its own
/// child process so that its peak working set is its own.
/// </summary>
internal static class BenchCommand
{
    // Throughputs that do not apply are NaN, which JSON spells only with named literals.
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static Command Create()
    {
        var repeats = new Option<int>("--repeats") { Description = "Timed repeats per workload; the median is reported.", DefaultValueFactory = _ => 5 };
        var only = new Option<string[]>("--only") { Description = $"Run only these workloads (or the groups 'core' = A2C, MetaA2C and the kernel; 'continuous' = MuJoCo and PPO; 'scale' = paper-scale meta-training, the kernel in cache and streaming, and memory bandwidth, not run by default): {string.Join(", ", Bench.Workloads.Select(w => w.Name))}.", AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int?>("--threads") { Description = "Threads for the workloads, the learned-optimizer kernels included (default: all cores)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per workload instead of a table (used for the child processes)." };
        var inProcess = new Option<bool>("--in-process") { Description = "Run the workloads in this process (peak memory then accumulates)." };
        var cmd = new Command("bench", "Measure throughput and peak memory (medians of repeats, each workload in its own process): A2C, MetaA2C and the Optim4RL kernel (core); MuJoCo physics, PPO end to end and the learned optimizer's overhead per PPO update (continuous).")
        {
            repeats, only, threads, json, inProcess,
        };
        cmd.SetAction(pr =>
        {
            int r = pr.GetValue(repeats);
            if (r < 1) return Ui.Error("--repeats must be ≥ 1.");
            if (pr.GetValue(threads) is < 1) return Ui.Error("--threads must be ≥ 1.");
            var all = Bench.Workloads.Select(w => w.Name).ToArray();
            // The paper-scale rows take minutes and gigabytes: only on request (`--only scale` or by name).
            var standard = all.Except(Bench.ScaleNames).ToArray();
            var names = (pr.GetValue(only) is { Length: > 0 } o ? o : standard).SelectMany(n => n switch
            {
                "core" => Bench.CoreNames,
                "continuous" => standard.Except(Bench.CoreNames),
                "scale" => Bench.ScaleNames,
                _ => [n],
            }).ToArray();
            foreach (var n in names)
                if (!Bench.Workloads.Any(w => w.Name == n))
                    return Ui.Error($"Unknown workload '{n}'. Valid: {string.Join(", ", Bench.Workloads.Select(w => w.Name))}.");
            var results = new List<BenchResult>();
            foreach (var n in names)
            {
                BenchResult res;
                if (pr.GetValue(json) || pr.GetValue(inProcess))
                {
                    res = Bench.Run(n, r, pr.GetValue(threads));
                }
                else
                {
                    AnsiConsole.MarkupLine($"[grey]running {n}…[/]");
                    try
                    {
                        res = RunChild(n, r, pr.GetValue(threads));
                    }
                    catch (Exception e) when (e is InvalidOperationException or InvalidDataException or JsonException)
                    {
                        Ui.Error($"{n}: {e.Message}");
                        continue;
                    }
                }
                if (pr.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(res, Json));
                results.Add(res);
            }
            if (!pr.GetValue(json)) Print(results);
            return 0;
        });
        return cmd;
    }

    private static BenchResult RunChild(string workload, int repeats, int? threads)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        string self = typeof(Program).Assembly.Location;
        if (!Path.GetFileNameWithoutExtension(psi.FileName).Equals("Optim4RL.Cli", StringComparison.OrdinalIgnoreCase)) psi.ArgumentList.Add(self);
        foreach (var a in new[] { "bench", "--json", "--only", workload, "--repeats", repeats.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        if (threads is int t) { psi.ArgumentList.Add("--threads"); psi.ArgumentList.Add(t.ToString(CultureInfo.InvariantCulture)); }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the benchmark child process.");
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"Benchmark '{workload}' failed with exit code {p.ExitCode}.");
        string line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        return JsonSerializer.Deserialize<BenchResult>(line, Json) ?? throw new InvalidDataException("Benchmark child printed no result.");
    }

    private static void Print(IReadOnlyList<BenchResult> results)
    {
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
