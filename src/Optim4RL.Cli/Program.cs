namespace Optim4RL.Cli;

/// <summary>Entry point of the <c>optim4rl</c> command-line tool.</summary>
public static class Program
{
    /// <summary>Runs the CLI.</summary>
    public static int Main(string[] args) => 0;
}
