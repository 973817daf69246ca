using System.CommandLine;
using Optim4RL.Cli.Commands;
using Optim4RL.Distributed;
using Ui = Optim4RL.Cli.Commands.Ui;

namespace Optim4RL.Cli;

/// <summary>Entry point of the <c>optim4rl</c> command-line tool.</summary>
public static class Program
{
    /// <summary>Parses the arguments and runs the chosen verb; returns the process exit code.</summary>
    public static int Main(string[] args)
    {
        // Under mpiexec/srun this process is one rank of a job; otherwise a job of one, and MPI is never loaded.
        Communicator world;
        try
        {
            world = Cluster.Start();
        }
        catch (DistributedException e)
        {
            return Ui.Error(e.Message);
        }

        if (world.Size > 1)
        {
            Console.SetOut(new WholeLineWriter(Console.Out));
            Console.SetError(new WholeLineWriter(Console.Error));
        }

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
            "sweep (count or run a sweep file), evaluate (reload a run's saved policy and measure its return), bench (throughput and memory), analyze gradients, plot (learning curves), report (final returns under the evaluation protocol), baseline random (R_random for the normalised score), mpi-check (test the MPI ranks of a job).")
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
            MpiCheckCommand.Create(),
        };
        using (world)
        {
            int code = Run(root, args, world);
            Console.Out.Flush();
            Console.Error.Flush();
            return code;
        }
    }

    // The verbs that spread their work over ranks; every other verb runs as one process. (bench runs under ranks only as
    // the child of one of its scaling rows, which it starts itself; it refuses anything else there.)
    private static readonly string[] RankParallelVerbs = ["sweep", "mpi-check", "run", "bench"];

    private static int Run(RootCommand root, string[] args, Communicator world)
    {
        var parse = root.Parse(args);
        string? topVerb = parse.Tokens.FirstOrDefault(t => t.Type == System.CommandLine.Parsing.TokenType.Command)?.Value;
        if (world.Size > 1 && (parse.Errors.Count > 0 || !RankParallelVerbs.Contains(topVerb)))
        {
            // Every rank reaches the same verdict without talking; one of them says it.
            if (!world.IsRoot) return 1;
            if (parse.Errors.Count == 0)
            {
                return Ui.Error($"'optim4rl {topVerb}' runs as one process, but this job has {world.Size} MPI ranks: under mpiexec only 'run' (meta-training), 'sweep --run' and 'mpi-check' use the ranks. Run it without mpiexec.");
            }
        }
        if (world.Size > 1)
        {
            // A rank that dies of an exception on another thread must stop the job, not leave the others waiting.
            AppDomain.CurrentDomain.UnhandledException += (_, e) =>
                world.Abort($"error: {Cluster.Describe(world)} failed: {(e.ExceptionObject as Exception)?.Message.ReplaceLineEndings(" ")}; stopping the job.", 1);
        }
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
            int code = Ui.Unexpected(e, args);
            if (world.Size > 1) world.Abort($"error: {Cluster.Describe(world)} failed (above); stopping the job.", code);
            return code;
        }
    }
}
