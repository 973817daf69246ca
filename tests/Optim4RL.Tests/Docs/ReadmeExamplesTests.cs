using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;

namespace Optim4RL.Tests.Docs;

/// <summary>
/// Every <c>```csharp</c> block of README.md and pretrained/README.md is a complete program, and it
/// compiles and runs. How: each block is compiled in-process with Roslyn (the C# 14 compiler, NuGet
/// package Microsoft.CodeAnalysis.CSharp) against the running .NET runtime and this build's Optim4RL.dll,
/// with a console project's implicit usings and nullable checking, warnings counted as errors; the
/// assembly is written with a runtimeconfig.json into a temporary folder next to copies of Optim4RL.dll and
/// its dependencies, and run in a child process of the same dotnet host with a time limit. No project
/// build or package restore is involved, so a block costs about a second of compilation plus its own
/// run time (each example is sized to run in a few seconds).
/// </summary>
[Trait("Category", "Readme")]
public class ReadmeExamplesTests(ITestOutputHelper log)
{
    /// <summary>The documents whose C# blocks are tested, relative to the repository root.</summary>
    private static readonly string[] Documents = ["README.md", "pretrained/README.md"];

    /// <summary>A user's console project's implicit usings (ImplicitUsings=enable).</summary>
    internal const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    /// <summary>Assemblies an example may use besides the framework: the library and its package dependencies.</summary>
    private static readonly string[] LibraryFiles = ["Optim4RL.dll", "System.Numerics.Tensors.dll", "System.IO.Hashing.dll"];

    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(90);

    /// <summary>The C# blocks of a Markdown document, in order, with the line each starts on.</summary>
    public static IReadOnlyList<(int Line, string Code)> CSharpBlocks(string markdown)
    {
        var blocks = new List<(int, string)>();
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (!Regex.IsMatch(lines[i], @"^\s*```\s*(csharp|cs|c#)\s*$", RegexOptions.IgnoreCase)) continue;
            int start = i + 1;
            int end = start;
            while (end < lines.Length && !Regex.IsMatch(lines[end], @"^\s*```\s*$")) end++;
            blocks.Add((start + 1, string.Join('\n', lines[start..end])));
            i = end;
        }

        return blocks;
    }

    public static TheoryData<string, int> Blocks()
    {
        var data = new TheoryData<string, int>();
        foreach (string doc in Documents)
        {
            string text = File.ReadAllText(Path.Combine(ExternalProcess.RepoRoot(), doc));
            foreach (var (line, _) in CSharpBlocks(text)) data.Add(doc, line);
        }

        return data;
    }

    [Fact]
    public void The_README_has_the_examples_it_promises()
    {
        string readme = File.ReadAllText(Path.Combine(ExternalProcess.RepoRoot(), "README.md"));
        var blocks = CSharpBlocks(readme);
        Assert.True(blocks.Count >= 3, $"README.md has {blocks.Count} C# blocks");
        string all = string.Join("\n", blocks.Select(b => b.Code));
        foreach (string needed in new[] { "Optax.Adam", "LearnedOptimizer.Load(\"optim4rl-catch\"", "new A2C(", "IDiscreteVectorEnv", "EnvRegistry.RegisterDiscrete", "new MetaA2C(", "GroupedOptimizer", "Tensor<float>" })
            Assert.Contains(needed, all, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void A_CSharp_block_compiles_and_runs(string document, int line)
    {
        string code = CSharpBlocks(File.ReadAllText(Path.Combine(ExternalProcess.RepoRoot(), document))).Single(b => b.Line == line).Code;
        string dir = Directory.CreateTempSubdirectory("o4rl-readme-").FullName;
        try
        {
            string dll = Path.Combine(dir, "Example.dll");
            Compile(code, dll, $"{document}:{line}");
            File.WriteAllText(Path.Combine(dir, "Example.runtimeconfig.json"),
                "{\"runtimeOptions\": {\"tfm\": \"net10.0\", \"framework\": {\"name\": \"Microsoft.NETCore.App\", \"version\": \"" + Environment.Version + "\"}}}");
            foreach (string f in LibraryFiles.Append("libo4r_mujoco.so"))
            {
                string src = Path.Combine(AppContext.BaseDirectory, f);
                if (File.Exists(src)) File.Copy(src, Path.Combine(dir, f));
            }

            var (exit, output, elapsed) = ExternalProcess.Run(ExternalProcess.DotnetHost(), [dll], dir, RunLimit);
            log.WriteLine($"{document}:{line}: exit {exit} after {elapsed.TotalSeconds:F1} s\n{output}");
            Assert.True(exit == 0, $"{document}:{line} exited with {exit} after {elapsed.TotalSeconds:F1} s:\n{output}");
            Assert.False(string.IsNullOrWhiteSpace(output), $"{document}:{line} printed nothing");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Compile(string code, string outputPath, string where)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText(code, parse, path: where),
            CSharpSyntaxTree.ParseText(ImplicitUsings, parse, path: "ImplicitUsings.cs"),
        };
        string runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = Directory.GetFiles(runtimeDir, "*.dll")
            .Where(IsManaged)
            .Concat(LibraryFiles.Select(f => Path.Combine(AppContext.BaseDirectory, f)))
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("Example", trees, references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, optimizationLevel: OptimizationLevel.Release,
                nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: false));
        var result = compilation.Emit(outputPath);
        var problems = result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(result.Success && problems.Count == 0,
            $"{where} does not compile cleanly:\n{string.Join("\n", problems.Select(d => d.ToString()))}");
    }

    private static bool IsManaged(string path)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
