using Optim4RL.Analysis;
using Optim4RL.Cli;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Analysis;

public sealed class FigureCommandTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static readonly byte[] PngMagic = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static void AssertFigure(string outputBase)
    {
        string svg = File.ReadAllText(outputBase + ".svg");
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("</svg>", svg, StringComparison.Ordinal);
        Assert.True(svg.Length > 2000, $"SVG suspiciously small: {svg.Length} characters");
        byte[] png = File.ReadAllBytes(outputBase + ".png");
        Assert.Equal(PngMagic, png[..8]);
        Assert.True(png.Length > 5000, $"PNG suspiciously small: {png.Length} bytes");
        Assert.True(File.Exists(outputBase + ".gp"));
    }

    private string Sweep()
    {
        int k = 1;
        for (int seed = 0; seed < 3; seed++)
        {
            foreach (string opt in new[] { "RMSProp", "Adam" })
            {
                var curves = new Dictionary<string, IReadOnlyList<ResultRow>>
                {
                    ["catch"] = SyntheticRuns.Curve(200, 320, s => Math.Tanh(s / 20000.0) * (opt == "Adam" ? 1 : 0.8) - 0.5 + 0.05 * seed),
                    ["small_dense_long"] = SyntheticRuns.Curve(100, 640, s => s / 64000.0 + 0.1 * seed),
                };
                SyntheticRuns.Write(_tmp.Path, "a2c_mixed", k++, opt, 1e-3, (ulong)k, curves);
            }
        }

        return _tmp["a2c_mixed"];
    }

    [GnuplotFact]
    public void Plot_command_writes_non_empty_svg_and_png()
    {
        string sweep = Sweep();
        string output = _tmp["figs/curves"];
        Assert.Equal(0, Program.Main(["plot", sweep, "--output", output + ".png", "--title", "RMSProp vs Adam: it's synthetic"]));
        AssertFigure(output);
        string svg = File.ReadAllText(output + ".svg");
        Assert.Contains("small_dense_long", svg, StringComparison.Ordinal);
        Assert.Contains("Adam α=1e-3 (n=3)", svg, StringComparison.Ordinal);
        Assert.Contains("synthetic", svg, StringComparison.Ordinal); // the title, with its quote escaped for gnuplot
    }

    /// <summary>The colour gnuplot draws each legend entry in, from the figure's script (the SVG pass).</summary>
    private static Dictionary<string, string> LineColours(string script)
    {
        var colours = new Dictionary<string, string>();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(script, @"with lines lw 2 lc rgb '(#[0-9a-f]{6})' title '([^']*)'"))
            colours.TryAdd(m.Groups[2].Value, m.Groups[1].Value);
        return colours;
    }

    [GnuplotFact]
    public void A_configuration_keeps_its_colour_across_panels_and_the_legend_sits_beside_the_plot()
    {
        double[] x = [0, 1], y = [0, 1];
        CurveBand Band(string env, string label) => new(env, label, 1, x, y, y, y);
        string output = _tmp["colours"];
        Figures.LearningCurves([Band("catch", "Adam α=1e-3"), Band("catch", "Optim4RL α=1e-3"), Band("small_dense_short", "Adam α=1e-2"), Band("small_dense_short", "Optim4RL α=1e-2")],
            output, "Two tasks");
        string script = File.ReadAllText(output + ".gp");
        var c = LineColours(script);
        Assert.Equal(c["Adam α=1e-3 (n=1)"], c["Adam α=1e-2 (n=1)"]); // the same optimizer, its α tuned per task
        Assert.Equal(c["Optim4RL α=1e-3 (n=1)"], c["Optim4RL α=1e-2 (n=1)"]);
        Assert.NotEqual(c["Adam α=1e-3 (n=1)"], c["Optim4RL α=1e-3 (n=1)"]);
        Assert.Contains("set key outside right", script, StringComparison.Ordinal);
        Assert.DoesNotContain("\\n", script, StringComparison.Ordinal); // a short title stays on one line

        // Two α of one optimizer in one panel are two lines: they keep apart colours. A title wider than
        // one panel (about 86 characters here) is wrapped at a space.
        Figures.LearningCurves([Band("catch", "Adam α=1e-3"), Band("catch", "Adam α=3e-3")], output,
            "A title long enough that it cannot fit on one line of a figure this wide, so it is wrapped at a space instead of running off the image");
        script = File.ReadAllText(output + ".gp");
        c = LineColours(script);
        Assert.NotEqual(c["Adam α=1e-3 (n=1)"], c["Adam α=3e-3 (n=1)"]);
        Assert.Contains("this wide, so it is\\nwrapped at a space", script, StringComparison.Ordinal);
    }

    [GnuplotFact]
    public void Analyze_gradients_writes_the_statistics_csv_and_the_figure()
    {
        string rl = _tmp["logs/collect/1"], sl = _tmp["logs/collect_sl/1"];
        foreach (var (dir, data) in new[] { (rl, GradientAnalysisTests.Synthetic()), (sl, GradientAnalysisTests.Synthetic(seed: 3, kind: GradientFileHeader.KindSupervised, env: "gaussian_mixture")) })
        {
            Directory.CreateDirectory(dir);
            using var w = GradientFileWriter.Create(Path.Combine(dir, GradientFile.FileName(data.Header.Env)), data.Header with { Stride = 1, ParamCount = data.Header.Coords });
            for (int r = 0; r < data.Records; r++) w.OnUpdate(data.Updates[r], data.Steps[r], data.Grad(r), data.Delta(r));
        }

        string outDir = _tmp["analysis"];
        Assert.Equal(0, Program.Main(["analyze", "gradients", rl, sl, "--output-dir", outDir, "--stages", "0,1", "--bin-width", "0.5"]));
        AssertFigure(Path.Combine(outDir, "gradient_hist"));
        string[] csv = File.ReadAllLines(Path.Combine(outDir, "gradient_stats.csv"));
        Assert.Equal(1 + 2 * 2 * 2, csv.Length); // 2 series × (g, Δθ) × 2 stages
        Assert.Contains("supervised · gaussian_mixture", File.ReadAllText(Path.Combine(outDir, "gradient_hist.svg")), StringComparison.Ordinal);

        Assert.Equal(0, Program.Main(["analyze", "gradients", rl, "--output-dir", outDir, "--quantity", "delta", "--linear-y"]));
        Assert.Contains("|Δθ|", File.ReadAllText(Path.Combine(outDir, "gradient_hist.svg")), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_without_figure_needs_no_gnuplot_and_bad_options_fail_cleanly()
    {
        var data = GradientAnalysisTests.Synthetic();
        string dir = _tmp["run"];
        Directory.CreateDirectory(dir);
        using (var w = GradientFileWriter.Create(Path.Combine(dir, "grads_catch.bin"), data.Header with { Stride = 1, ParamCount = data.Header.Coords }))
        {
            for (int r = 0; r < data.Records; r++) w.OnUpdate(data.Updates[r], data.Steps[r], data.Grad(r), data.Delta(r));
        }

        Assert.Equal(0, Program.Main(["analyze", "gradients", dir, "--no-figure"]));
        Assert.True(File.Exists(Path.Combine(dir, "gradient_stats.csv")));
        Assert.Equal(1, Program.Main(["analyze", "gradients", dir, "--no-figure", "--stages", "0,x"]));
        Assert.Equal(1, Program.Main(["analyze", "gradients", _tmp["nothing-here"], "--no-figure"]));
    }

    /// <summary>A PPO-style metrics.csv (env, update, step, entropy_nats, update_norm) for each run of <see cref="Sweep"/>: update_norm = seed-dependent level, an empty entropy cell every 10th row.</summary>
    private string SweepWithMetrics()
    {
        string sweep = Sweep();
        foreach (string run in Directory.GetDirectories(sweep))
        {
            int k = int.Parse(Path.GetFileName(run), System.Globalization.CultureInfo.InvariantCulture);
            var lines = new List<string> { "env,update,step,entropy_nats,update_norm" };
            for (int u = 1; u <= 50; u++)
            {
                string entropy = u % 10 == 0 ? "" : (-0.1 * u).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
                lines.Add($"catch,{u},{u * 640},{entropy},{k * 0.5}");
            }

            File.WriteAllLines(Path.Combine(run, "metrics.csv"), lines);
        }

        return sweep;
    }

    [Fact]
    public void Metric_series_reads_one_column_per_task_and_names_the_columns_it_has_when_one_is_missing()
    {
        string run = Directory.GetDirectories(SweepWithMetrics()).Order(NaturalPathComparer.Instance).First();
        var norms = MetricSeries.Load(run, "update_norm");
        Assert.Equal(["catch"], norms.Keys);
        Assert.Equal(50, norms["catch"].Count);
        Assert.Equal(new ResultRow(640, 0.5), norms["catch"][0]);
        var entropy = MetricSeries.Load(run, "entropy_nats")["catch"];
        Assert.True(double.IsNaN(entropy[9].Return)); // the empty cell of update 10
        Assert.Equal(-1.1, entropy[10].Return, 12);

        var e = Assert.Throws<InvalidDataException>(() => MetricSeries.Load(run, "kl"));
        Assert.Contains("no column 'kl'", e.Message, StringComparison.Ordinal);
        Assert.Contains("entropy_nats, update_norm", e.Message, StringComparison.Ordinal);

        string meta = _tmp["meta-run"];
        Directory.CreateDirectory(meta);
        File.WriteAllLines(Path.Combine(meta, "metrics.csv"), ["iteration,step,meta_loss", "1,100,0.5", "2,200,0.25"]);
        Assert.Equal([new ResultRow(100, 0.5), new ResultRow(200, 0.25)], MetricSeries.Load(meta, "meta_loss")[MetricSeries.MetaTrainingPanel]);
        Assert.Empty(MetricSeries.Load(_tmp["no-metrics"], "meta_loss"));
    }

    [GnuplotFact]
    public void Plot_metric_draws_the_column_averaged_over_seeds_and_rejects_a_missing_column_in_one_line()
    {
        string sweep = SweepWithMetrics();
        string output = _tmp["figs/norm"];
        Assert.Equal(0, Program.Main(["plot", sweep, "--metric", "update_norm", "--output", output]));
        AssertFigure(output);
        string script = File.ReadAllText(output + ".gp");
        Assert.Contains("set ylabel 'update_norm (mean over seeds", script, StringComparison.Ordinal);
        Assert.Contains("catch (metrics.csv, per update)", script, StringComparison.Ordinal);

        // Independent check of the averaging: RMSProp runs are k = 1, 3, 5 and Adam runs k = 2, 4, 6 (Sweep's order),
        // so their update_norm lines sit at the mean of k/2: 1.5 and 2.0.
        var runs = RunSet.LoadAll([sweep]).Select(r => r with { Curves = MetricSeries.Load(r.Directory, "update_norm"), Evaluations = null }).ToList();
        var bands = LearningCurves.Aggregate(RunGrouping.Group(runs, null), points: 10);
        Assert.Equal(1.5, bands.Single(b => b.Env == "catch" && b.Label.StartsWith("RMSProp", StringComparison.Ordinal)).Mean[^1], 12);
        Assert.Equal(2.0, bands.Single(b => b.Env == "catch" && b.Label.StartsWith("Adam", StringComparison.Ordinal)).Mean[^1], 12);

        Assert.Equal(1, Program.Main(["plot", sweep, "--metric", "no_such_column", "--output", _tmp["figs/bad"]]));
        Assert.Equal(1, Program.Main(["plot", sweep, "--metric", "update_norm", "--series", "training", "--output", _tmp["figs/bad"]]));
        Assert.False(File.Exists(_tmp["figs/bad"] + ".svg"));
    }

    [Fact]
    public void Report_command_writes_the_markdown_file()
    {
        string sweep = Sweep();
        string file = _tmp["report.md"];
        Assert.Equal(0, Program.Main(["report", sweep, "--output", file, "--title", "Mixed"]));
        string md = File.ReadAllText(file);
        Assert.StartsWith("# Mixed", md, StringComparison.Ordinal);
        Assert.Contains("## catch", md, StringComparison.Ordinal);
        Assert.Contains("## small_dense_long", md, StringComparison.Ordinal);
        Assert.Contains("| Adam α=1e-3 | 3 |", md, StringComparison.Ordinal);
        Assert.Equal(1, Program.Main(["report", _tmp["empty-dir-that-does-not-exist"]]));
    }

    [Fact]
    public void Missing_gnuplot_gives_one_line_naming_the_package_and_the_setup_command()
    {
        var band = new CurveBand("catch", "Adam", 1, [0, 1], [0, 1], [0, 1], [0, 1]);
        var e = Assert.Throws<GnuplotMissingException>(() => Figures.LearningCurves([band], _tmp["x"], null, executable: "/nonexistent/gnuplot-o4rl"));
        Assert.Contains("gnuplot-nox", e.Message, StringComparison.Ordinal);
        Assert.Contains("scripts/setup.sh", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Gnuplot.IsAvailable("/nonexistent/gnuplot-o4rl"));
    }

    [Fact]
    public void Gnuplot_strings_and_datablocks_are_escaped_and_invariant()
    {
        Assert.Equal("'it''s'", Gnuplot.Quote("it's"));
        Assert.Equal("$d << EOD\n1.5 NaN\n-2 1E-08\nEOD\n", Gnuplot.Datablock("d", [[1.5, double.NaN], [-2, 1e-8]]));
        Assert.Equal("out/f", Gnuplot.StripImageExtension("out/f.SVG"));
        Assert.Equal("out/f.x", Gnuplot.StripImageExtension("out/f.x"));
    }
}
