using System.Text.RegularExpressions;

namespace Optim4RL.Tests;

/// <summary>
/// The library's folders are layers; a lower layer never references a higher one (README, "Architecture"). The
/// MuJoCo assembly (src/Optim4RL.MuJoCo, namespace Optim4RL.Envs.MuJoCo) sits in the environments layer; the
/// experiments assembly (src/Optim4RL.Experiments, folders Experiments and Analysis) holds the two top layers; the
/// library assembly references none of them, nor the CLI.
/// </summary>
public class ArchitectureTests
{
    private static readonly string[] Layers = ["Io", "Distributed", "Tensors", "Autodiff", "Nn", "Envs", "Optimizers", "Agents", "Supervised", "Meta", "Experiments", "Analysis"];

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Optim4RL.slnx"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return dir!.FullName;
    }

    /// <summary>The source folders whose first-level folders are layers: the library and the experiments assembly.</summary>
    private static IEnumerable<string> SourceRoots() =>
        new[] { "Optim4RL", "Optim4RL.Experiments" }.Select(p => Path.Combine(RepoRoot(), "src", p));

    [Fact]
    public void Lower_layers_never_reference_higher_layers()
    {
        var violations = new List<string>();
        foreach (var root in SourceRoots())
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(root, file);
            if (rel.StartsWith("obj") || rel.StartsWith("bin")) continue;
            int own = Array.IndexOf(Layers, rel.Split(Path.DirectorySeparatorChar)[0]);
            if (own < 0) continue;
            string text = File.ReadAllText(file);
            for (int higher = own + 1; higher < Layers.Length; higher++)
                if (Regex.IsMatch(text, $@"\bOptim4RL\.{Layers[higher]}\b"))
                    violations.Add($"{rel} ({Layers[own]}) references Optim4RL.{Layers[higher]}");
        }
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void The_mujoco_assembly_stays_in_the_environments_layer()
    {
        string root = Path.Combine(RepoRoot(), "src", "Optim4RL.MuJoCo");
        int envs = Array.IndexOf(Layers, "Envs");
        var violations = new List<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(root, file);
            if (rel.StartsWith("obj") || rel.StartsWith("bin")) continue;
            string text = File.ReadAllText(file);
            for (int higher = envs + 1; higher < Layers.Length; higher++)
                if (Regex.IsMatch(text, $@"\bOptim4RL\.{Layers[higher]}\b"))
                    violations.Add($"{rel} (MuJoCo, Envs) references Optim4RL.{Layers[higher]}");
        }
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void The_library_assembly_references_neither_the_mujoco_nor_the_experiments_assembly_nor_the_cli()
    {
        var library = typeof(Optim4RL.Tensors.Rng).Assembly;
        Assert.Equal("Optim4RL", library.GetName().Name);
        var referenced = library.GetReferencedAssemblies().Select(a => a.Name).ToArray();
        Assert.DoesNotContain("Optim4RL.MuJoCo", referenced);
        Assert.DoesNotContain("Optim4RL.Cli", referenced);
        Assert.DoesNotContain("Optim4RL.Experiments", referenced);
        Assert.DoesNotContain(library.GetTypes(), t => t.Namespace is "Optim4RL.Envs.MuJoCo" or "Optim4RL.Experiments" or "Optim4RL.Analysis");
        Assert.DoesNotContain(library.GetManifestResourceNames(), n => n.Contains("MuJoCo", StringComparison.Ordinal));

        var mujoco = typeof(Optim4RL.Envs.MuJoCo.MuJoCoTasks).Assembly;
        Assert.Equal("Optim4RL.MuJoCo", mujoco.GetName().Name);
        Assert.Contains("Optim4RL", mujoco.GetReferencedAssemblies().Select(a => a.Name));
        Assert.DoesNotContain("Optim4RL.Cli", mujoco.GetReferencedAssemblies().Select(a => a.Name));
        Assert.DoesNotContain("Optim4RL.Experiments", mujoco.GetReferencedAssemblies().Select(a => a.Name));

        var experiments = typeof(Optim4RL.Experiments.SweepConfig).Assembly;
        Assert.Equal("Optim4RL.Experiments", experiments.GetName().Name);
        Assert.DoesNotContain("Optim4RL.Cli", experiments.GetReferencedAssemblies().Select(a => a.Name));
        Assert.Contains(experiments.GetTypes(), t => t.Namespace == "Optim4RL.Analysis");
    }

    /// <summary>Plumbing a program using the library never calls stays internal (the CLI, experiments, MuJoCo and tests see it).</summary>
    [Theory]
    [InlineData("Optim4RL.Io.BinaryArrays")]
    [InlineData("Optim4RL.Io.CheckpointFile")]
    [InlineData("Optim4RL.Io.AtomicFile")]
    [InlineData("Optim4RL.Io.HashingStream")]
    [InlineData("Optim4RL.Io.Crc32C")]
    [InlineData("Optim4RL.Io.TensorBoardEventWriter")]
    [InlineData("Optim4RL.Io.RunLock")]
    [InlineData("Optim4RL.Io.RunInUseException")]
    [InlineData("Optim4RL.Tensors.Blas")]
    [InlineData("Optim4RL.Distributed.SelfCheck")]
    [InlineData("Optim4RL.Distributed.OrderedReduction")]
    [InlineData("Optim4RL.Distributed.StaticPartition")]
    [InlineData("Optim4RL.Agents.Gae")]
    [InlineData("Optim4RL.Agents.Categorical")]
    [InlineData("Optim4RL.Agents.TanhNormal")]
    [InlineData("Optim4RL.Agents.FirstEpisodes")]
    [InlineData("Optim4RL.Agents.EnvironmentStep")]
    [InlineData("Optim4RL.Optimizers.Learned.BFloat16Bits")]
    public void Library_plumbing_is_not_public(string typeName)
    {
        var type = typeof(Optim4RL.Tensors.Rng).Assembly.GetType(typeName);
        Assert.NotNull(type);
        Assert.False(type!.IsPublic, $"{typeName} is public");
    }
}
