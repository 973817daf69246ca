using Optim4RL.Experiments;
using Optim4RL.Tests.Analysis;

namespace Optim4RL.Tests.Cli;

/// <summary><c>baseline random</c> and the evaluation-protocol options of <c>report</c>, run as a user would type them.</summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed class ProtocolCliTests : IDisposable
{
    private readonly TempDir _tmp = new("o4rl-protocol-cli-");

    public void Dispose() => _tmp.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    /// <summary>Adam (lr 1e-3 and 3e-3) and Optim4RL, 3 seeds each, on catch; every curve constant at a known value.</summary>
    private string Sweep()
    {
        int k = 1;
        foreach (var (opt, lr, value) in new[] { ("Adam", 1e-3, 0.9), ("Adam", 3e-3, 0.3), ("Optim4RL", 3e-3, 0.15) })
        {
            for (int seed = 0; seed < 3; seed++)
                SyntheticRuns.Write(_tmp.Path, "sweep", k++, opt, lr, (ulong)seed, SyntheticRuns.One("catch", SyntheticRuns.Curve(30, 10, _ => value)));
        }

        return _tmp["sweep"];
    }

    [Fact]
    public void Baseline_random_measures_catch_and_report_normalises_with_it()
    {
        string file = _tmp["results/random_returns.json"];
        var (code, output, err) = Run("baseline", "random", "--env", "catch", "--episodes", "2000", "--num-envs", "50", "--output", file);
        Assert.True(code == 0, err);
        Assert.Contains("catch", output, StringComparison.Ordinal);
        var r = RandomBaseline.Load(file)["catch"];
        Assert.Equal(2000, r.Episodes);
        Assert.InRange(r.Mean, -0.6 - 4 * 0.8 / Math.Sqrt(2000), -0.6 + 4 * 0.8 / Math.Sqrt(2000));

        // Normalise by the Adam configuration at lr 1e-3: Optim4RL's 0.15 scores (0.15 − R)/(0.9 − R).
        string md = _tmp["report.md"];
        (code, _, err) = Run("report", Sweep(), "--random-returns", file, "--normalise-by", "agent_optim.name=Adam,agent_optim.kwargs.learning_rate=1e-3", "--output", md);
        Assert.True(code == 0, err);
        string text = File.ReadAllText(md);
        string score = Optim4RL.Analysis.FinalReturnReport.F(EvaluationProtocol.NormalisedScore(0.15, r.Mean, 0.9));
        Assert.Contains($"| Optim4RL α=3e-3 | 3 | 0.150 | 0.000 | [0.150, 0.150] | {score} | [{score}, {score}] | no |", text, StringComparison.Ordinal);
        Assert.Contains("| Adam α=1e-3 | 3 | 0.900 | 0.000 | [0.900, 0.900] | 1.000 |", text, StringComparison.Ordinal);
        Assert.Contains("R_random: ", text, StringComparison.Ordinal);
        Assert.Contains("2000 episodes", text, StringComparison.Ordinal);

        // Two Adam configurations and no --normalise-by: no score, and the report says how to choose.
        (code, output, _) = Run("report", Sweep(), "--random-returns", file);
        Assert.Equal(0, code);
        Assert.Contains("2 Adam configurations", output, StringComparison.Ordinal);
        Assert.Contains("| Optim4RL α=3e-3 | 3 | 0.150 | 0.000 | [0.150, 0.150] | n/a | n/a |", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_writes_the_best_configuration_per_optimizer_as_json_for_selection_scripts()
    {
        string json = _tmp["best.json"];
        var (code, _, err) = Run("report", Sweep(), "--normalise-by", "none", "--best-json", json);
        Assert.True(code == 0, err);
        var best = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!["catch"]!;
        Assert.Equal(0.9, best["Adam"]!["final"]!.GetValue<double>(), 12); // the better of the two Adam learning rates
        Assert.Equal("0.001", best["Adam"]!["config"]!["agent_optim.kwargs.learning_rate"]!.GetValue<string>());
        Assert.Equal(3, best["Adam"]!["runs"]!.GetValue<int>());
        Assert.Equal(0.15, best["Optim4RL"]!["final"]!.GetValue<double>(), 12);
    }

    [Fact]
    public void Report_accepts_the_last_fraction_statistic_and_refuses_bad_options_in_one_line()
    {
        var (code, output, err) = Run("report", Sweep(), "--final", "last-fraction:0.1", "--normalise-by", "none", "--random-returns", _tmp["none.json"]);
        Assert.True(code == 0, err);
        Assert.Contains("--final last-fraction:0.1", output, StringComparison.Ordinal);
        Assert.Contains("mean of the last 10 % of the logged returns", output, StringComparison.Ordinal);

        foreach (var args in new[]
                 {
                     new[] { "report", Sweep(), "--final", "median" },
                     new[] { "report", Sweep(), "--normalise-by", "Adam" },
                     new[] { "report", Sweep(), "--compare-with", "=x" },
                     new[] { "report", Sweep(), "--at-step", "0" },
                     new[] { "report", Sweep(), "--at-step", "12.5" },
                     new[] { "report", Sweep(), "--at-step", "1e9" },
                     new[] { "baseline", "random", "--env", "cartpole", "--output", _tmp["r.json"] },
                     new[] { "baseline", "random", "--env", "catch", "--episodes", "0", "--output", _tmp["r.json"] },
                 })
        {
            (code, _, err) = Run(args);
            Assert.Equal(1, code);
            Assert.StartsWith("error: ", err, StringComparison.Ordinal);
            Assert.Single(err.Trim().Split('\n'));
            Assert.DoesNotContain("(Parameter", err, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(_tmp["r.json"]));
        (code, output, err) = Run("report", Sweep(), "--at-step", "1e2", "--normalise-by", "none");
        Assert.True(code == 0, err);
        Assert.Contains("Every run is cut at 100 environment steps", output, StringComparison.Ordinal);
        (_, _, err) = Run("report", Sweep(), "--at-step", "1e9");
        Assert.Contains("no run reached --at-step 1000000000 environment steps", err, StringComparison.Ordinal);
        (_, _, err) = Run("report", Sweep(), "--final", "median");
        Assert.Contains("protocol | last:N | eval:N | last-fraction:F", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Baseline_and_report_document_their_options()
    {
        var (code, output, _) = Run("baseline", "random", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--episodes", output, StringComparison.Ordinal);
        (code, output, _) = Run("report", "--help");
        Assert.Equal(0, code);
        foreach (string option in new[] { "--final", "--at-step", "--normalise-by", "--compare-with", "--untrained", "--random-returns" }) Assert.Contains(option, output, StringComparison.Ordinal);
    }
}
