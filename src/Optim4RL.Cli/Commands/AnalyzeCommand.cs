using Optim4RL.Io;
using System.CommandLine;
using System.Globalization;
using Optim4RL.Analysis;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary><c>optim4rl analyze gradients RUN_DIR [RUN_DIR…]</c>: the gradient-distribution analysis (paper §3, Fig. 1).</summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var paths = PathChecks.ExistingPaths("run-dirs",
            "Run directories of A2Ccollect / SLCollect runs (their grads_<env>.bin files are read), or gradient files themselves. " +
            "Give an SLCollect run too for the supervised contrast.");
        var outputDir = new Option<string?>("--output-dir") { Description = "Folder for gradient_stats.csv and the figure gradient_hist.{svg,png,gp} (default: the first run directory)." }.OutputFolder();
        var stages = new Option<string>("--stages")
        {
            Description = "Stage positions in [0, 1], comma-separated: 0 = the first window of updates, 0.5 = the middle one, 1 = the last one.",
            DefaultValueFactory = _ => "0,0.5,1",
        };
        var width = new Option<double>("--stage-width") { Description = "Fraction of the updates in each stage window.", DefaultValueFactory = _ => GradientAnalysis.DefaultWidth };
        var binWidth = new Option<double>("--bin-width") { Description = "Histogram bin width, in decades of log10(|g| + 1e-8).", DefaultValueFactory = _ => GradientAnalysis.DefaultBinWidth };
        var quantity = new Option<string>("--quantity") { Description = "What the table and figure show: g (the gradient) or delta (the update Δθ applied). The CSV has both.", DefaultValueFactory = _ => "g" };
        quantity.AcceptOnlyFromAmong("g", "delta");
        var title = new Option<string?>("--title") { Description = "Figure title (default: names the quantity)." };
        var noFigure = new Option<bool>("--no-figure") { Description = "Only print the table and write the CSV (no gnuplot needed)." };
        var linearY = new Option<bool>("--linear-y") { Description = "Linear density axis (default: logarithmic, so the tails and the spike of exact zeros at -8 show together)." };
        var gradients = new Command("gradients",
            "Histograms of log10(|g| + 1e-8) at several stages of training (default: the first, middle and last tenth of the updates) " +
            "and summary statistics per stage (min, max, mean, std, median of log10|g|, fractions of |g| < 1e-6 and of g = 0). " +
            "Prints a table, writes gradient_stats.csv and the figure gradient_hist.svg/.png (RL stages overlaid per run, plus the supervised contrast).")
        {
            paths, outputDir, stages, width, binWidth, quantity, title, noFigure, linearY,
        };
        gradients.SetAction(pr => Execute(pr.GetValue(paths)!, pr.GetValue(outputDir), pr.GetValue(stages)!, pr.GetValue(width), pr.GetValue(binWidth),
            pr.GetValue(quantity) == "delta" ? GradientQuantity.Update : GradientQuantity.Gradient, pr.GetValue(title), !pr.GetValue(noFigure), !pr.GetValue(linearY)));
        return new Command("analyze", "Analyses of collected data. Sub-verb: gradients (the distribution of agent gradients over training).") { gradients };
    }

    public static int Execute(string[] paths, string? outputDir, string stagesText, double width, double binWidth, GradientQuantity quantity, string? title, bool figure, bool logY = true)
    {
        try
        {
            var positions = ParseList(stagesText, "--stages");
            var notes = new List<string>();
            var series = GradientAnalysis.Load(paths, notes);
            foreach (string note in notes) AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(note)}");
            var result = GradientAnalysis.Analyze(series, positions, width, binWidth, quantity);

            string q = quantity == GradientQuantity.Gradient ? "g" : "Δθ";
            AnsiConsole.MarkupLine($"Statistics of log10(|{q}| + 1e-8) per training stage:");
            foreach (var group in result.Statistics.Where(s => s.Quantity == quantity).GroupBy(s => s.Series))
            {
                var table = new Table().Title(Markup.Escape($"{group.Key} ({group.First().Values:N0} values per stage)"))
                    .AddColumn("stage").AddColumn(new TableColumn("updates").RightAligned())
                    .AddColumn(new TableColumn("min").RightAligned()).AddColumn(new TableColumn("max").RightAligned()).AddColumn(new TableColumn("mean").RightAligned())
                    .AddColumn(new TableColumn("std").RightAligned()).AddColumn(new TableColumn("median").RightAligned()).AddColumn(new TableColumn($"|{q}|<1e-6").RightAligned()).AddColumn(new TableColumn($"{q}=0").RightAligned());
                foreach (var s in group)
                {
                    table.AddRow(Markup.Escape(s.Stage.Label), $"{s.Stage.FirstUpdate}–{s.Stage.LastUpdate}",
                        F(s.Min), F(s.Max), F(s.Mean), F(s.Std), F(s.Median), s.FractionTiny.ToString("P1", CultureInfo.InvariantCulture), s.FractionZero.ToString("P1", CultureInfo.InvariantCulture));
                }

                AnsiConsole.Write(table);
            }

            string dir = outputDir ?? (Directory.Exists(paths[0]) ? paths[0] : Path.GetDirectoryName(Path.GetFullPath(paths[0])) ?? ".");
            Directory.CreateDirectory(dir);
            string csv = Path.Combine(dir, "gradient_stats.csv");
            AtomicFile.WriteAllText(csv, GradientAnalysis.StatisticsCsv(result.Statistics));
            AnsiConsole.MarkupLine($"Statistics of g and Δθ in [blue]{Markup.Escape(csv)}[/]");
            if (figure)
            {
                var files = Figures.GradientHistograms(result, Path.Combine(dir, "gradient_hist"), title, logY);
                AnsiConsole.MarkupLine($"Figure in [blue]{Markup.Escape(files.Svg)}[/] and [blue]{Markup.Escape(files.Png)}[/] (script {Markup.Escape(Path.GetFileName(files.Script))})");
            }

            return 0;
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException or GnuplotMissingException or GnuplotException)
        {
            return Ui.Error(e.Message);
        }
    }

    /// <summary>Parses a comma-separated list of numbers (invariant culture).</summary>
    public static double[] ParseList(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException($"{option}: give at least one number.");
        return parts.Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v
            : throw new ArgumentException($"{option}: '{p}' is not a number.")).ToArray();
    }

    private static string F(double x) => x.ToString("F2", CultureInfo.InvariantCulture);
}
