using Optim4RL.Analysis;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Analysis;

public sealed class ReportTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Final_return_is_the_mean_of_the_last_tenth_of_the_rows()
    {
        var rows = SyntheticRuns.Curve(25, 1, s => s); // returns 1 … 25; the last ⌈2.5⌉ = 3 rows: 23, 24, 25
        Assert.Equal(24.0, FinalReturnReport.FinalReturn(rows), 12);
        Assert.Equal(25.0, FinalReturnReport.FinalReturn(rows, 0.01), 12);
        Assert.Equal(13.0, FinalReturnReport.FinalReturn(rows, 1), 12);
        var withNaN = rows.Append(new ResultRow(26, double.NaN)).ToList();
        Assert.Equal(24.0, FinalReturnReport.FinalReturn(withNaN), 12);
        Assert.True(double.IsNaN(FinalReturnReport.FinalReturn([])));
    }

    /// <summary>
    /// Sweep: RMSProp and Adam at lr 1e-3 and 3e-3, 4 seeds each; every curve ends (last 10 % of 20 rows,
    /// i.e. the last 2) at a known constant: base + seed offset.
    /// </summary>
    private string Sweep()
    {
        var finals = new Dictionary<(string, double), double> { [("RMSProp", 1e-3)] = 0.2, [("Adam", 1e-3)] = 0.6, [("RMSProp", 3e-3)] = 0.4, [("Adam", 3e-3)] = 0.5 };
        int k = 1;
        for (int seed = 0; seed < 4; seed++)
        {
            foreach (var ((opt, lr), final) in finals)
            {
                double target = final + 0.01 * seed;
                var rows = SyntheticRuns.Curve(20, 100, s => s > 1800 ? target : -1);
                SyntheticRuns.Write(_tmp.Path, "sweep", k++, opt, lr, (ulong)k, SyntheticRuns.One("catch", rows));
            }
        }

        return _tmp["sweep"];
    }

    [Fact]
    public void Report_table_has_each_configurations_mean_and_ci_best_first()
    {
        var groups = RunGrouping.Group(RunSet.LoadAll([Sweep()]));
        var results = FinalReturnReport.Compute(groups);
        Assert.Equal(["Adam lr=0.001", "Adam lr=0.003", "RMSProp lr=0.003", "RMSProp lr=0.001"], results.Select(r => r.Group.Label));
        var best = results[0];
        Assert.Equal(4, best.Summary.Count);
        Assert.Equal(0.615, best.Summary.Mean, 12); // 0.6 + mean(0, .01, .02, .03)
        Assert.Equal([0.6, 0.61, 0.62, 0.63], best.PerRun.Select(v => Math.Round(v, 12)));
        Assert.InRange(best.Summary.Low, 0.6, 0.615);
        Assert.InRange(best.Summary.High, 0.615, 0.63);

        string md = FinalReturnReport.Markdown(results, "Final returns: sweep");
        Assert.StartsWith("# Final returns: sweep\n", md, StringComparison.Ordinal);
        Assert.Contains("## catch", md, StringComparison.Ordinal);
        Assert.Contains($"| Adam lr=0.001 | 4 | 0.615 | {FinalReturnReport.F(best.Summary.HalfWidth)} | [{FinalReturnReport.F(best.Summary.Low)}, {FinalReturnReport.F(best.Summary.High)}] |", md, StringComparison.Ordinal);
        Assert.Contains("| RMSProp lr=0.001 | 4 | 0.215 |", md, StringComparison.Ordinal);
        // Best per optimizer: Adam at 1e-3, RMSProp at 3e-3.
        Assert.Contains("| Adam | Adam lr=0.001 | 4 | 0.615 |", md, StringComparison.Ordinal);
        Assert.Contains("| RMSProp | RMSProp lr=0.003 | 4 | 0.415 |", md, StringComparison.Ordinal);
        Assert.True(md.IndexOf("| Adam lr=0.003", StringComparison.Ordinal) < md.IndexOf("| RMSProp lr=0.003", StringComparison.Ordinal));
    }

    [Fact]
    public void Best_per_group_can_use_another_key()
    {
        var results = FinalReturnReport.Compute(RunGrouping.Group(RunSet.LoadAll([Sweep()])));
        var best = FinalReturnReport.Best(results, "agent_optim.kwargs.learning_rate");
        Assert.Equal([("0.001", "Adam lr=0.001"), ("0.003", "Adam lr=0.003")], best.Select(b => (b.Value, b.Best.Group.Label)));
    }

    [Fact]
    public void Numbers_are_formatted_with_invariant_culture()
    {
        Assert.Equal("0.615", FinalReturnReport.F(0.6149999));
        Assert.Equal("12.35", FinalReturnReport.F(12.345678));
        Assert.Equal("-123.5", FinalReturnReport.F(-123.456));
        Assert.Equal("0.000", FinalReturnReport.F(-0.0000001));
        Assert.Equal("n/a", FinalReturnReport.F(double.NaN));
    }
}
