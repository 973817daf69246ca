namespace Optim4RL.Tests;

/// <summary>
/// The repository documents itself: comments and Markdown point to pages under <c>docs/</c>, never to
/// notes that live outside the repository and that its users cannot read.
/// </summary>
public class RepositoryHygieneTests
{
    // Assembled from pieces so that this file does not match its own patterns.
    private static readonly string[] Forbidden =
    [
        "spec " + "§",
        ".." + "/shared",
        "DESIGN" + ".md",
        "spec/" + "optim4rl",
        "spec/" + "continuous-control",
    ];

    // Build outputs, run outputs and version-control data, wherever they appear.
    private static readonly HashSet<string> SkippedDirectories = new(StringComparer.Ordinal)
    {
        "bin", "obj", ".git", ".build", "logs", "TestResults", "BenchmarkDotNet.Artifacts",
    };

    // Ignored top-level folders (.gitignore) that hold local data rather than the project's files.
    private static readonly HashSet<string> SkippedTopLevel = new(StringComparer.Ordinal)
    {
        "results", ".gl", ".whl", "shared",
    };

    private const long MaxTextFileBytes = 8 << 20;

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Optim4RL.slnx"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return dir!.FullName;
    }

    private static IEnumerable<string> TextFiles(string root)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            foreach (string sub in Directory.EnumerateDirectories(dir))
            {
                string name = Path.GetFileName(sub);
                if (SkippedDirectories.Contains(name)) continue;
                if (dir == root && SkippedTopLevel.Contains(name)) continue;
                if (new DirectoryInfo(sub).LinkTarget is not null) continue;
                pending.Push(sub);
            }
            foreach (string file in Directory.EnumerateFiles(dir))
            {
                var info = new FileInfo(file);
                if (info.LinkTarget is not null || info.Length > MaxTextFileBytes) continue;
                yield return file;
            }
        }
    }

    private static bool IsBinary(byte[] bytes)
    {
        int n = Math.Min(bytes.Length, 8192);
        for (int i = 0; i < n; i++)
            if (bytes[i] == 0) return true;
        return false;
    }

    [Fact]
    public void No_file_cites_notes_outside_the_repository()
    {
        string root = RepoRoot();
        var hits = new List<string>();
        int scanned = 0;
        foreach (string file in TextFiles(root))
        {
            byte[] bytes;
            try { bytes = File.ReadAllBytes(file); }
            catch (IOException) { continue; } // held exclusively, e.g. the lock of a run in flight: not text of ours
            if (IsBinary(bytes)) continue;
            scanned++;
            string[] lines = System.Text.Encoding.UTF8.GetString(bytes).Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                foreach (string pattern in Forbidden)
                {
                    if (lines[i].Contains(pattern, StringComparison.OrdinalIgnoreCase))
                        hits.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: \"{pattern}\" in: {lines[i].Trim()}");
                }
            }
        }
        Assert.True(scanned > 100, $"Only {scanned} text files were found under {root}; is the repository root right?");
        Assert.True(hits.Count == 0,
            "These lines cite notes that are not part of the repository; point to a page under docs/ instead " +
            "(docs/algorithms.md, docs/environments.md, docs/experiment-configs.md, …):\n" + string.Join("\n", hits));
    }
}
