using System.Globalization;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary>The table of <c>bench --only scaling</c>: one row per process layout and transport, compared with 1 process × 2 threads.</summary>
internal static class BenchScalingTable
{
    /// <summary>Throughput of two ranks relative to one process that the scaling rows aim for (within 10 %).</summary>
    public const double Target = 0.9;

    private static readonly string[] Notes =
    [
        "Steady state: the first meta-iteration is excluded; s/meta-iteration is the median (min–max) of the timed ones.",
        "exchanged/iteration/rank: array bytes a rank sends plus receives per meta-iteration, the larger over ranks.",
        "communication share: time inside collective calls (waiting for the other rank included) ÷ wall time, the larger over ranks (rank 0's in brackets).",
        $"vs 1 × 2: meta-iterations/s relative to one process with two threads; the target for two ranks is ≥ {Target:F2}.",
    ];

    /// <summary>Prints the scaling results (nothing when there are none).</summary>
    public static void Print(IReadOnlyList<BenchResult> results)
    {
        if (results.Count == 0) return;
        var reference = results.FirstOrDefault(r => r.Scaling is { Ranks: 1 });
        var first = results[0].Scaling!;
        var table = new Table().Title($"optim4rl bench: scaling, MetaA2C on {first.Task} with {first.Agents} agents ({Environment.ProcessorCount} cores)")
            .AddColumn("processes × threads, transport").AddColumn(new TableColumn("s/meta-iteration").RightAligned())
            .AddColumn(new TableColumn("meta-iterations/s").RightAligned()).AddColumn(new TableColumn("exchanged/iteration/rank").RightAligned())
            .AddColumn(new TableColumn("communication share").RightAligned()).AddColumn(new TableColumn("peak memory/rank").RightAligned())
            .AddColumn(new TableColumn("vs 1 × 2").RightAligned());
        foreach (var r in results)
        {
            var s = r.Scaling!;
            string vs = reference is null ? "–" : Ratio(r.Secondary / reference.Secondary, ReferenceEquals(r, reference));
            string layout = Bench.FindScalingRow(r.Workload) is { } row ? $"{row.Layout}, {row.Transport}" : r.Workload;
            table.AddRow(Markup.Escape(layout),
                $"{F(r.Median, "F2")} ({F(r.Samples.Min(), "F2")}–{F(r.Samples.Max(), "F2")})", F(r.Secondary, "F3"),
                Bytes(s.BytesPerIteration.Max()), Share(s), $"{s.PeakWorkingSetBytes.Max() / (1024.0 * 1024 * 1024):F2} GB", vs);
        }
        AnsiConsole.Write(table);
        foreach (string note in Notes) AnsiConsole.WriteLine(note);
    }

    private static string Ratio(double ratio, bool self) =>
        self ? "1.00" : $"{F(ratio, "F2")} {(ratio >= Target ? "(target met)" : "(below target)")}";

    private static string Share(ScalingMeasurement s) =>
        s.Ranks == 1 ? "0 %" : $"{F(100 * s.CommunicationShare.Max(), "F1")} % ({F(100 * s.CommunicationShare[0], "F1")} %)";

    private static string Bytes(double b) => b switch
    {
        0 => "0",
        < 1 << 20 => $"{F(b / 1024, "F1")} KB",
        _ => $"{F(b / (1 << 20), "F2")} MB",
    };

    private static string F(double x, string format) => x.ToString(format, CultureInfo.InvariantCulture);
}
