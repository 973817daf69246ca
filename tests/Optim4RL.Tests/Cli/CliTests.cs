namespace Optim4RL.Tests.Cli;

/// <summary>The command-line verbs, run in-process as a user would type them (they redirect the process's console).</summary>
[Collection(ProcessWideMeasurements.Name)]
public class CliTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Optim4RL.slnx"))) dir = dir.Parent;
        return dir!.FullName;
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
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

    [Theory]
    [InlineData("demo")]
    [InlineData("run")]
    [InlineData("sweep")]
    [InlineData("bench")]
    public void Every_verb_documents_its_options(string verb)
    {
        var (code, output, _) = Run(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Options:", output);
        Assert.Contains("--", output);
    }

    [Fact]
    public void Sweep_counts_the_combinations_of_a_shipped_file()
    {
        var (code, output, _) = Run("sweep", "--config", Path.Combine(RepoRoot(), "configs", "a2c_catch.json"));
        Assert.Equal(0, code);
        Assert.Contains("2 combination(s)", output);
        Assert.Contains("RMSProp", output);
    }

    [Theory]
    [InlineData("ppo_ant.json", "PPO")]
    [InlineData("collect_sl.json", "SLCollect")]
    [InlineData("meta_star_catch.json", "MetaA2C")]
    public void Sweep_lists_every_kind_of_shipped_file(string file, string agent)
    {
        var (code, output, err) = Run("sweep", "--config", Path.Combine(RepoRoot(), "configs", file));
        Assert.True(code == 0, err);
        Assert.Contains(agent, output);
    }

    [Fact]
    public void A_missing_config_file_is_one_clear_line_and_exit_code_1()
    {
        var (code, _, err) = Run("run", "--config", "/nonexistent/x.json");
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", err);
        Assert.Contains("/nonexistent/x.json", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void An_unknown_task_lists_the_valid_ones_without_dotnet_parameter_noise()
    {
        string path = Path.Combine(Path.GetTempPath(), $"o4rl-cli-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, File.ReadAllText(Path.Combine(RepoRoot(), "configs", "quick_a2c_catch.json")).Replace("\"catch\"", "\"cartpole\""));
        try
        {
            var (code, _, err) = Run("run", "--config", path, "--logs", Path.GetTempPath());
            Assert.Equal(1, code);
            Assert.Contains("Unknown task 'cartpole'", err);
            Assert.Contains("small_dense_long", err);
            Assert.DoesNotContain("(Parameter", err);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Bad_option_values_are_rejected()
    {
        Assert.NotEqual(0, Run("bench", "--only", "nope").Code);
        Assert.NotEqual(0, Run("demo", "--seeds", "0").Code);
        Assert.NotEqual(0, Run("run", "--config", Path.Combine(RepoRoot(), "configs", "a2c_catch.json"), "--config-idx", "abc").Code);
    }
}
