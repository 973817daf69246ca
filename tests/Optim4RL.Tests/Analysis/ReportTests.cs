using Optim4RL.Analysis;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Analysis;

public sealed class ReportTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>
    /// Sweep: RMSProp and Adam at lr 1e-3 and 3e-3, 4 seeds each; 40 rows per curve, the last 20 at a
    /// known constant (base + seed offset), the rows before at −1 (outside the protocol's window).
    /// </summary>
    private string Sweep(string name = "sweep")
    {
        var finals = new Dictionary<(string, double), double> { [("RMSProp", 1e-3)] = 0.2, [("Adam", 1e-3)] = 0.6, [("RMSProp", 3e-3)] = 0.4, [("Adam", 3e-3)] = 0.5 };
        int k = 1;
        for (int seed = 0; seed < 4; seed++)
        {
            foreach (var ((opt, lr), final) in finals)
            {
                double target = final + 0.01 * seed;
                var rows = SyntheticRuns.Curve(40, 100, s => s > 2000 ? target : -1);
                SyntheticRuns.Write(_tmp.Path, name, k++, opt, lr, (ulong)k, SyntheticRuns.One("catch", rows));
            }
        }

        return _tmp[name];
    }

    [Fact]
    public void Report_table_has_each_configurations_mean_and_ci_best_first()
    {
        var groups = RunGrouping.Group(RunSet.LoadAll([Sweep()]));
        var results = FinalReturnReport.Compute(groups);
        Assert.Equal(["Adam α=1e-3", "Adam α=3e-3", "RMSProp α=3e-3", "RMSProp α=1e-3"], results.Select(r => r.Group.Label));
        var best = results[0];
        Assert.Equal(4, best.Summary.Count);
        Assert.Equal(0.615, best.Summary.Mean, 12); // 0.6 + mean(0, .01, .02, .03)
        Assert.Equal([0.6, 0.61, 0.62, 0.63], best.PerRun.Select(v => Math.Round(v, 12)));
        Assert.InRange(best.Summary.Low, 0.6, 0.615);
        Assert.InRange(best.Summary.High, 0.615, 0.63);

        var settings = new ReportSettings { NormaliseBy = GroupSelector.Parse("agent_optim.name=Adam") };
        string md = FinalReturnReport.Markdown(FinalReturnReport.Build(groups, settings), "Final returns: sweep", settings);
        Assert.StartsWith("# Final returns: sweep\n", md, StringComparison.Ordinal);
        Assert.Contains("mean of the last 20 logged returns", md, StringComparison.Ordinal);
        Assert.Contains("## catch", md, StringComparison.Ordinal);
        Assert.Contains($"| Adam α=1e-3 | 4 | 0.615 | {FinalReturnReport.F(best.Summary.HalfWidth)} | [{FinalReturnReport.F(best.Summary.Low)}, {FinalReturnReport.F(best.Summary.High)}] |", md, StringComparison.Ordinal);
        Assert.Contains("| RMSProp α=1e-3 | 4 | 0.215 |", md, StringComparison.Ordinal);
        // Best per optimizer: Adam at 1e-3, RMSProp at 3e-3.
        Assert.Contains("| Adam | Adam α=1e-3 | 4 | 0.615 |", md, StringComparison.Ordinal);
        Assert.Contains("| RMSProp | RMSProp α=3e-3 | 4 | 0.415 |", md, StringComparison.Ordinal);
        Assert.True(md.IndexOf("| Adam α=3e-3", StringComparison.Ordinal) < md.IndexOf("| RMSProp α=3e-3", StringComparison.Ordinal));
        // Two Adam groups match: the better one is the reference; R_random is not measured here.
        Assert.Contains("Reference (score 1): Adam α=1e-3, final return 0.615 (the best of 2 configurations matching --normalise-by agent_optim.name=Adam)", md, StringComparison.Ordinal);
        Assert.Contains("R_random: not measured", md, StringComparison.Ordinal);
    }

    [Fact]
    public void The_last_fraction_rule_stays_available()
    {
        var groups = RunGrouping.Group(RunSet.LoadAll([Sweep()]));
        // The last ⌈0.1·40⌉ = 4 rows are the same constants; the last half mixes in the −1 rows.
        var tenth = FinalReturnReport.Compute(groups, FinalReturnDefinition.Parse("last-fraction:0.1"));
        Assert.Equal(0.615, tenth[0].Summary.Mean, 12);
        var whole = FinalReturnReport.Compute(groups, FinalReturnDefinition.Parse("last-fraction:1"));
        Assert.Equal((20 * -1 + 20 * 0.615) / 40, whole[0].Summary.Mean, 12);
        var last40 = FinalReturnReport.Compute(groups, FinalReturnDefinition.Parse("last:40"));
        Assert.Equal(whole[0].Summary.Mean, last40[0].Summary.Mean, 12);
    }

    [Fact]
    public void At_step_scores_each_run_as_if_it_had_stopped_there()
    {
        var groups = RunGrouping.Group(RunSet.LoadAll([Sweep()]));
        // Rows every 100 steps up to 4,000; −1 up to step 2,000, the run's constant after.
        double Best(long step) => FinalReturnReport.Compute(groups, atStep: step)[0].Summary.Mean;
        Assert.Equal(-1.0, Best(2000), 12);
        Assert.Equal((10 * -1 + 10 * 0.615) / 20, Best(3000), 12); // steps 1,100…3,000: ten at −1, ten at the constant
        Assert.Equal(Best(3000), Best(3099), 12);
        Assert.Equal(FinalReturnReport.Compute(groups)[0].Summary.Mean, Best(4000), 12);
        // No run reached 4,001 steps: every run is left out rather than scored on a shorter run.
        Assert.Empty(FinalReturnReport.Compute(groups, atStep: 4001));
        var run = groups[0].Runs[0];
        Assert.True(double.IsNaN(FinalReturnReport.FinalReturnOf(run, "catch", FinalReturnDefinition.Protocol, 4001)));
        Assert.Throws<ArgumentOutOfRangeException>(() => FinalReturnReport.FinalReturnOf(run, "catch", FinalReturnDefinition.Protocol, 0));

        var settings = new ReportSettings { AtStep = 3000, Normalise = false };
        string md = FinalReturnReport.Markdown(FinalReturnReport.Build(groups, settings), "t", settings);
        Assert.Contains("Every run is cut at 3,000 environment steps", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Best_per_group_can_use_another_key()
    {
        var results = FinalReturnReport.Compute(RunGrouping.Group(RunSet.LoadAll([Sweep()])));
        var best = FinalReturnReport.Best(results, "agent_optim.kwargs.learning_rate");
        Assert.Equal([("0.001", "Adam α=1e-3"), ("0.003", "Adam α=3e-3")], best.Select(b => (b.Value, b.Best.Group.Label)));
    }

    [Fact]
    public void Normalised_score_and_ci_overlap_use_the_adam_group_and_r_random()
    {
        // One Adam group (seeds end at 0.9, 0.91, 0.92, 0.93), a learned one (0.5 …) and an untrained φ (0.895 …).
        int k = 1;
        foreach (var (opt, baseline) in new[] { ("Adam", 0.9), ("Optim4RL", 0.5), ("Optim4RL-untrained", 0.895) })
        {
            for (int seed = 0; seed < 4; seed++)
            {
                double target = baseline + 0.01 * seed;
                SyntheticRuns.Write(_tmp.Path, "norm", k++, opt, 1e-3, (ulong)seed, SyntheticRuns.One("catch", SyntheticRuns.Curve(20, 10, _ => target)));
            }
        }

        var random = new RandomReturn("catch", -0.6, 0.8, 10_000, 100, 0, "uniform over the 3 actions");
        var settings = new ReportSettings
        {
            RandomReturns = new Dictionary<string, RandomReturn>(StringComparer.OrdinalIgnoreCase) { ["catch"] = random },
            RandomReturnsSource = "r.json",
            Untrained = GroupSelector.Parse("agent_optim.name=*untrained*"),
        };
        var groups = RunGrouping.Group(RunSet.LoadAll([_tmp["norm"]]));
        var task = Assert.Single(FinalReturnReport.Build(groups, settings));
        Assert.Equal("Adam α=1e-3", task.Reference!.Group.Label);
        Assert.Same(task.Reference, task.Compared);
        Assert.Equal("the only Adam configuration", task.ReferenceNote);

        var adam = task.Rows.Single(r => r.Group.Label.StartsWith("Adam", StringComparison.Ordinal));
        var learned = task.Rows.Single(r => r.Group.Label.StartsWith("Optim4RL α", StringComparison.Ordinal));
        var untrained = task.Rows.Single(r => r.Group.Label.StartsWith("Optim4RL-untrained", StringComparison.Ordinal));
        Assert.Equal(1.0, task.Normalised(adam)!.Value.Mean, 12);
        // (0.515 + 0.6) / (0.915 + 0.6)
        Assert.Equal(1.115 / 1.515, task.Normalised(learned)!.Value.Mean, 12);
        var n = task.Normalised(learned)!.Value;
        Assert.Equal((learned.Summary.Low + 0.6) / 1.515, n.Low, 12);
        Assert.Equal((learned.Summary.High + 0.6) / 1.515, n.High, 12);
        Assert.Null(task.OverlapsCompared(adam));
        Assert.False(task.OverlapsCompared(learned));
        Assert.True(task.OverlapsCompared(untrained)); // mean 0.91 against 0.915, both spread over ±0.015

        string md = FinalReturnReport.Markdown([task], "t", settings);
        Assert.Contains("R_random: -0.6 ± 0.008 (standard error; 10000 episodes, uniform over the 3 actions), from `r.json`", md, StringComparison.Ordinal);
        Assert.Contains("| CI overlaps Adam α=1e-3? |", md, StringComparison.Ordinal);
        Assert.Contains($"| Optim4RL α=1e-3 | 4 | 0.515 | {FinalReturnReport.F(learned.Summary.HalfWidth)} | [{FinalReturnReport.F(learned.Summary.Low)}, {FinalReturnReport.F(learned.Summary.High)}] | 0.736 |", md, StringComparison.Ordinal);
        Assert.Matches(@"\| Optim4RL α=1e-3 \|[^\n]*\| no \|\n", md);
        Assert.Matches(@"\| Optim4RL-untrained α=1e-3 \*\(untrained φ\)\* \|[^\n]*\| yes \|\n", md);
        Assert.Matches(@"\| Adam α=1e-3 \| 4 \| 0\.915 \|[^\n]*\| 1\.000 \|[^\n]*\| — \|\n", md);

        // An explicit comparison target, and normalisation switched off.
        var off = settings with { Normalise = false, CompareWith = GroupSelector.Parse("agent_optim.name=Optim4RL") };
        var t2 = Assert.Single(FinalReturnReport.Build(groups, off));
        Assert.Null(t2.Reference);
        Assert.Null(t2.Normalised(learned));
        Assert.Equal("Optim4RL α=1e-3", t2.Compared!.Group.Label);
        Assert.False(t2.OverlapsCompared(adam));
        string md2 = FinalReturnReport.Markdown([t2], "t", off);
        Assert.Contains("Reference (score 1): none (normalisation off (--normalise-by none))", md2, StringComparison.Ordinal);
        Assert.Matches(@"\| Adam α=1e-3 \| 4 \| 0\.915 \|[^\n]*\| n/a \| n/a \| no \|\n", md2);
    }

    [Fact]
    public void Several_adam_groups_without_normalise_by_leave_the_score_out_and_say_why()
    {
        var groups = RunGrouping.Group(RunSet.LoadAll([Sweep()]));
        var task = Assert.Single(FinalReturnReport.Build(groups, new ReportSettings()));
        Assert.Null(task.Reference);
        Assert.Null(task.Compared);
        Assert.Contains("2 Adam configurations", task.ReferenceNote, StringComparison.Ordinal);
        string md = FinalReturnReport.Markdown([task], "t", new ReportSettings());
        Assert.DoesNotContain("CI overlaps", md, StringComparison.Ordinal);
        Assert.Contains("--normalise-by", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Ppo_runs_use_their_last_three_deterministic_evaluations()
    {
        // A PPO run: its training curve says 100, its last three deterministic evaluations 10, 20, 30
        // (the first ones 0 and 5 are outside the window); an A2C run on the same task keeps its rule.
        string ppo = SyntheticRuns.Write(_tmp.Path, "ppo", 1, "Adam", 3e-4, 1, SyntheticRuns.One("ant", SyntheticRuns.Curve(30, 10, _ => 100)), agent: "PPO");
        File.WriteAllText(Path.Combine(ppo, EvaluationProtocol.DeterministicEvaluationFileName("ant")),
            ResultCsv.Format([new ResultRow(0, 0), new ResultRow(100, 5), new ResultRow(200, 10), new ResultRow(300, 20), new ResultRow(400, 30)]));
        File.WriteAllText(Path.Combine(ppo, "eval_stochastic_ant.csv"), ResultCsv.Format([new ResultRow(400, -7)]));
        SyntheticRuns.Write(_tmp.Path, "ppo", 2, "RMSProp", 3e-4, 2, SyntheticRuns.One("ant", SyntheticRuns.Curve(30, 10, s => s)), agent: "A2C");
        var runs = RunSet.LoadAll([_tmp["ppo"]]);
        Assert.Equal(20.0, FinalReturnReport.FinalReturnOf(runs[0], "ant", FinalReturnDefinition.Protocol), 12);
        Assert.Equal(Mean(110, 300), FinalReturnReport.FinalReturnOf(runs[1], "ant", FinalReturnDefinition.Protocol), 12);
        // Fixed rules apply to every run; eval:N gives nothing for a run without evaluations.
        Assert.Equal(100.0, FinalReturnReport.FinalReturnOf(runs[0], "ant", FinalReturnDefinition.Parse("last:20")), 12);
        Assert.Equal(16.25, FinalReturnReport.FinalReturnOf(runs[0], "ant", FinalReturnDefinition.Parse("eval:4")), 12);
        Assert.True(double.IsNaN(FinalReturnReport.FinalReturnOf(runs[1], "ant", FinalReturnDefinition.Parse("eval:3"))));

        // A PPO run with evaluations only (no training curve rows) is still reported.
        string evalOnly = SyntheticRuns.Write(_tmp.Path, "ppo2", 1, "Adam", 3e-4, 1, new Dictionary<string, IReadOnlyList<ResultRow>>(), agent: "PPO");
        File.WriteAllText(Path.Combine(evalOnly, EvaluationProtocol.DeterministicEvaluationFileName("hopper")), ResultCsv.Format([new ResultRow(0, 1), new ResultRow(1, 2)]));
        var r = Assert.Single(FinalReturnReport.Compute(RunGrouping.Group(RunSet.LoadAll([_tmp["ppo2"]]))));
        Assert.Equal(("hopper", 1.5), (r.Env, r.Summary.Mean));

        static double Mean(long from, long to) => Enumerable.Range((int)from / 10, (int)(to - from) / 10 + 1).Select(i => i * 10.0).Average();
    }

    [Fact]
    public void Group_selectors_match_numbers_text_and_wildcards()
    {
        Assert.True(GroupSelector.ValueMatches("0.003", "3e-3"));
        Assert.True(GroupSelector.ValueMatches("adam", "Adam"));
        Assert.False(GroupSelector.ValueMatches("AdamW", "Adam"));
        Assert.True(GroupSelector.ValueMatches("logs/untrained/param.json", "*untrained*"));
        Assert.False(GroupSelector.ValueMatches("logs/meta/1/param.json", "*untrained*"));
        var sel = GroupSelector.Parse(" agent_optim.name=Adam , agent_optim.kwargs.learning_rate=1e-3 ");
        Assert.Equal([("agent_optim.name", "Adam"), ("agent_optim.kwargs.learning_rate", "1e-3")], sel.Terms);
        var groups = RunGrouping.Group(RunSet.LoadAll([Sweep()]));
        Assert.Equal(["Adam α=1e-3"], groups.Where(sel.Matches).Select(g => g.Label));
        Assert.Throws<ArgumentException>(() => GroupSelector.Parse("Adam"));
        Assert.Throws<ArgumentException>(() => GroupSelector.Parse(" , "));
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
