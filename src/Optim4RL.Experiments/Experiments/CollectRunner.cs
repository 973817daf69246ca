using Optim4RL.Supervised;

namespace Optim4RL.Experiments;

/// <summary>
/// Gradient collection runs (the paper's gradient-distribution evidence, §3, Fig. 1; docs/algorithms.md):
/// <list type="bullet">
/// <item><c>A2Ccollect</c>: plain A2C (run by <see cref="ExperimentRunner"/>'s A2C loop) that also
/// writes <c>grads_&lt;env&gt;.bin</c>, every <c>agent.data_reduce</c>-th coordinate of g and Δθ at
/// every update (<see cref="ForA2C"/>);</item>
/// <item><c>SLCollect</c>: the supervised contrast, an MLP classifier on a synthetic Gaussian
/// mixture (<see cref="GaussianMixture"/>), with the same gradient file (<see cref="RunSupervised"/>).</item>
/// </list>
/// </summary>
public static class CollectRunner
{
    /// <summary>The agent name of A2C with gradient collection.</summary>
    public const string A2CCollectName = "A2Ccollect";

    /// <summary>The agent name of the supervised contrast.</summary>
    public const string SupervisedCollectName = "SLCollect";

    /// <summary>The per-epoch log of a supervised run: <c>epoch,updates,loss,train_accuracy,test_accuracy</c>.</summary>
    public const string SupervisedCsvName = "sl_train.csv";

    /// <summary>
    /// The gradient writer of one A2C task when the run's agent is <c>A2Ccollect</c>
    /// (<c>agent.data_reduce</c> is required and ≥ 1), null otherwise.
    /// </summary>
    /// <exception cref="ConfigException"><c>agent.data_reduce</c> is missing or below 1.</exception>
    public static GradientFileWriter? ForA2C(RunConfig run, RunDirectory dir, string envName, IOptimizer optimizer, double learningRate, int paramCount, long stepsPerUpdate)
    {
        if (run.GetString("agent.name") != A2CCollectName) return null;
        int stride = DataReduce(run);
        var header = new GradientFileHeader(GradientFileHeader.KindRl, A2CCollectName, envName, run.GetString("agent_optim.name"), optimizer.Name,
            learningRate, paramCount, stride, stepsPerUpdate, run.Experiment, run.ConfigIdx, run.RunSeed);
        return GradientFileWriter.Create(dir.PathOf(GradientFile.FileName(envName)), header);
    }

    /// <summary>
    /// Runs <c>SLCollect</c>: draws the data set (<c>task.*</c>), trains the MLP
    /// (<c>model.kwargs.hidden_sizes</c>) with <c>optimizer.name</c>/<c>optimizer.kwargs</c> for
    /// <c>epochs</c> epochs of <c>batch_size</c>, and writes <c>grads_gaussian_mixture.bin</c> and
    /// <c>sl_train.csv</c> to the run directory.
    /// </summary>
    /// <exception cref="ConfigException">A key is missing, of the wrong type or out of range.</exception>
    public static RunOutcome RunSupervised(RunConfig run, RunDirectory dir, RunLog log, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        string task = run.GetString("task.name", GaussianMixtureConfig.TaskName);
        if (task != GaussianMixtureConfig.TaskName)
            throw new ConfigException($"config key 'task.name': unknown supervised task '{task}'. Valid: {GaussianMixtureConfig.TaskName} (no data set can be downloaded; the task is generated).");
        var taskCfg = new GaussianMixtureConfig(
            run.GetInt("task.num_classes", 10), run.GetInt("task.input_dim", 32), run.GetInt("task.components", 3),
            run.GetDouble("task.separation", 0.5), run.GetInt("task.train_size", 10_000), run.GetInt("task.test_size", 2_000));
        try
        {
            taskCfg.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ConfigException($"config key 'task': {e.Message.Split(Environment.NewLine)[0]}");
        }

        int[] hidden = run.Has("model.kwargs.hidden_sizes") ? run.GetIntList("model.kwargs.hidden_sizes").ToArray() : [64, 64];
        if (hidden.Any(h => h < 1)) throw new ConfigException("config key 'model.kwargs.hidden_sizes' must hold positive integers.");
        int epochs = run.GetInt("epochs");
        int batch = run.GetInt("batch_size");
        if (epochs < 1) throw new ConfigException($"config key 'epochs' must be ≥ 1, found {epochs}.");
        if (batch < 1 || batch > taskCfg.TrainSize) throw new ConfigException($"config key 'batch_size' must be in [1, task.train_size = {taskCfg.TrainSize}], found {batch}.");
        var optimizerSection = OptimizerSection.Of(run, "optimizer");
        string optName = optimizerSection.Name;
        double lr = run.GetDouble("optimizer.kwargs.learning_rate");
        var optimizer = optimizerSection.Create(lr);
        int stride = DataReduce(run);
        int display = Math.Max(1, run.GetInt("display_interval", 1));

        var root = new Rng(run.RunSeed);
        var data = new GaussianMixture(taskCfg, root.Split(0));
        var model = new Classifier(data, hidden, optimizer, batch, root.Split(1));
        var header = new GradientFileHeader(GradientFileHeader.KindSupervised, SupervisedCollectName, GaussianMixtureConfig.TaskName, optName, optimizer.Name,
            lr, model.ParamCount, stride, batch, run.Experiment, run.ConfigIdx, run.RunSeed);
        log.Info($"{SupervisedCollectName}: {task} (K {taskCfg.NumClasses}, D {taskCfg.InputDim}, M {taskCfg.Components}, {taskCfg.TrainSize} train / {taskCfg.TestSize} test), " +
                 $"MLP [{string.Join(", ", hidden)}] with {model.ParamCount} parameters, {optimizer.Name}, {epochs} epochs × {model.BatchesPerEpoch} updates, every {stride}-th coordinate recorded");

        var rows = new StringBuilder("epoch,updates,loss,train_accuracy,test_accuracy\n");
        string csv = dir.PathOf(SupervisedCsvName);
        var started = DateTime.UtcNow;
        EpochLog last = default;
        using (var grads = GradientFileWriter.Create(dir.PathOf(GradientFile.FileName(GaussianMixtureConfig.TaskName)), header))
        {
            model.Observer = grads;
            for (int e = 1; e <= epochs && !cancel.IsCancellationRequested; e++)
            {
                last = model.TrainEpoch();
                rows.Append(CultureInfo.InvariantCulture, $"{last.Epoch},{last.Updates},{last.Loss:R},{last.TrainAccuracy:R},{last.TestAccuracy:R}\n");
                AtomicFile.WriteAllText(csv, rows.ToString());
                grads.Flush();
                progress?.Report(new RunProgress($"{SupervisedCollectName} {task}", e, epochs, $"loss {last.Loss:F3}, test accuracy {last.TestAccuracy:P1}"));
                if (e % display == 0 || e == epochs)
                    log.Info($"epoch {e}/{epochs}: loss {last.Loss:F4}, train accuracy {last.TrainAccuracy:F4}, test accuracy {last.TestAccuracy:F4}");
            }

            grads.Complete();
        }

        string line = $"{task}: test accuracy {last.TestAccuracy:F3} after {last.Epoch} epoch(s) ({last.Updates} updates) in {(DateTime.UtcNow - started).TotalSeconds:F1} s; gradients in {GradientFile.FileName(GaussianMixtureConfig.TaskName)}";
        var summary = new RunSummary(dir, log);
        return summary.Add(line, cancel) ?? summary.Completed();
    }

    private static int DataReduce(RunConfig run)
    {
        int stride = run.GetInt("agent.data_reduce");
        if (stride < 1) throw new ConfigException($"config key 'agent.data_reduce' must be ≥ 1 (record every data_reduce-th coordinate), found {stride}.");
        return stride;
    }
}
