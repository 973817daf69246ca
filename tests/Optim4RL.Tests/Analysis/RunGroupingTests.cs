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
        Assert.Equal(["RMSProp lr=0.001", "Adam lr=0.001"], groups.Select(g => g.Label));
        Assert.All(groups, g => Assert.Equal(3, g.Runs.Count));
        Assert.Equal([42UL, 44, 46], groups[0].Runs.Select(r => r.Seed));

        var pooled = RunGrouping.Group(runs, ["agent.name"]);
        Assert.Equal("A2C", Assert.Single(pooled).Label);
    }

    [Fact]
    public void Labels_add_every_other_key_that_differs()
    {
        SyntheticRuns.Write(_tmp.Path, "x", 1, "Adam", 1e-3, 1, SyntheticRuns.One("catch", SyntheticRuns.Curve(3, 1, s => s)));
        SyntheticRuns.Write(_tmp.Path, "x", 2, "Adam", 3e-3, 2, SyntheticRuns.One("catch", SyntheticRuns.Curve(3, 1, s => s)), agent: "A2Ccollect");
        var groups = RunGrouping.Group(RunSet.LoadAll([_tmp["x"]]));
        Assert.Equal(["A2C Adam lr=0.001", "A2Ccollect Adam lr=0.003"], groups.Select(g => g.Label));
        var values = new Dictionary<string, string> { ["agent_optim.kwargs.param_load_path"] = "logs/meta_rl_catch/3/param.json", ["agent_optim.name"] = "Optim4RL" };
        var other = new Dictionary<string, string>(values) { ["agent_optim.kwargs.param_load_path"] = "logs/meta_rl_catch/4/param.json" };
        Assert.Equal("Optim4RL φ=meta_rl_catch/3", RunGrouping.Label(values, [values, other]));
    }

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
        Assert.Equal(("catch", "RMSProp lr=0.001", 3), (rms.Env, rms.Label, rms.Runs));
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
    public void Runs_of_different_lengths_share_the_steps_all_of_them_cover()
    {
        SyntheticRuns.Write(_tmp.Path, "y", 1, "Adam", 1e-3, 1, SyntheticRuns.One("catch", SyntheticRuns.Curve(100, 10, s => 1)));
        SyntheticRuns.Write(_tmp.Path, "y", 2, "Adam", 1e-3, 2, SyntheticRuns.One("catch", SyntheticRuns.Curve(50, 10, s => 3)));
        var band = Assert.Single(LearningCurves.Aggregate(RunGrouping.Group(RunSet.LoadAll([_tmp["y"]])), points: 11));
        Assert.Equal(500.0, band.Steps[^1]);
        Assert.All(band.Mean, m => Assert.Equal(2.0, m, 12));
    }
}
