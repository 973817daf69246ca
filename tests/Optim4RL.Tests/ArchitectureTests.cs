using System.Text.RegularExpressions;

namespace Optim4RL.Tests;

/// <summary>The library's folders are layers; a lower layer never references a higher one (README, "Architecture").</summary>
public class ArchitectureTests
{
    private static readonly string[] Layers = ["Io", "Distributed", "Tensors", "Autodiff", "Nn", "Envs", "Optimizers", "Agents", "Supervised", "Meta", "Experiments", "Analysis"];

    private static string SourceRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Optim4RL.slnx"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return Path.Combine(dir!.FullName, "src", "Optim4RL");
    }

    [Fact]
    public void Lower_layers_never_reference_higher_layers()
    {
        var root = SourceRoot();
        var violations = new List<string>();
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
}
