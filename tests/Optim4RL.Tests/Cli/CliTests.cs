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

    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    [Theory]
    [InlineData("demo")]
    [InlineData("run")]
    [InlineData("sweep")]
    [InlineData("bench")]
    [InlineData("evaluate")]
    public void Every_verb_documents_its_options(string verb)
    {
        var (code, output, _) = Run(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Options:", output);
        Assert.Contains("--", output);
    }

    [Fact]
    public void Every_verb_that_writes_runs_takes_logs_with_the_same_meaning()
    {
        foreach (string verb in new[] { "run", "sweep", "demo" })
        {
            var (code, output, _) = Run(verb, "--help");
            Assert.Equal(0, code);
            Assert.Contains("--logs", output);
            Assert.Contains("Root folder of run directories (created when missing)", output.ReplaceLineEndings(" ").Replace("  ", " "));
        }

        Assert.Contains("--output", Run("demo", "--help").Out); // the older spelling is kept
        var (c, _, err) = Run("demo", "--logs", Path.GetTempPath(), "--output", Path.GetTempPath());
        Assert.Equal(1, c);
        Assert.Contains("not both", err);
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
    [InlineData("meta_rl_grid.json", "MetaA2C")] // per-task lists (learning_rate, reward_scaling) over six tasks
    [InlineData("lopt_rl_grid_ant.json", "PPO")]
    public void Sweep_lists_every_kind_of_shipped_file(string file, string agent)
    {
        var (code, output, err) = Run("sweep", "--config", Path.Combine(RepoRoot(), "configs", file));
        Assert.True(code == 0, err);
        Assert.Contains(agent, output);
    }

    [Fact]
    public void Sweep_checks_every_index_it_lists_or_runs_and_names_the_index()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"o4rl-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "bad.json");
        // Index 2 (Adam) has a misspelled kwarg; index 1 is fine.
        File.WriteAllText(path, """
            {
              "env": [{"name": [["catch"]], "num_envs": [4], "train_steps": [800]}],
              "agent": [{"name": ["A2C"]}],
              "agent_optim": [
                {"name": ["RMSProp"], "kwargs": [{"learning_rate": [1e-3]}]},
                {"name": ["Adam"], "kwargs": [{"learning_rate": [1e-3], "grad_clipp": [1]}]}
              ],
              "seed": [1]
            }
            """);
        try
        {
            foreach (string[] args in new[] { new[] { "sweep", "--config", path }, ["sweep", "--config", path, "--run", "--logs", Path.Combine(dir, "logs")] })
            {
                var (code, _, err) = Run(args);
                Assert.Equal(1, code);
                Assert.Single(err.Trim().Split('\n'));
                Assert.Contains("config 2: config key 'agent_optim.kwargs.grad_clipp' is not a key of A2C configs (did you mean 'agent_optim.kwargs.grad_clip'?)", err);
            }

            Assert.False(Directory.Exists(Path.Combine(dir, "logs")), "sweep --run checks every index before running the first");
            var (forced, _, _) = Run("run", "--help");
            Assert.Equal(0, forced);
            Assert.Contains("--force", Run("run", "--help").Out);
            Assert.Contains("--force", Run("sweep", "--help").Out);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
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
            Assert.Contains("config key 'env.name': unknown task 'cartpole'", err);
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

    [Fact]
    public void Sweep_listing_shows_every_key_that_varies_so_no_two_rows_look_alike()
    {
        var (code, output, _) = Run("sweep", "--config", Path.Combine(RepoRoot(), "configs", "meta_rl_catch.json"));
        Assert.Equal(0, code);
        foreach (string key in new[] { "agent.reset_interval", "meta_optim.kwargs.learning_rate", "meta_optim.kwargs.grad_norm", "meta_optim.kwargs.grad_clip" })
            Assert.Contains(key, output, StringComparison.Ordinal);
        // The 20 rows differ once the k and seed columns are dropped.
        var rows = output.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^│ \d+ ")).ToList();
        Assert.Equal(20, rows.Count);
        Assert.Equal(20, rows.Select(l => string.Join("│", l.Split('│')[2..^2])).Distinct().Count());
    }

    [Fact]
    public void Output_into_a_pipe_or_with_NO_COLOR_has_no_escape_codes()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Optim4RL.Cli.dll");
        foreach (bool noColor in new[] { false, true })
        {
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet", $"\"{cli}\" sweep --config \"{Path.Combine(RepoRoot(), "configs", "a2c_catch.json")}\"")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            if (noColor) psi.Environment["NO_COLOR"] = "1";
            using var p = System.Diagnostics.Process.Start(psi)!;
            string text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
            Assert.Contains("a2c_catch", text, StringComparison.Ordinal);
            Assert.DoesNotContain('\u001b', text);
        }
    }
}
