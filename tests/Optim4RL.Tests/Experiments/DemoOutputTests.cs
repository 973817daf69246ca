using Optim4RL.Experiments;
using Optim4RL.Tests.Cli;

namespace Optim4RL.Tests.Experiments;

/// <summary>The demo's output is a sweep like any other: plot and report read it.</summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed class DemoOutputTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("o4rl-demo-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public void Report_reads_the_demos_evaluation_runs()
    {
        var o = DemoOptions.Quick with
        {
            MetaTrainSteps = 16 * 20 * 5 * 3,
            EvalTasks = [new("catch", 20_000, 1e-3, 1e-3)],
            EvalEnvs = 16,
            Seeds = 2,
            OutputDir = _out,
        };
        var result = Demo.Run(o);
        Assert.True(File.Exists(Path.Combine(_out, "param_init.json")));
        Assert.Equal(8, Directory.GetDirectories(Path.Combine(_out, "eval")).Length); // 4 optimizers × 2 seeds

        var (code, output, err) = CliHarness.Run("report", Path.Combine(_out, "eval"), "--normalise-by", "none");
        Assert.True(code == 0, err);
        // Rows are labelled in words: the optimizer, its α, and which φ.
        Assert.Contains("| Adam α=1e-3 |", output, StringComparison.Ordinal);
        Assert.Contains("| Optim4RL (learned φ) α=1e-3 |", output, StringComparison.Ordinal);
        Assert.Contains("| Optim4RL (untrained φ) α=1e-3 |", output, StringComparison.Ordinal);
        Assert.Contains("| Optim4RL (pretrained φ (optim4rl-grid6)) α=1e-3 |", output, StringComparison.Ordinal);
        // The fourth row: the shipped six-gridworld φ on Catch, a task it never saw (PretrainedTests check that it learns there).
        var pretrained = result.Rows.Single(r => r.Optimizer == Demo.Pretrained);
        Assert.Equal(2, pretrained.Seeds);
        // The report's final returns are the demo table's (the same protocol, the same runs).
        var adam = result.Rows.Single(r => r.Optimizer == Demo.AdamName);
        Assert.Contains(adam.FinalMean.ToString("F3", System.Globalization.CultureInfo.InvariantCulture), output, StringComparison.Ordinal);

        // plot reads the demo's folder as given (its runs are under eval/), with the same labels in the legend.
        if (!Optim4RL.Analysis.Gnuplot.IsAvailable()) return; // scripts/setup.sh installs it; FigureCommandTests cover its absence
        var (plotCode, plotOut, plotErr) = CliHarness.Run("plot", _out);
        Assert.True(plotCode == 0, plotErr);
        Assert.Contains("Optim4RL (untrained φ) α=1e-3", plotOut, StringComparison.Ordinal);
        string svg = File.ReadAllText(Path.Combine(_out, "learning_curves.svg"));
        Assert.Contains("Optim4RL (learned φ) α=1e-3 (n=2)", svg, StringComparison.Ordinal);
        Assert.Contains("catch (training episodes)", svg, StringComparison.Ordinal);
    }
}
