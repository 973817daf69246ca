using Optim4RL.Agents;
using Optim4RL.Experiments;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>The shipped φ files load in one call, from C# and from a config, and train agents.</summary>
public sealed class PretrainedTests : IDisposable
{
    private readonly string _logs = Directory.CreateTempSubdirectory("o4rl-pretrained-").FullName;

    public void Dispose() => Directory.Delete(_logs, recursive: true);

    private static string RepoFile(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Optim4RL.slnx"))) dir = dir.Parent;
        return Path.Combine([dir!.FullName, .. parts]);
    }

    [Fact]
    public void Every_file_in_the_pretrained_folder_is_embedded_and_loads_as_the_same_phi()
    {
        var files = Directory.GetFiles(RepoFile("pretrained"), "*.json").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("optim4rl-catch", files);
        Assert.Equal(files, PretrainedOptimizers.Names);
        foreach (string name in files)
        {
            var opt = LearnedOptimizer.Load(name);
            var kernel = LearnedOptimizers.Create(opt.Name);
            float[] fromFile = MetaParamsFile.Load(RepoFile("pretrained", name + ".json"), kernel.Name, kernel.HiddenSize, kernel.Layout);
            Assert.Equal(fromFile, opt.MetaParams.ToArray());
            Assert.True(opt.LearningRate > 0);
        }
    }

    [Fact]
    public void Load_takes_the_recommended_alpha_unless_given_and_the_prefix_is_optional()
    {
        var recommended = LearnedOptimizer.Load("optim4rl-catch");
        Assert.Equal("Optim4RL", recommended.Name);
        Assert.Equal(1e-3f, recommended.LearningRate);
        var explicitAlpha = LearnedOptimizer.Load("pretrained:optim4rl-catch", learningRate: 3e-3, gradClip: 1);
        Assert.Equal(3e-3f, explicitAlpha.LearningRate);
        Assert.Equal(1f, explicitAlpha.GradClip);
        Assert.Equal(recommended.MetaParams.ToArray(), explicitAlpha.MetaParams.ToArray());
    }

    [Fact]
    public void An_unknown_name_lists_the_shipped_ones_and_a_file_without_alpha_needs_one()
    {
        var e = Assert.Throws<FileNotFoundException>(() => LearnedOptimizer.Load("pretrained:optim4rl-nope"));
        Assert.Contains("pretrained:optim4rl-catch", e.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => LearnedOptimizer.Load(Path.Combine(_logs, "missing.json")));

        // A φ file that records no α (an old file): Load needs one.
        var kernel = LearnedOptimizers.Create("Optim4RL");
        var phi = new float[kernel.Layout.Count];
        var rng = new Tensors.Rng(1);
        kernel.InitMetaParams(ref rng, phi);
        string path = Path.Combine(_logs, "no_alpha.json");
        MetaParamsFile.Save(path, kernel.Name, kernel.HiddenSize, kernel.Layout, phi);
        var a = Assert.Throws<ArgumentException>(() => LearnedOptimizer.Load(path));
        Assert.Contains("learningRate", a.Message, StringComparison.Ordinal);
        Assert.Equal(2e-3f, LearnedOptimizer.Load(path, 2e-3).LearningRate);
    }

    [Fact]
    public void The_big_dense_long_phi_is_the_one_its_selection_chose_with_its_settings()
    {
        // select_best.json is written by `report --best-json` over the selection runs; the shipped file must be that φ.
        using var best = System.Text.Json.JsonDocument.Parse(File.ReadAllText(RepoFile("docs", "results", "paper_scale", "big_dense_long", "select_best.json")));
        var config = best.RootElement.GetProperty("big_dense_long").GetProperty("Optim4RL").GetProperty("config");
        string selected = config.GetProperty("agent_optim.kwargs.param_load_path").GetString()!;
        var opt = LearnedOptimizer.Load("optim4rl-big-dense-long");
        var kernel = LearnedOptimizers.Create(opt.Name);
        Assert.Equal(MetaParamsFile.Load(RepoFile(selected.Split('/')), kernel.Name, kernel.HiddenSize, kernel.Layout), opt.MetaParams.ToArray());
        Assert.Equal(float.Parse(config.GetProperty("agent_optim.kwargs.learning_rate").GetString()!, System.Globalization.CultureInfo.InvariantCulture), opt.LearningRate);
        Assert.Equal(float.Parse(config.GetProperty("agent_optim.kwargs.grad_clip").GetString()!, System.Globalization.CultureInfo.InvariantCulture), opt.GradClip);
    }

    [Theory]
    [InlineData("optim4rl-catch")]
    [InlineData("optim4rl-grid6")] // never saw Catch in meta-training
    public void A_config_names_it_with_the_prefix_and_an_A2C_agent_learns_catch_with_it(string name)
    {
        string json = """
            {
              "env": [{"name": [["catch"]], "num_envs": [64], "train_steps": [3e5]}],
              "agent": [{"name": ["A2C"], "rollout_steps": [20]}],
              "agent_optim": [{"name": ["Optim4RL"], "kwargs": [{"param_load_path": ["pretrained:NAME"], "learning_rate": [1e-3]}]}],
              "discount": [0.995], "seed": [7]
            }
            """.Replace("NAME", name, StringComparison.Ordinal);
        var outcome = ExperimentRunner.Run(SweepConfig.Parse(json, "pretrained_" + name), 1, new RunOptions(_logs));
        Assert.True(outcome.Completed);
        var rows = ResultCsv.Read(Path.Combine(outcome.Directory, "result_catch.csv"));
        double final = rows.TakeLast(20).Average(r => r.Return);
        // A random policy scores −0.6 on Catch; the learned optimizer must have learned to catch.
        Assert.True(final > 0.5, $"final return {final}");
    }
}
