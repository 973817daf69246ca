using System.CommandLine;
using Optim4RL.Analysis;

namespace Optim4RL.Cli.Commands;

/// <summary>
/// The arguments of the verbs that summarise a set of runs (plot, report): the run or sweep directories,
/// the output file, the title and the config keys that group runs into lines or rows.
/// </summary>
internal sealed record RunSetOptions(Argument<string[]> Paths, Option<string?> Output, Option<string?> Title, Option<string?> GroupBy)
{
    /// <summary>The four arguments, each with the verb's own description.</summary>
    public static RunSetOptions Create(string paths, string output, string title, string groupBy) => new(
        PathChecks.ExistingPaths("paths", paths),
        new Option<string?>("--output") { Description = output }.OutputFile(),
        new Option<string?>("--title") { Description = title },
        new Option<string?>("--group-by") { Description = groupBy });

    /// <summary>The <c>--group-by</c> keys, comma-separated; null when none are given (group by everything but the seed).</summary>
    public IReadOnlyList<string>? GroupKeys(ParseResult pr) =>
        pr.GetValue(GroupBy) is { } text && !string.IsNullOrWhiteSpace(text)
            ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : null;
}

/// <summary>The bootstrap options shared by plot and report.</summary>
internal sealed record StatOptions(Option<double> Level, Option<int> Resamples, Option<ulong> Seed)
{
    public static StatOptions Create() => new(
        new Option<double>("--ci") { Description = "Confidence level of the bootstrap interval over seeds.", DefaultValueFactory = _ => Bootstrap.DefaultLevel },
        new Option<int>("--resamples") { Description = "Bootstrap resamples.", DefaultValueFactory = _ => Bootstrap.DefaultResamples },
        new Option<ulong>("--bootstrap-seed") { Description = "Seed of the bootstrap's random draws (fixed, so figures and tables are reproducible).", DefaultValueFactory = _ => 0UL });
}
