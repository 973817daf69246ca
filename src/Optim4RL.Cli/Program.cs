using System.CommandLine;
using Optim4RL.Cli.Commands;
using Ui = Optim4RL.Cli.Commands.Ui;

namespace Optim4RL.Cli;

/// <summary>Entry point of the <c>optim4rl</c> command-line tool.</summary>
public static class Program
{
    /// <summary>Parses the arguments and runs the chosen verb; returns the process exit code.</summary>
    public static int Main(string[] args)
    {
        // Bind Spectre.Console to the current standard output (it would otherwise keep the first one it saw).
        // No escape codes into files and pipes, nor when NO_COLOR is set (no-color.org).
        bool plain = Console.IsOutputRedirected || Ui.NoColor;
        Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(Console.Out),
            Ansi = plain ? Spectre.Console.AnsiSupport.No : Spectre.Console.AnsiSupport.Detect,
            ColorSystem = plain ? Spectre.Console.ColorSystemSupport.NoColors : Spectre.Console.ColorSystemSupport.Detect,
        });
        // Logs and CI capture output: give tables room instead of the 80-column fallback.
        if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 200;
        var root = new RootCommand(
            "Optim4RL.NET: learned optimizers for reinforcement learning (Lan et al., RLC 2024).\n" +
            "Verbs: demo (meta-train then evaluate, defaults built in), run (one configuration of a sweep file), " +
            "sweep (count or run a sweep file), evaluate (reload a run's saved policy and measure its return), bench (throughput and memory), analyze gradients, plot (learning curves), report (final returns under the evaluation protocol), baseline random (R_random for the normalised score).")
        {
            DemoCommand.Create(),
            RunCommand.Create(),
            SweepCommand.Create(),
            EvaluateCommand.Create(),
            BenchCommand.Create(),
            AnalyzeCommand.Create(),
            PlotCommand.Create(),
            ReportCommand.Create(),
            BaselineCommand.Create(),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && args.Length > 0)
        {
            // One line naming the problem (not the whole help text); the verb's --help has the rest.
            string verb = parse.CommandResult.Command == root ? "" : parse.CommandResult.Command.Name + " ";
            Ui.Error($"{parse.Errors[0].Message.TrimEnd('.')}. See 'optim4rl {verb}--help'.");
            return 1;
        }

        try
        {
            // On Ctrl-C the verbs finish the current iteration and write a checkpoint; give them time
            // before System.CommandLine would terminate the process (its default is 2 s).
            return parse.Invoke(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(120), EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Ui.Unexpected(e, args);
        }
    }
}
