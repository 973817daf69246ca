using Optim4RL.Analysis;
using Optim4RL.Experiments;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Analysis;

public sealed class GradientAnalysisTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>
    /// Synthetic records whose magnitudes drift: record r has |g| = 10^u with u uniform in
    /// [−7 + 4r/N, −3 + 4r/N)·(random sign), and a tenth of the coordinates exactly 0.
    /// </summary>
    internal static GradientData Synthetic(int records = 40, int coords = 50, ulong seed = 1, string kind = GradientFileHeader.KindRl, string env = "catch")
    {
        var rng = new Rng(seed);
        var g = new float[records * coords];
        var d = new float[records * coords];
        for (int r = 0; r < records; r++)
        {
            for (int j = 0; j < coords; j++)
            {
                double u = -7 + 4.0 * r / records + 4 * rng.NextDouble();
                float v = rng.NextDouble() < 0.1 ? 0f : (float)(Math.Pow(10, u) * (rng.NextDouble() < 0.5 ? -1 : 1));
                g[r * coords + j] = v;
                d[r * coords + j] = -1e-3f * Math.Sign(v);
            }
        }

        var header = new GradientFileHeader(kind, kind == GradientFileHeader.KindRl ? "A2Ccollect" : "SLCollect", env, "Adam", "adam", 1e-3, coords * 3 - 2, 3, 10);
        return new GradientData(header, Enumerable.Range(1, records).Select(i => (long)i).ToArray(),
            Enumerable.Range(1, records).Select(i => 10L * i).ToArray(), g, d, true, null);
    }

    [Fact]
    public void Stages_are_the_first_middle_and_last_tenth()
    {
        var stages = GradientAnalysis.Stages(Synthetic(), GradientAnalysis.DefaultPositions, 0.1);
        Assert.Equal(["first 10 %", "middle 10 %", "last 10 %"], stages.Select(s => s.Label));
        Assert.Equal([0, 18, 36], stages.Select(s => s.FirstRecord));
        Assert.All(stages, s => Assert.Equal(4, s.Records));
        Assert.Equal([1L, 19, 37], stages.Select(s => s.FirstUpdate));
        Assert.Equal([4L, 22, 40], stages.Select(s => s.LastUpdate));
        Assert.Equal(400L, stages[2].LastStep);

        var tiny = GradientAnalysis.Stages(Synthetic(records: 3), [0, 0.5, 1], 0.1);
        Assert.Equal([0, 1, 2], tiny.Select(s => s.FirstRecord)); // at least one record each
        Assert.Throws<ArgumentException>(() => GradientAnalysis.Stages(Synthetic(), [1.5], 0.1));
        Assert.Throws<ArgumentException>(() => GradientAnalysis.Stages(Synthetic(), [0], 0));
    }

    [Fact]
    public void Statistics_match_an_independent_computation()
    {
        var data = Synthetic();
        var stages = GradientAnalysis.Stages(data, GradientAnalysis.DefaultPositions, 0.1);
        var result = GradientAnalysis.Analyze([new GradientSeries("s", "x", data)], GradientAnalysis.DefaultPositions, 0.1, 0.5);
        Assert.Equal(6, result.Statistics.Count); // 3 stages × (g, Δθ)
        foreach (GradientStage st in stages)
        {
            // Independent: straight from the flat array, in double, with LINQ.
            var raw = data.Grads.Skip(st.FirstRecord * 50).Take(st.Records * 50).Select(x => (double)x).ToArray();
            var logs = raw.Select(x => Math.Log10(Math.Abs(x) + 1e-8)).OrderBy(x => x).ToArray();
            double mean = logs.Average();
            double std = Math.Sqrt(logs.Select(x => (x - mean) * (x - mean)).Average());
            double median = logs.Length % 2 == 1 ? logs[logs.Length / 2] : (logs[logs.Length / 2 - 1] + logs[logs.Length / 2]) / 2;
            var s = result.Statistics.Single(x => x.Quantity == GradientQuantity.Gradient && x.Stage.Label == st.Label);
            Assert.Equal(logs.Length, s.Values);
            Assert.Equal(logs.Min(), s.Min, 12);
            Assert.Equal(logs.Max(), s.Max, 12);
            Assert.Equal(mean, s.Mean, 10);
            Assert.Equal(std, s.Std, 10);
            Assert.Equal(median, s.Median, 12);
            Assert.Equal(raw.Count(x => Math.Abs(x) < 1e-6) / (double)raw.Length, s.FractionTiny, 12);
            Assert.Equal(raw.Count(x => x == 0) / (double)raw.Length, s.FractionZero, 12);
        }

        // The drift is visible: later stages have larger gradients.
        var means = result.Statistics.Where(x => x.Quantity == GradientQuantity.Gradient).Select(x => x.Mean).ToArray();
        Assert.True(means[0] < means[1] && means[1] < means[2]);
        // Δθ = ±1e-3 or 0 in the synthetic data.
        var delta = result.Statistics.First(x => x.Quantity == GradientQuantity.Update);
        Assert.Equal(Math.Log10(1e-3 + 1e-8), delta.Max, 6);
    }

    [Fact]
    public void Histograms_count_like_a_brute_force_binning_and_integrate_to_one()
    {
        var data = Synthetic();
        const double width = 0.25;
        var result = GradientAnalysis.Analyze([new GradientSeries("s", "x", data)], GradientAnalysis.DefaultPositions, 0.1, width);
        double lo = result.BinLow;
        Assert.Equal(-8.0, lo); // zeros map to exactly −8
        var h = result.Histograms[0];
        for (int st = 0; st < 3; st++)
        {
            var stage = h.Stages[st];
            var logs = data.Grads.Skip(stage.FirstRecord * 50).Take(stage.Records * 50).Select(x => Math.Log10(Math.Abs((double)x) + 1e-8)).ToArray();
            for (int b = 0; b < result.Bins; b++)
            {
                double left = lo + b * width, right = left + width;
                int count = logs.Count(v => v >= left && (v < right || b == result.Bins - 1));
                Assert.Equal(count / (logs.Length * width), h.Densities[st][b], 10);
            }

            Assert.Equal(1.0, h.Densities[st].Sum() * width, 10);
        }

        Assert.True(lo + result.Bins * width > result.Statistics.Max(s => s.Quantity == GradientQuantity.Gradient ? s.Max : double.MinValue));
    }

    [Fact]
    public void Files_load_as_named_series_and_the_csv_has_a_row_per_series_quantity_and_stage()
    {
        void Write(string dir, GradientData d)
        {
            Directory.CreateDirectory(dir);
            using var w = GradientFileWriter.Create(Path.Combine(dir, GradientFile.FileName(d.Header.Env)), d.Header with { Stride = 1, ParamCount = d.Header.Coords });
            for (int r = 0; r < d.Records; r++) w.OnUpdate(d.Updates[r], d.Steps[r], d.Grad(r), d.Delta(r));
        }

        var rl = Synthetic();
        var sl = Synthetic(seed: 2, kind: GradientFileHeader.KindSupervised, env: "gaussian_mixture");
        Write(_tmp["rl/1"], rl);
        Write(_tmp["rl/2"], rl);
        Write(_tmp["sl/1"], sl);
        var notes = new List<string>();
        var series = GradientAnalysis.Load([_tmp["rl/1"], _tmp["rl/2"], _tmp["sl/1"]], notes);
        Assert.Empty(notes);
        Assert.Equal(["catch · Adam (0)", "catch · Adam (0)", "supervised · gaussian_mixture · Adam"], series.Select(s => s.Name));
        Assert.Equal(rl.Grads, series[0].Data.Grads);

        var result = GradientAnalysis.Analyze(series);
        string[] csv = GradientAnalysis.StatisticsCsv(result.Statistics).TrimEnd('\n').Split('\n');
        Assert.Equal(1 + 3 * 2 * 3, csv.Length);
        Assert.StartsWith("series,kind,quantity,stage,", csv[0], StringComparison.Ordinal);
        Assert.Contains(csv, l => l.StartsWith("supervised · gaussian_mixture · Adam,supervised,delta,last 10 %,", StringComparison.Ordinal));

        Assert.Throws<FileNotFoundException>(() => GradientAnalysis.Load([_tmp.Path]));
    }
}
