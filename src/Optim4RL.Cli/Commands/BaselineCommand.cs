using System.CommandLine;
using Optim4RL.Experiments;
using Spectre.Console;

namespace Optim4RL.Cli.Commands;

/// <summary><c>optim4rl baseline random --env TASK… [--episodes N]</c>: R_random, the return of a uniformly random policy, for the normalised score.</summary>
internal static class BaselineCommand
{
    public static Command Create()
    {
        var env = new Option<string[]>("--env")
        {
            Description = "Task(s): a discrete task (catch, a gridworld or its abbreviation) or a MuJoCo task; repeat the option or separate with commas.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var episodes = new Option<int>("--episodes") { Description = "Episodes per task (at least; every environment runs the same number).", DefaultValueFactory = _ => RandomBaseline.DefaultEpisodes };
        var numEnvs = new Option<int>("--num-envs") { Description = "Environments run side by side.", DefaultValueFactory = _ => RandomBaseline.DefaultNumEnvs };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the environments and the random policy.", DefaultValueFactory = _ => 0UL };
        var output = new Option<string>("--output")
        {
            Description = "The JSON file the measurements are added to (other tasks in it are kept); 'report --random-returns' reads it.",
            DefaultValueFactory = _ => RandomBaseline.DefaultFile,
        }.OutputFile();
        var random = new Command("random",
            "Measure the mean episode return of a uniformly random policy (discrete tasks: every action equally likely; continuous tasks: " +
            "every action coordinate uniform in [-1, 1]) with its standard error, and add it to the R_random file the report's normalised score uses.")
        {
            env, episodes, numEnvs, seed, output,
        };
        random.SetAction((pr, ct) => Task.FromResult(Execute(pr.GetValue(env)!, pr.GetValue(episodes), pr.GetValue(numEnvs), pr.GetValue(seed), pr.GetValue(output)!, ct)));
        return new Command("baseline", "Reference returns for the evaluation protocol. Sub-verb: random (R_random of the normalised score).") { random };
    }

    private static int Execute(string[] envs, int episodes, int numEnvs, ulong seed, string output, CancellationToken cancel)
    {
        var tasks = envs.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (tasks.Count == 0) return Ui.Error("--env is empty; give a task such as catch or big_dense_long.");
        if (episodes < 1) return Ui.Error("--episodes must be ≥ 1.");
        if (numEnvs < 1) return Ui.Error("--num-envs must be ≥ 1.");
        try
        {
            var measured = Ui.WithProgress("episodes", p => tasks.Select(t => RandomBaseline.Measure(t, episodes, numEnvs, seed, p, cancel)).ToList());
            var table = new Table().Title("Return of a uniformly random policy (R_random)")
                .AddColumn("task").AddColumn(new TableColumn("episodes").RightAligned()).AddColumn(new TableColumn("mean return").RightAligned())
                .AddColumn(new TableColumn("std").RightAligned()).AddColumn(new TableColumn("standard error").RightAligned()).AddColumn("policy");
            foreach (var r in measured)
                table.AddRow(Markup.Escape(r.Env), r.Episodes.ToString(System.Globalization.CultureInfo.InvariantCulture), Analysis.FinalReturnReport.F(r.Mean),
                    Analysis.FinalReturnReport.F(r.StdDev), Analysis.FinalReturnReport.F(r.StdErr), Markup.Escape(r.Policy));
            AnsiConsole.Write(table);
            RandomBaseline.Save(output, measured);
            AnsiConsole.MarkupLine($"Added to [blue]{Markup.Escape(output)}[/]");
            return 0;
        }
        catch (OperationCanceledException)
        {
            return Ui.Error("Interrupted; nothing was written.");
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException or InvalidOperationException
                                       or Envs.MuJoCo.MuJoCoException)
        {
            return Ui.Error(e);
        }
    }
}
