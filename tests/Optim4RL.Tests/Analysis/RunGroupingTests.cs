using Optim4RL.Analysis;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Analysis;

public sealed class RunGroupingTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>A sweep of 2 configurations (RMSProp, Adam) × 3 seeds, k = 1…6 as the runner numbers them.</summary>
    private string Sweep(string exp = "a2c_catch")
    {
        for (int k = 1; k <= 6; k++)
        {
            bool adam = k % 2 == 0;
            int seedIdx = (k - 1) / 2;
            SyntheticRuns.Write(_tmp.Path, exp, k, adam ? "Adam" : "RMSProp", 1e-3, 42UL + (ulong)(k - 1),
                SyntheticRuns.One("catch", SyntheticRuns.Curve(50, 320, s => (adam ? 1.0 : 0.5) * s / 16000.0 + seedIdx)));
        }

        return Path.Combine(_tmp.Path, exp);
    }

    [Fact]
    public void Finds_runs_under_a_sweep_directory_in_numeric_order()
    {
        string sweep = Sweep();
        Directory.CreateDirectory(Path.Combine(sweep, "10"));
        SyntheticRuns.Write(_tmp.Path, "a2c_catch", 10, "Adam", 1e-3, 51, SyntheticRuns.One("catch", SyntheticRuns.Curve(3, 1, s => s)));
        var dirs = RunSet.FindRunDirectories([sweep]);
        Assert.Equal(["1", "2", "3", "4", "5", "6", "10"], dirs.Select(Path.GetFileName));
        Assert.Equal(dirs, RunSet.FindRunDirectories([_tmp.Path, Path.Combine(sweep, "3")])); // logs root; duplicates removed
        Assert.Throws<DirectoryNotFoundException>(() => RunSet.FindRunDirectories([_tmp["missing"]]));
    }

    [Fact]
    public void Runs_that_differ_only_by_seed_form_one_group_labelled_by_optimizer_and_lr()
    {
        var runs = RunSet.LoadAll([Sweep()]);
        var groups = RunGrouping.Group(runs);
        Assert.Equal(["RMSProp α=1e-3", "Adam α=1e-3"], groups.Select(g => g.Label));
        Assert.All(groups, g => Assert.Equal(3, g.Runs.Count));
        Assert.Equal([42UL, 44, 46], groups[0].Runs.Select(r => r.Seed));

        var pooled = RunGrouping.Group(runs, ["agent.name"]);
        Assert.Equal("A2C α=1e-3", Assert.Single(pooled).Label); // the agent asked for, and what all its runs share
    }

    [Fact]
    public void Labels_add_every_other_key_that_differs()
    {
        SyntheticRuns.Write(_tmp.Path, "x", 1, "Adam", 1e-3, 1, SyntheticRuns.One("catch", SyntheticRuns.Curve(3, 1, s => s)));
        SyntheticRuns.Write(_tmp.Path, "x", 2, "Adam", 3e-3, 2, SyntheticRuns.One("catch", SyntheticRuns.Curve(3, 1, s => s)), agent: "A2Ccollect");
        var groups = RunGrouping.Group(RunSet.LoadAll([_tmp["x"]]));
        Assert.Equal(["A2C Adam α=1e-3", "A2Ccollect Adam α=3e-3"], groups.Select(g => g.Label));
    }

    /// <summary>A meta-training run directory with a φ file (meta_iterations as given) and its config (agent name).</summary>
    private string MetaRun(string exp, int k, string agent, int metaIterations, string file = "param.json")
    {
        string dir = _tmp[Path.Combine("logs", exp, k.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"agent\": {\"name\": \"" + agent + "\"}}");
        var lopt = Optim4RL.Optimizers.Learned.LearnedOptimizers.Create("Optim4RL");
        var phi = new float[lopt.Layout.Count];
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, file))!);
        Optim4RL.Optimizers.Learned.MetaParamsFile.Save(Path.Combine(dir, file), lopt.Name, lopt.HiddenSize, lopt.Layout, phi,
            new Dictionary<string, string> { ["meta_iterations"] = metaIterations.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return $"logs/{exp}/{k}/{file}";
    }

    [Fact]
    public void Labels_say_in_words_what_differs_between_phi_files()
    {
        // Evaluation runs name their φ relative to the folder above logs/, as the shipped configs do.
        var curve = SyntheticRuns.One("catch", SyntheticRuns.Curve(3, 1, s => s));
        string logs = _tmp["logs"];
        string pipe = MetaRun("meta", 1, "MetaA2C", 50), nopipe = MetaRun("metap", 1, "MetapA2C", 50);
        string untrained = MetaRun("meta", 1, "MetaA2C", 0, "param_init.json");
        SyntheticRuns.Write(logs, "eval", 1, "Optim4RL", 3e-3, 1, curve, phi: pipe);
        SyntheticRuns.Write(logs, "eval", 2, "Optim4RL", 3e-3, 2, curve, phi: nopipe);
        SyntheticRuns.Write(logs, "eval", 3, "Optim4RL", 3e-3, 3, curve, phi: untrained);
        SyntheticRuns.Write(logs, "eval", 4, "Adam", 3e-3, 4, curve);
        var groups = RunGrouping.Group(RunSet.LoadAll([Path.Combine(logs, "eval")]));
        Assert.Equal(["Optim4RL (learned φ, pipeline) α=3e-3", "Optim4RL (learned φ, no pipeline) α=3e-3", "Optim4RL (untrained φ) α=3e-3", "Adam α=3e-3"],
            groups.Select(g => g.Label));

        // Grouping by a key pools runs; the label still describes what every run of the group shares.
        SyntheticRuns.Write(logs, "eval_pipe", 1, "Optim4RL", 3e-3, 1, curve, phi: pipe);
        SyntheticRuns.Write(logs, "eval_pipe", 2, "Optim4RL", 3e-3, 2, curve, phi: MetaRun("meta", 2, "MetaA2C", 50));
        SyntheticRuns.Write(logs, "eval_nopipe", 1, "Optim4RL", 3e-3, 1, curve, phi: nopipe);
        var byExp = RunGrouping.Group(RunSet.LoadAll([Path.Combine(logs, "eval_pipe"), Path.Combine(logs, "eval_nopipe")]), ["exp"]);
        Assert.Equal(["Optim4RL (no pipeline) α=3e-3", "Optim4RL (pipeline) α=3e-3"], byExp.Select(g => g.Label)); // directory order
        Assert.Equal(2, byExp[1].Runs.Count);

        // A snapshot in the run's phi/ folder is described from the run's config above it.
        string snapshot = MetaRun("meta", 1, "MetaA2C", 20, Path.Combine(Optim4RL.Experiments.MetaRun.PhiHistoryFolder, "param_20.json"));
        SyntheticRuns.Write(logs, "eval_snap", 1, "Optim4RL", 3e-3, 1, curve, phi: snapshot.Replace('\\', '/'));
        SyntheticRuns.Write(logs, "eval_snap", 2, "Optim4RL", 3e-3, 2, curve, phi: nopipe);
        Assert.Equal(["Optim4RL (pipeline) α=3e-3", "Optim4RL (no pipeline) α=3e-3"],
            RunGrouping.Group(RunSet.LoadAll([Path.Combine(logs, "eval_snap")])).Select(g => g.Label));

        // Two learned φ files described alike: the path tells them apart.
        var both = RunGrouping.Group(RunSet.LoadAll([Path.Combine(logs, "eval_pipe")]));
        Assert.Equal(["Optim4RL α=3e-3 φ=meta/1", "Optim4RL α=3e-3 φ=meta/2"], both.Select(g => g.Label));
    }

    [Theory]
    [InlineData("logs/meta/3/param.json", "meta/3")]
    [InlineData("meta/3/param.json", "meta/3")]
    [InlineData("docs/results/estimators/param_sdl_2.json", "estimators/param_sdl_2")]
    [InlineData("docs\\results\\paper_scale\\catch\\param_best.json", "catch/param_best")]
    [InlineData("docs/results/paper_scale/big_dense_long/runs/big_dense_long_full/1/param.json", "big_dense_long_full/1")]
    [InlineData("phi.json", "phi")]
    [InlineData("docs/results/runs/full_clip/1/phi/param_200.json", "full_clip/1/phi/param_200")]
    [InlineData("pretrained:optim4rl-grid6", "pretrained:optim4rl-grid6")]
    public void Phi_paths_in_legends_keep_the_folder_and_name(string path, string shown) =>
        Assert.Equal(shown, RunGrouping.ShortPhiPath(path));

    [Fact]
    public void Phi_paths_that_end_alike_keep_the_parts_that_tell_them_apart()
    {
        string[] paths =
        [
            "docs/results/runs/full/1/param.json", "docs/results/runs/full/1/phi/param_200.json",
            "docs/results/runs/full_clip/1/param.json", "docs/results/runs/full_clip/1/phi/param_200.json",
            "docs/results/runs/full/4/phi/param_200.json",
        ];
        Assert.Equal(
            ["full/1", "full/1/phi/param_200", "full_clip/1", "full_clip/1/phi/param_200", "full/4/phi/param_200"],
            paths.Select(p => RunGrouping.ShortPhiPath(p, paths)));
    }

    [Theory]
    [InlineData("0.001", "1e-3")]
    [InlineData("0.0003", "3e-4")]
    [InlineData("0.03", "3e-2")]
    [InlineData("0.0025", "2.5e-3")]
    [InlineData("0.5", "0.5")]
    [InlineData("1", "1")]
    [InlineData("-1", "-1")]
    [InlineData("9.9999e-4", "1e-3")]
    [InlineData("reference", "reference")]
    public void Numbers_are_written_short(string value, string expected) => Assert.Equal(expected, RunGrouping.Compact(value));

    [Fact]
    public void Resampling_averages_rows_per_cell_and_interpolates_empty_cells()
    {
        // Rows at 10, 20, …, 100 with return = step; a grid of 4 points 10, 40, 70, 100 (cells of width 30).
        var rows = SyntheticRuns.Curve(10, 10, s => s);
        var grid = LearningCurves.Grid(10, 100, 4);
        Assert.Equal([10.0, 40, 70, 100], grid);
        // Cells: [−5, 25) → 10, 20; [25, 55) → 30, 40, 50; [55, 85) → 60, 70, 80; [85, 115) → 90, 100.
        Assert.Equal([15.0, 40, 70, 95], LearningCurves.Resample(rows, grid));
        // A fine grid: most cells are empty and get the linear interpolation (exact for a linear curve).
        var fine = LearningCurves.Grid(10, 100, 91);
        Assert.Equal(fine, LearningCurves.Resample(rows, fine));
        // NaN rows are ignored.
        var withNaN = rows.Append(new ResultRow(55, double.NaN)).ToList();
        Assert.Equal(LearningCurves.Resample(rows, grid), LearningCurves.Resample(withNaN, grid));
    }

    [Fact]
    public void Bands_average_seeds_on_the_common_grid()
    {
        var groups = RunGrouping.Group(RunSet.LoadAll([Sweep()]));
        var bands = LearningCurves.Aggregate(groups, points: 50);
        Assert.Equal(2, bands.Count);
        var rms = bands[0];
        Assert.Equal(("catch", "RMSProp α=1e-3", 3), (rms.Env, rms.Label, rms.Runs));
        Assert.Equal(320.0, rms.Steps[0]);
        Assert.Equal(16000.0, rms.Steps[^1]);
        for (int j = 0; j < 50; j++)
        {
            // Seeds add 0, 1, 2: the mean is 0.5·s/16000 + 1, and the band lies inside [min, max] of the seeds.
            Assert.Equal(0.5 * rms.Steps[j] / 16000 + 1, rms.Mean[j], 9);
            Assert.InRange(rms.Low[j], 0.5 * rms.Steps[j] / 16000 - 1e-9, rms.Mean[j]);
            Assert.InRange(rms.High[j], rms.Mean[j], 0.5 * rms.Steps[j] / 16000 + 2 + 1e-9);
        }
    }

    [Fact]
    public void A_run_that_logged_further_keeps_its_tail()
    {
        SyntheticRuns.Write(_tmp.Path, "y", 1, "Adam", 1e-3, 1, SyntheticRuns.One("catch", SyntheticRuns.Curve(100, 10, s => 1)));
        SyntheticRuns.Write(_tmp.Path, "y", 2, "Adam", 1e-3, 2, SyntheticRuns.One("catch", SyntheticRuns.Curve(50, 10, s => 3)));
        var band = Assert.Single(LearningCurves.Aggregate(RunGrouping.Group(RunSet.LoadAll([_tmp["y"]])), points: 11));
        // The grid 10, 109, …, 1000 reaches the longer run's end; a point counts a run whose rows reach it within half a cell (49.5 steps).
        Assert.Equal(1000.0, band.Steps[^1]);
        Assert.Equal(2, band.Runs);
        Assert.Equal(1, band.MinCoverage);
        for (int j = 0; j < band.Steps.Length; j++)
        {
            bool both = band.Steps[j] <= 500 + 49.5;
            Assert.Equal(both ? 2 : 1, band.Coverage![j]);
            Assert.Equal(both ? 2.0 : 1.0, band.Mean[j], 12);
            if (!both) Assert.Equal((1.0, 1.0), (band.Low[j], band.High[j])); // one run: no spread
        }
    }

    [Fact]
    public void Runs_logging_at_different_steps_are_averaged_on_one_grid()
    {
        // Run 1 logs every 10 steps, run 2 every 25 (other env counts): both are put on the same grid before averaging.
        SyntheticRuns.Write(_tmp.Path, "z", 1, "Adam", 1e-3, 1, SyntheticRuns.One("catch", SyntheticRuns.Curve(100, 10, s => s / 1000.0)));
        SyntheticRuns.Write(_tmp.Path, "z", 2, "Adam", 1e-3, 2, SyntheticRuns.One("catch", SyntheticRuns.Curve(40, 25, s => s / 1000.0 + 1)));
        var band = Assert.Single(LearningCurves.Aggregate(RunGrouping.Group(RunSet.LoadAll([_tmp["z"]])), points: 21));
        Assert.Equal((10.0, 1000.0), (band.Steps[0], band.Steps[^1]));
        Assert.Equal(2, band.MinCoverage);
        // Both are linear in the step, so the cell averages and interpolations agree: mean = s/1000 + 0.5 up to the cell-averaging of the ends.
        for (int j = 1; j < band.Steps.Length - 1; j++) Assert.Equal(band.Steps[j] / 1000.0 + 0.5, band.Mean[j], 0.01);
    }
}
