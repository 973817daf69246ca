using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Optim4RL.Agents;
using Optim4RL.Experiments;
using Optim4RL.Meta;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Docs;

/// <summary>
/// docs/estimators.md promises that a third meta-gradient estimator is one new file plus one registration line.
/// Its example file and its registration line are compiled here exactly as written (Roslyn, warnings as errors,
/// against this build's assemblies), and MetaA2C meta-trains Optim4RL on Catch through the compiled estimator for two
/// meta-iterations.
/// </summary>
[Trait("Category", "Readme")]
public class EstimatorExampleTests
{
    [Fact]
    public void The_documented_third_estimator_compiles_registers_and_meta_trains()
    {
        string doc = File.ReadAllText(Path.Combine(ExternalProcess.RepoRoot(), "docs", "estimators.md"));
        var blocks = ReadmeExamplesTests.CSharpBlocks(doc);
        string file = Assert.Single(blocks, b => b.Code.Contains(": IMetaGradientEstimator", StringComparison.Ordinal)).Code;
        string line = Assert.Single(blocks, b => b.Code.TrimStart().StartsWith("new(", StringComparison.Ordinal)).Code.Trim();
        Assert.DoesNotContain('\n', line); // one line
        string registration = "using Optim4RL.Meta;\nnamespace DocsCheck;\npublic static class Registry\n{\n    public static readonly Optim4RL.Experiments.MetaEstimatorKind[] All =\n    [\n        "
            + line + "\n    ];\n}\n";

        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        string runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = Directory.GetFiles(runtimeDir, "System*.dll").Append(Path.Combine(runtimeDir, "netstandard.dll"))
            .Where(IsManaged)
            .Concat(new[] { typeof(IMetaGradientEstimator).Assembly.Location, typeof(MetaEstimators).Assembly.Location })
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("EstimatorExample",
            [CSharpSyntaxTree.ParseText(file, parse, path: "RandomDirections.cs"), CSharpSyntaxTree.ParseText(registration, parse, path: "Registration.cs"),
             CSharpSyntaxTree.ParseText(ReadmeExamplesTests.ImplicitUsings, parse, path: "ImplicitUsings.cs")], // the library project's implicit usings
            references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(emitted.Success && problems.Count == 0, string.Join("\n", problems));

        var assembly = Assembly.Load(image.ToArray());
        var kinds = (MetaEstimatorKind[])assembly.GetType("DocsCheck.Registry")!.GetField("All")!.GetValue(null)!;
        var kind = Assert.Single(kinds);
        Assert.Equal("RD", kind.Name);
        var estimator = (IMetaGradientEstimator)Activator.CreateInstance(assembly.GetType("Optim4RL.Meta.RandomDirections")!, 7UL)!;

        var lopt = LearnedOptimizers.Create("Optim4RL");
        var cfg = new MetaA2CConfig([new MetaTaskConfig("catch", 4, 3e-2f, 1f, 4)], 1_000_000,
            InnerUpdates: 4, Pipeline: true, GradClip: -1, MaxNorm: -1, new A2CConfig(), Seed: 3);
        var meta = new MetaA2C(cfg, lopt, Optax.FromConfig("Adam", 1e-2), estimator: estimator);
        for (int i = 1; i <= 2; i++)
        {
            var log = meta.Step();
            // The trainer ran the compiled estimator: the steps are its own count (two K-update runs, not BPTT's B·T·(K+1)).
            Assert.Equal(estimator.StepsPerIteration(meta.Problems[0]), log.EnvSteps);
            Assert.True(double.IsFinite(log.MetaLoss) && double.IsFinite(log.MetaGradNorm));
        }
        Assert.Equal(2, meta.Iteration);
        Assert.All(meta.Phi, v => Assert.True(float.IsFinite(v)));
    }

    private static bool IsManaged(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
