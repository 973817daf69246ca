namespace Optim4RL.Analysis;

/// <summary>
/// The project's figures as gnuplot scripts (rendered by <see cref="Gnuplot.Render"/> to SVG and PNG):
/// learning curves with bootstrap bands, and gradient-distribution histograms per training stage.
/// </summary>
public static class Figures
{
    /// <summary>
    /// Learning curves: one panel per task, one line per configuration (mean over seeds) with its
    /// shaded band; a configuration keeps its colour in every panel (also where only its α differs between
    /// tasks). The legend sits outside the
    /// plotted area, to the right of each panel (the panel widens to fit the longest label); each
    /// entry gives the number of seeds (<c>n=2–3</c> where some runs stop earlier). A title too long
    /// for the figure's width is wrapped at word boundaries.
    /// </summary>
    /// <param name="bands">From <see cref="LearningCurves.Aggregate"/>.</param>
    /// <param name="outputBase">Output path without extension.</param>
    /// <param name="title">Figure title (null: none).</param>
    /// <param name="level">The band's confidence level (for the axis note).</param>
    /// <param name="executable">gnuplot to run (default <see cref="Gnuplot.DefaultExecutable"/>).</param>
    /// <param name="metric">The metrics.csv column the bands show (<see cref="MetricSeries"/>), named on the y axis; null for returns.</param>
    /// <returns>The files written.</returns>
    /// <exception cref="ArgumentException">No bands.</exception>
    /// <exception cref="GnuplotMissingException">gnuplot cannot be started.</exception>
    /// <exception cref="GnuplotException">gnuplot failed.</exception>
    public static (string Svg, string Png, string Script) LearningCurves(IReadOnlyList<CurveBand> bands, string outputBase, string? title, double level = Bootstrap.DefaultLevel, string? executable = null,
        string? metric = null)
    {
        ArgumentNullException.ThrowIfNull(bands);
        if (bands.Count == 0) throw new ArgumentException("No learning curves to plot.", nameof(bands));
        var envs = bands.Select(b => b.Env).Distinct().ToList();
        // A configuration keeps its colour across panels even where its α differs per task (the demo's
        // Adam α=1e-3 on catch and α=1e-2 on a gridworld), unless that would merge two lines of one panel.
        var colourKeys = bands.Select(b => System.Text.RegularExpressions.Regex.Replace(b.Label, @" α=\S+", "")).ToList();
        if (envs.Any(env => Enumerable.Range(0, bands.Count).Where(i => bands[i].Env == env).Select(i => colourKeys[i]).GroupBy(k => k).Any(g => g.Count() > 1)))
            colourKeys = bands.Select(b => b.Label).ToList();
        var colours = colourKeys.Distinct().ToList();
        var data = new StringBuilder();
        for (int i = 0; i < bands.Count; i++)
        {
            var b = bands[i];
            data.Append(Gnuplot.Datablock($"c{i}", Enumerable.Range(0, b.Steps.Length).Select(j => (IReadOnlyList<double>)[b.Steps[j], b.Mean[j], b.Low[j], b.High[j]])));
        }

        var legends = bands.Select(b => $"{b.Label} (n={(b.MinCoverage < b.Runs ? $"{b.MinCoverage}–{b.Runs}" : b.Runs.ToString(CultureInfo.InvariantCulture))})").ToList();
        int cols = Math.Min(envs.Count, 2), rows = (envs.Count + cols - 1) / cols;
        // The plotted area keeps its size; the key's column is added beside it (≈ 6 px per character at 10 pt, plus the sample line).
        int keyWidth = 50 + 6 * legends.Max(l => l.Length);
        int panelW = 700 + keyWidth, panelH = 440;
        int width = cols * panelW;
        var titleLines = title is null ? [] : Gnuplot.Wrap(title, width / 10);
        int height = rows * panelH + 34 * titleLines.Count;
        var body = new StringBuilder();
        body.Append(CultureInfo.InvariantCulture, $"set multiplot layout {rows},{cols}");
        if (titleLines.Count > 0) body.Append(" title ").Append(Gnuplot.QuoteLines(titleLines)).Append(" noenhanced font ',15'");
        body.Append('\n');
        double maxStep = bands.Max(b => b.Steps[^1]);
        (double scale, string unit) = maxStep >= 2e6 ? (1e6, " (millions)") : maxStep >= 2e3 ? (1e3, " (thousands)") : (1.0, "");
        body.Append("set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n");
        body.Append("set xlabel 'environment steps").Append(unit).Append("' noenhanced\n");
        body.Append("set ylabel ").Append(Gnuplot.Quote($"{metric ?? "return"} (mean over seeds, {(level * 100).ToString("0.#", CultureInfo.InvariantCulture)} % bootstrap CI)")).Append(" noenhanced\n");
        body.Append("set key outside right top vertical Left reverse noenhanced samplen 2 spacing 1.2 font ',10'\n");
        foreach (string env in envs)
        {
            var mine = Enumerable.Range(0, bands.Count).Where(i => bands[i].Env == env).ToList();
            string series = metric is not null ? " (metrics.csv, per update)" : mine.All(i => bands[i].Evaluation) ? " (deterministic evaluations)" : mine.Any(i => bands[i].Evaluation) ? "" : " (training episodes)";
            body.Append("set title ").Append(Gnuplot.Quote(env + series)).Append(" noenhanced\n");
            var parts = new List<string>();
            foreach (int i in mine)
            {
                string c = Gnuplot.Palette[colours.IndexOf(colourKeys[i]) % Gnuplot.Palette.Count];
                string x = $"($1/{Gnuplot.Num(scale)})";
                parts.Add($"$c{i} using {x}:3:4 with filledcurves fc rgb '{c}' fs transparent solid 0.18 noborder notitle");
                parts.Add($"$c{i} using {x}:2 with lines lw 2 lc rgb '{c}' title {Gnuplot.Quote(legends[i])}");
            }

            body.Append("plot ").Append(string.Join(", \\\n     ", parts)).Append('\n');
        }

        body.Append("unset multiplot");
        return Gnuplot.Render(outputBase, data.ToString(), body.ToString(), width, height, executable);
    }

    /// <summary>
    /// Gradient-distribution histograms: one panel per gradient file (RL runs, then the supervised
    /// contrast when given), the training stages overlaid as step histograms of
    /// log10(|x| + 1e−8), with the 1e−6 threshold dashed.
    /// </summary>
    /// <param name="result">From <see cref="GradientAnalysis.Analyze"/>.</param>
    /// <param name="outputBase">Output path without extension.</param>
    /// <param name="title">Figure title (null: a default naming the quantity).</param>
    /// <param name="logY">Logarithmic density axis (default), so the tails and the spike of exact zeros at −8 are visible together.</param>
    /// <param name="executable">gnuplot to run (default <see cref="Gnuplot.DefaultExecutable"/>).</param>
    /// <returns>The files written.</returns>
    /// <exception cref="GnuplotMissingException">gnuplot cannot be started.</exception>
    /// <exception cref="GnuplotException">gnuplot failed.</exception>
    public static (string Svg, string Png, string Script) GradientHistograms(GradientAnalysisResult result, string outputBase, string? title, bool logY = true, string? executable = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var ordered = result.Histograms.Where(h => h.Series.Data.Header.Kind != Experiments.GradientFileHeader.KindSupervised)
            .Concat(result.Histograms.Where(h => h.Series.Data.Header.Kind == Experiments.GradientFileHeader.KindSupervised)).ToList();
        string symbol = result.Quantity == GradientQuantity.Gradient ? "g" : "Δθ";
        title ??= result.Quantity == GradientQuantity.Gradient
            ? "Distribution of gradients over training: log10(|g| + 1e-8)"
            : "Distribution of parameter updates over training: log10(|Δθ| + 1e-8)";
        int bins = result.Bins;
        double hi = result.BinLow + bins * result.BinWidth;
        var data = new StringBuilder();
        for (int i = 0; i < ordered.Count; i++)
        {
            var h = ordered[i];
            var rows = new List<IReadOnlyList<double>>();
            for (int b = 0; b <= bins; b++)
            {
                var row = new double[h.Densities.Count + 1];
                row[0] = result.BinLow + b * result.BinWidth;
                for (int s = 0; s < h.Densities.Count; s++) row[s + 1] = h.Densities[s][Math.Min(b, bins - 1)];
                rows.Add(row);
            }

            data.Append(Gnuplot.Datablock($"h{i}", rows));
        }

        int cols = Math.Min(ordered.Count, 3), gridRows = (ordered.Count + cols - 1) / cols;
        int width = cols * 560, height = gridRows * 520 + 40;
        var body = new StringBuilder();
        body.Append(CultureInfo.InvariantCulture, $"set multiplot layout {gridRows},{cols} title {Gnuplot.Quote(title)} noenhanced font ',15'\n");
        body.Append("set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\n");
        body.Append(CultureInfo.InvariantCulture, $"set xrange [{Gnuplot.Num(result.BinLow)}:{Gnuplot.Num(hi)}]\nset xtics 1\n");
        body.Append(CultureInfo.InvariantCulture, $"set xlabel {Gnuplot.Quote($"log10(|{symbol}| + 1e-8)")} noenhanced\n");
        body.Append(logY ? "set ylabel 'probability density (log scale)' noenhanced\nset logscale y\nset format y '10^{%L}'\n" : "set ylabel 'probability density' noenhanced\n");
        // The key goes under each panel, outside the plotted area.
        body.Append("set key outside below center vertical maxrows 3 Left reverse noenhanced samplen 2 font ',10'\nset bmargin 8\n");
        double tiny = Math.Log10(GradientAnalysis.TinyThreshold);
        body.Append(CultureInfo.InvariantCulture, $"set arrow 1 from {Gnuplot.Num(tiny)}, graph 0 to {Gnuplot.Num(tiny)}, graph 1 nohead dt 2 lw 1.5 lc rgb '#888888'\n");
        body.Append(CultureInfo.InvariantCulture, $"set label 1 '|{symbol}| = 1e-6' at {Gnuplot.Num(tiny + 0.1)}, graph 0.04 left noenhanced font ',9' tc rgb '#666666'\n");
        string[] stageColours = StageColours(ordered.Max(h => h.Stages.Count));
        for (int i = 0; i < ordered.Count; i++)
        {
            var h = ordered[i];
            var header = h.Series.Data.Header;
            string panelTitle = $"{h.Series.Name}\\nP = {header.ParamCount}, 1 coordinate in {header.Stride} recorded, {h.Series.Data.Records} updates";
            body.Append("set title \"").Append(panelTitle.Replace("\"", "'", StringComparison.Ordinal)).Append("\" noenhanced font ',11'\n");
            double max = h.Densities.SelectMany(d => d).Max();
            double minPositive = h.Densities.SelectMany(d => d).Where(d => d > 0).DefaultIfEmpty(1).Min();
            body.Append(logY
                ? $"set yrange [{Gnuplot.Num(Math.Pow(10, Math.Floor(Math.Log10(minPositive))))}:{Gnuplot.Num(max * 3)}]\n"
                : $"set yrange [0:{Gnuplot.Num(max * 1.1)}]\n");
            var parts = new List<string>();
            for (int s = 0; s < h.Stages.Count; s++)
            {
                var st = h.Stages[s];
                string c = stageColours[s];
                if (!logY) parts.Add($"$h{i} using 1:{s + 2} with fillsteps fc rgb '{c}' fs transparent solid 0.12 noborder notitle");
                string legend = $"{st.Label} (updates {st.FirstUpdate}–{st.LastUpdate})";
                parts.Add($"$h{i} using 1:{s + 2} with steps lw 2 lc rgb '{c}' title {Gnuplot.Quote(legend)}");
            }

            body.Append("plot ").Append(string.Join(", \\\n     ", parts)).Append('\n');
        }

        body.Append("unset multiplot");
        return Gnuplot.Render(outputBase, data.ToString(), body.ToString(), width, height, executable);
    }

    /// <summary>Colours for stages in time order: blue, green, red for three; the palette otherwise.</summary>
    private static string[] StageColours(int n) => n <= 3
        ? new[] { "#1f77b4", "#2ca02c", "#d62728" }[..Math.Max(n, 1)]
        : Enumerable.Range(0, n).Select(i => Gnuplot.Palette[i % Gnuplot.Palette.Count]).ToArray();
}
