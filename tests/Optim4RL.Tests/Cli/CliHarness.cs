namespace Optim4RL.Tests.Cli;

/// <summary>Runs the CLI's entry point in-process as a user would type a command, capturing what it prints.</summary>
internal static class CliHarness
{
    /// <summary>The exit code and everything written to stdout and stderr (the process's console is redirected for the call).</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            int code = Optim4RL.Cli.Program.Main(args);
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
