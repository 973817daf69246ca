using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Xml.Linq;
using Optim4RL.Tests.Docs;
using Xunit.Abstractions;

namespace Optim4RL.Tests.Packaging;

/// <summary>
/// The NuGet packages: <c>dotnet pack</c> of the library and of the MuJoCo assembly (what this test run built,
/// <c>--no-build</c>) into a temporary folder. The library package holds the licence, the package README, the
/// version and the documentation, and no native code; the Optim4RL.MuJoCo package depends on it and holds the
/// linux-x64 MuJoCo shim. A temporary console project that references both from that folder restores, builds and
/// runs: optimizers work, a MuJoCo task asked for by name before registration names the missing registration, and
/// after <c>MuJoCoTasks.Register()</c> a MuJoCo task runs (or, where MuJoCo is missing, fails with a clear
/// message). Filter with <c>--filter Category!=Package</c> to leave it out.
/// </summary>
[Trait("Category", "Package")]
public class PackageTests(ITestOutputHelper log)
{
    private static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(3);

    [Fact]
    public void The_package_has_its_metadata_and_a_console_project_using_it_runs()
    {
        string root = ExternalProcess.RepoRoot();
        string dotnet = ExternalProcess.DotnetHost();
        string configuration = ExternalProcess.Configuration();
        string work = Directory.CreateTempSubdirectory("o4rl-package-").FullName;
        try
        {
            // 1. Pack what this test run built: the library, and the MuJoCo tasks.
            string feed = Path.Combine(work, "feed");
            foreach (string project in new[] { "Optim4RL", "Optim4RL.MuJoCo" })
            {
                var pack = ExternalProcess.Run(dotnet,
                    ["pack", Path.Combine(root, "src", project, project + ".csproj"), "-c", configuration, "--no-build", "-o", feed, "-nodeReuse:false", "-p:UseSharedCompilation=false"],
                    root, StepLimit);
                log.WriteLine($"pack {project}: {pack.Elapsed.TotalSeconds:F1} s");
                Assert.True(pack.ExitCode == 0, $"dotnet pack of {project} failed:\n{pack.Output}");
            }

            string nupkg = Assert.Single(Directory.GetFiles(feed, "Optim4RL.*.nupkg"), f => !Path.GetFileName(f).StartsWith("Optim4RL.MuJoCo.", StringComparison.Ordinal));
            string mujocoNupkg = Assert.Single(Directory.GetFiles(feed, "Optim4RL.MuJoCo.*.nupkg"));
            foreach (string package in new[] { nupkg, mujocoNupkg })
                log.WriteLine($"{Path.GetFileName(package)}: {new FileInfo(package).Length / 1024.0:F0} KiB");

            // 2. What is in them: the library package has no native code and no MuJoCo; the MuJoCo package has the shim.
            string version;
            bool hasShim;
            using (var zip = ZipFile.OpenRead(mujocoNupkg))
            {
                var names = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
                foreach (string needed in new[] { "LICENSE", "README.md", "lib/net10.0/Optim4RL.MuJoCo.dll", "lib/net10.0/Optim4RL.MuJoCo.xml" })
                    Assert.Contains(needed, names);
                hasShim = names.Contains("runtimes/linux-x64/native/libo4r_mujoco.so");
                bool shimBuilt = File.Exists(Path.Combine(root, "src", "Optim4RL.MuJoCo", "obj", configuration, "net10.0", "native", "libo4r_mujoco.so"));
                Assert.Equal(shimBuilt, hasShim);
                using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
                var nuspec = XDocument.Load(nuspecStream);
                XNamespace ns = nuspec.Root!.Name.Namespace;
                var meta = nuspec.Root.Element(ns + "metadata")!;
                Assert.Equal("Optim4RL.MuJoCo", meta.Element(ns + "id")?.Value);
                Assert.Contains(meta.Descendants(ns + "dependency"), d => d.Attribute("id")?.Value == "Optim4RL");
                Assert.Contains("linux-x64", meta.Element(ns + "description")?.Value ?? "", StringComparison.Ordinal);
            }

            using (var zip = ZipFile.OpenRead(nupkg))
            {
                var names = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
                foreach (string needed in new[] { "LICENSE", "README.md", "lib/net10.0/Optim4RL.dll", "lib/net10.0/Optim4RL.xml" })
                    Assert.Contains(needed, names);
                Assert.DoesNotContain(names, n => n.StartsWith("runtimes/", StringComparison.Ordinal));
                Assert.DoesNotContain(names, n => n.Contains("MuJoCo", StringComparison.OrdinalIgnoreCase));

                using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
                var nuspec = XDocument.Load(nuspecStream);
                XNamespace ns = nuspec.Root!.Name.Namespace;
                var meta = nuspec.Root.Element(ns + "metadata")!;
                Assert.Equal("Optim4RL", meta.Element(ns + "id")?.Value);
                version = meta.Element(ns + "version")!.Value;
                Assert.Matches(@"^\d+\.\d+\.\d+", version);
                Assert.Equal("file", meta.Element(ns + "license")?.Attribute("type")?.Value);
                Assert.Equal("LICENSE", meta.Element(ns + "license")?.Value);
                Assert.Equal("README.md", meta.Element(ns + "readme")?.Value);
                Assert.Contains("linux-x64", meta.Element(ns + "description")?.Value ?? "", StringComparison.Ordinal);
                using var licence = new StreamReader(zip.GetEntry("LICENSE")!.Open());
                Assert.Contains("Apache License", licence.ReadToEnd(), StringComparison.Ordinal);
            }

            // 3. A console project that references the package from the folder. Packages are restored into a
            // private folder (so an earlier package of the same version in the machine's cache is never used);
            // its dependencies come from the machine's package cache or the default NuGet source.
            string app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var sources = new List<string> { feed };
            if (Directory.Exists(globalPackages)) sources.Add(globalPackages);
            var config = new XElement("configuration",
                new XElement("packageSources", sources.Select((s, i) => new XElement("add", new XAttribute("key", $"local{i}"), new XAttribute("value", s)))));
            config.Save(Path.Combine(app, "nuget.config"));
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Optim4RL" Version="{version}" />
                    <PackageReference Include="Optim4RL.MuJoCo" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), ConsumerProgram);
            var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(work, "packages") };
            var build = ExternalProcess.Run(dotnet, ["build", "-c", "Release", "-nodeReuse:false", "-p:UseSharedCompilation=false"], app, StepLimit, env);
            log.WriteLine($"restore + build: {build.Elapsed.TotalSeconds:F1} s");
            Assert.True(build.ExitCode == 0, $"The console project did not build:\n{build.Output}");

            string bin = Path.Combine(app, "bin", "Release", "net10.0");
            string shim = Path.Combine(bin, "runtimes", "linux-x64", "native", "libo4r_mujoco.so");
            Assert.Equal(hasShim, File.Exists(shim)); // a native asset of the package, found through the app's deps.json
            var run = ExternalProcess.Run(dotnet, [Path.Combine(bin, "App.dll")], app, StepLimit);
            log.WriteLine($"run: {run.Elapsed.TotalSeconds:F1} s\n{run.Output}");
            Assert.True(run.ExitCode == 0, $"The console project failed:\n{run.Output}");
            Assert.Contains("adam converged", run.Output, StringComparison.Ordinal);
            Assert.Contains("learned converged", run.Output, StringComparison.Ordinal);
            Assert.Contains("grouped converged", run.Output, StringComparison.Ordinal);
            Assert.Contains("unregistered: 'ant' is a MuJoCo task, and the MuJoCo tasks are not registered: reference the Optim4RL.MuJoCo package", run.Output, StringComparison.Ordinal);

            // 4. MuJoCo: runs where the shim was packed and MuJoCo 2.2.2 is installed; otherwise a clear message.
            bool mujocoInstalled = NativeLibrary.TryLoad("libmujoco.so.2.2.2", out IntPtr lib);
            if (mujocoInstalled) NativeLibrary.Free(lib);
            if (hasShim && mujocoInstalled)
            {
                Assert.Contains("mujoco: ok", run.Output, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("mujoco: unavailable", run.Output, StringComparison.Ordinal);
                Assert.Matches("libmujoco|shim", run.Output);
            }

            // Without the native part (another runtime, a stripped deployment) everything else still works and
            // a MuJoCo task says what is missing.
            if (File.Exists(shim)) File.Delete(shim);
            var stripped = ExternalProcess.Run(dotnet, [Path.Combine(bin, "App.dll")], app, StepLimit);
            log.WriteLine($"without the shim:\n{stripped.Output}");
            Assert.True(stripped.ExitCode == 0, $"The console project failed without the shim:\n{stripped.Output}");
            Assert.Contains("grouped converged", stripped.Output, StringComparison.Ordinal);
            Assert.Contains("mujoco: unavailable: The MuJoCo shim libo4r_mujoco.so was not found", stripped.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private const string ConsumerProgram = """
        using Optim4RL.Envs;
        using Optim4RL.Envs.MuJoCo;
        using Optim4RL.Optimizers;
        using Optim4RL.Optimizers.Learned;
        using Optim4RL.Tensors;

        // Optimizers from the package: minimise |θ|² from (3, −2).
        foreach (var (label, optimizer) in new (string, IOptimizer)[] { ("adam", Optax.Adam(0.1)), ("learned", LearnedOptimizer.Load("optim4rl-catch", learningRate: 0.02)) })
        {
            float[] theta = [3f, -2f], grad = new float[2], update = new float[2];
            OptimizerState state = optimizer.Init(2);
            for (int i = 0; i < 400; i++)
            {
                for (int j = 0; j < 2; j++) grad[j] = 2 * theta[j];
                optimizer.Update(grad, state, update);
                for (int j = 0; j < 2; j++) theta[j] += update[j];
            }
            float f = theta[0] * theta[0] + theta[1] * theta[1];
            Console.WriteLine(f < 0.05f ? $"{label} converged: f = {f:G3}" : $"{label} did not converge: f = {f:G3}");
        }

        // Parameter groups over separate arrays.
        float[] a = [3f], ga = new float[1], b = [-2f], gb = new float[1];
        var grouped = new GroupedOptimizer(Optax.Adam(0.1), new ParameterGroup("a").Add("a", a, ga), new ParameterGroup("b", 0.5f).Add("b", b, gb));
        for (int i = 0; i < 400; i++)
        {
            grouped.ZeroGrad();
            ga[0] = 2 * a[0];
            gb[0] = 2 * b[0];
            grouped.Step();
        }
        Console.WriteLine(a[0] * a[0] + b[0] * b[0] < 0.05f ? "grouped converged" : $"grouped did not converge: {a[0]}, {b[0]}");

        // MuJoCo tasks by name: the library says what is missing until the MuJoCo package registers them.
        try
        {
            ContinuousEnvRegistry.Create("ant", 1, new Rng(1));
            Console.WriteLine("unregistered: created");
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine($"unregistered: {e.Message}");
        }

        MuJoCoTasks.Register();
        try
        {
            using var env = MuJoCoTasks.Create("inverted_pendulum", 2, new Rng(1));
            using (var byName = (IDisposable)ContinuousEnvRegistry.Create("InvertedPendulum-v4", 1, new Rng(2))) { }
            env.Reset();
            float[] actions = new float[2 * env.ActionSize], rewards = new float[2];
            bool[] terminated = new bool[2], truncated = new bool[2];
            for (int t = 0; t < 10; t++) env.Step(actions, rewards, terminated, truncated);
            Console.WriteLine($"mujoco: ok ({env.Name}, observation size {env.ObservationSize}, reward {rewards[0]})");
        }
        catch (MuJoCoException e)
        {
            Console.WriteLine($"mujoco: unavailable: {e.Message}");
        }
        """;

    [Fact]
    public void The_cli_packs_as_a_dotnet_tool_that_installs_and_runs()
    {
        string root = ExternalProcess.RepoRoot();
        string dotnet = ExternalProcess.DotnetHost();
        string configuration = ExternalProcess.Configuration();
        string work = Directory.CreateTempSubdirectory("o4rl-tool-").FullName;
        try
        {
            string feed = Path.Combine(work, "feed"), tools = Path.Combine(work, "tools");
            var pack = ExternalProcess.Run(dotnet,
                ["pack", Path.Combine(root, "src", "Optim4RL.Cli", "Optim4RL.Cli.csproj"), "-c", configuration, "--no-build", "-o", feed, "-nodeReuse:false", "-p:UseSharedCompilation=false"],
                root, StepLimit);
            Assert.True(pack.ExitCode == 0, $"dotnet pack failed:\n{pack.Output}");
            var install = ExternalProcess.Run(dotnet, ["tool", "install", "--tool-path", tools, "Optim4RL.Cli", "--add-source", feed], work, StepLimit);
            Assert.True(install.ExitCode == 0, $"dotnet tool install failed:\n{install.Output}");
            var help = ExternalProcess.Run(Path.Combine(tools, "optim4rl"), ["sweep", "--config", Path.Combine(root, "configs", "a2c_catch.json")], work, StepLimit);
            Assert.True(help.ExitCode == 0, help.Output);
            Assert.Contains("a2c_catch: 2 combination(s).", help.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
