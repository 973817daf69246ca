namespace Optim4RL.Tests.Cli;

/// <summary>
/// Every verb's path options given a folder, an empty string, a missing file and a binary file:
/// a non-zero exit and one line on stderr that names the problem, never a stack trace.
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed class PathOptionTests
{
    private static readonly string Root = Directory.CreateTempSubdirectory("o4rl-paths-").FullName;
    private static readonly string Folder = Path.Combine(Root, "folder");
    private static readonly string Missing = Path.Combine(Root, "missing.json");
    private static readonly string Binary = Path.Combine(Root, "binary.json");

    static PathOptionTests()
    {
        Directory.CreateDirectory(Folder);
        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        File.WriteAllBytes(Binary, bytes);
    }

    private static string Value(string kind) => kind switch
    {
        "folder" => Folder,
        "empty" => "",
        "missing" => Missing,
        "binary" => Binary,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Verb, the arguments before the path, the path option (null = positional), and the kinds of bad value that must fail.</summary>
    public static TheoryData<string, string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string, string>();
        string logs = Path.Combine(Root, "logs");
        foreach (string kind in new[] { "folder", "empty", "missing", "binary" })
        {
            data.Add("run", $"--logs|{logs}", "--config", kind);
            data.Add("sweep", "", "--config", kind);
            data.Add("sweep", "--run", "--config", kind);
            if (kind == "folder") continue; // a folder is a valid run or sweep directory for these verbs
            data.Add("plot", "", "", kind);
            data.Add("report", "", "", kind);
            data.Add("analyze", "gradients", "", kind);
        }

        // Output folders: a file or an empty string is refused.
        string config = Path.Combine(RepoRoot(), "configs", "quick_meta_rl_catch.json");
        foreach (string kind in new[] { "empty", "binary" })
        {
            data.Add("run", $"--config|{config}", "--logs", kind);
            data.Add("sweep", $"--config|{config}|--run", "--logs", kind);
            data.Add("demo", "--quick", "--output", kind);
            data.Add("demo", "--quick", "--logs", kind);
            data.Add("analyze", $"gradients|{Folder}", "--output-dir", kind);
        }

        // Output files: a folder or an empty string is refused.
        foreach (string kind in new[] { "empty", "folder" })
        {
            data.Add("plot", Folder, "--output", kind);
            data.Add("report", Folder, "--output", kind);
            data.Add("report", Folder, "--random-returns", kind);
            data.Add("baseline", "random|--env|catch", "--output", kind);
        }

        // A damaged R_random file is refused with one line.
        data.Add("report", Folder, "--random-returns", "binary");

        return data;
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Optim4RL.slnx"))) dir = dir.Parent;
        return dir!.FullName;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_bad_path_is_one_line_naming_the_problem(string verb, string before, string option, string kind)
    {
        var args = new List<string> { verb };
        args.AddRange(before.Split('|', StringSplitOptions.RemoveEmptyEntries));
        if (option.Length > 0) args.Add(option);
        args.Add(Value(kind));

        var (code, stdout, stderr) = CliHarness.Run([.. args]);
        string err = stderr.Trim();
        string all = stdout + err;
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", all, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected", err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n'));
        Assert.StartsWith("error:", err, StringComparison.Ordinal);
        if (kind != "binary" || option.Length == 0) Assert.Contains(kind == "empty" ? "empty" : Value(kind), err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Root, "logs")), "nothing may be written for a rejected command");
    }
}
