using System.Globalization;
using System.Text;
using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Meta;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Experiments;

/// <summary>Options of one <see cref="ExperimentRunner.Run"/> call.</summary>
/// <param name="LogsRoot">Root of the run directories (<c>logs</c>).</param>
/// <param name="Resume">Continue a meta-training run from its last checkpoint when one exists.</param>
/// <param name="Threads">Threads (null = all cores).</param>
/// <param name="CheckpointEvery">Meta-iterations between checkpoints.</param>
public sealed record RunOptions(string LogsRoot = RunDirectory.DefaultLogsRoot, bool Resume = false, int? Threads = null, int CheckpointEvery = 50);

/// <summary>What a run produced.</summary>
/// <param name="Directory">The run directory.</param>
/// <param name="Completed">False when it was interrupted (a checkpoint was written for meta runs).</param>
/// <param name="Summary">One line per task or phase, for the console.</param>
public sealed record RunOutcome(string Directory, bool Completed, IReadOnlyList<string> Summary);

/// <summary>
/// Runs one configuration of a sweep file (spec §9) and writes its run directory
/// <c>logs/&lt;config name&gt;/&lt;k&gt;/</c>: the resolved <c>config.json</c> (with the seed used),
/// <c>log.txt</c>, and <c>result_&lt;env&gt;.csv</c> (Step, Return; spec §8) for A2C, or
/// <c>param.json</c> (φ), <c>meta_train.csv</c> and <c>checkpoint.bin</c> for MetaA2C/MetapA2C;
/// gradient collection (<c>A2Ccollect</c>, <c>SLCollect</c>) is in <see cref="CollectRunner"/>.
/// </summary>
public static class ExperimentRunner
{
    /// <summary>Agent names this runner accepts.</summary>
    public static readonly IReadOnlyList<string> AgentNames = ["A2C", "MetaA2C", "MetapA2C", CollectRunner.A2CCollectName, CollectRunner.SupervisedCollectName];

    /// <summary>Names the reference uses that later issues implement.</summary>
    private static readonly string[] NotYet = ["PPO", "MetaPPO", "MetapPPO", "A2Cstar", "MetaA2Cstar", "PPOstar", "MetaPPOstar"];

    /// <summary>The checkpoint file of a meta-training run directory.</summary>
    public const string CheckpointFileName = "checkpoint.bin";

    /// <summary>Runs configuration <paramref name="configIdx"/> (1-based) of <paramref name="sweep"/>.</summary>
    /// <exception cref="ConfigException">A key is missing or of the wrong type, or the agent name is unknown.</exception>
    /// <exception cref="ArgumentException">An unknown task or optimizer name.</exception>
    /// <exception cref="TrainingDivergedException">NaN/Inf during training (the last checkpoint is kept).</exception>
    public static RunOutcome Run(SweepConfig sweep, int configIdx, RunOptions options, IProgress<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        var run = sweep.ResolveRun(configIdx);
        string agent = run.GetString("agent.name");
        if (NotYet.Contains(agent))
            throw new ConfigException($"config key 'agent.name': '{agent}' is not available yet in this version (supported: {string.Join(", ", AgentNames)}).");
        if (!AgentNames.Contains(agent))
            throw new ConfigException($"config key 'agent.name': unknown agent '{agent}'. Valid: {string.Join(", ", AgentNames)}.");

        var dir = RunDirectory.Create(sweep, configIdx, options.LogsRoot);
        run.WriteConfigJson(dir.ConfigPath);
        using var log = new RunLog(dir.LogPath);
        log.Info($"{sweep.Name} config {configIdx}/{sweep.Total}: agent {agent}, seed {run.RunSeed}");
        return agent switch
        {
            "A2C" or CollectRunner.A2CCollectName => RunA2C(run, dir, log, options, progress, cancel),
            CollectRunner.SupervisedCollectName => CollectRunner.RunSupervised(run, dir, log, progress, cancel),
            _ => RunMeta(run, dir, log, options, pipeline: agent == "MetaA2C", progress, cancel),
        };
    }

    /// <summary>The A2C hyper-parameters of a resolved config (reference keys, spec defaults).</summary>
    public static A2CConfig A2CConfigOf(RunConfig run) => new(
        RolloutSteps: run.GetInt("agent.rollout_steps", 20),
        Discount: run.GetDouble("discount", 0.995),
        GaeLambda: run.GetDouble("agent.gae_lambda", 0.95),
        CriticLossWeight: run.GetDouble("agent.critic_loss_weight", 0.5),
        EntropyWeight: run.GetDouble("agent.entropy_weight", 0.01));

    private static RunOutcome RunA2C(RunConfig run, RunDirectory dir, RunLog log, RunOptions options, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        var envs = run.GetStringList("env.name");
        int numEnvs = run.GetInt("env.num_envs");
        long trainSteps = run.GetLong("env.train_steps");
        var scaling = run.GetDoublePerTask("env.reward_scaling", envs.Count, 1.0);
        var lrs = run.GetDoublePerTask("agent_optim.kwargs.learning_rate", envs.Count);
        var cfg = A2CConfigOf(run);
        string optName = run.GetString("agent_optim.name");
        double gradClip = run.GetDouble("agent_optim.kwargs.grad_clip", -1);
        double gradNorm = run.GetDouble("agent_optim.kwargs.grad_norm", -1);
        var summary = new List<string>();
        var root = new Rng(run.RunSeed);

        for (int i = 0; i < envs.Count; i++)
        {
            IOptimizer optimizer;
            if (LearnedOptimizers.Names.Contains(optName, StringComparer.OrdinalIgnoreCase))
            {
                var lopt = LearnedOptimizers.Create(optName);
                string path = run.GetString("agent_optim.kwargs.param_load_path", "");
                if (string.IsNullOrWhiteSpace(path))
                    throw new ConfigException($"config key 'agent_optim.kwargs.param_load_path' is empty: a learned optimizer ({optName}) needs a φ file; run a Meta config first and point this key to its param.json.");
                float[] phi = MetaParamsFile.Load(path, lopt.Name, lopt.HiddenSize, lopt.Layout);
                optimizer = new LearnedOptimizer(lopt, phi, (float)lrs[i], (float)gradClip);
                log.Info($"loaded φ of {lopt.Name} from {path}");
            }
            else
            {
                optimizer = Optax.FromConfig(optName, lrs[i], gradClip, gradNorm);
            }
            var taskRng = root.Split((ulong)i);
            var env = EnvRegistry.CreateDiscrete(envs[i], numEnvs, taskRng.Split(0), (float)scaling[i]);
            var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount);
            var a2c = new A2C(spec, env, optimizer, cfg, taskRng.Split(1));
            // A2Ccollect: record g and Δθ subsamples at every update (null for plain A2C).
            using var grads = CollectRunner.ForA2C(run, dir, env.Name, optimizer, lrs[i], spec.Layout.Count, a2c.StepsPerIteration);
            a2c.Observer = grads;
            var csv = new ResultCsv(dir.ResultPath(env.Name));
            long iterations = trainSteps / a2c.StepsPerIteration;
            log.Info($"task {i + 1}/{envs.Count}: {env.Name}, {numEnvs} envs, {iterations} iterations, optimizer {optimizer.Name}");
            var logs = new List<IterationLog>();
            var started = DateTime.UtcNow;
            for (long it = 0; it < iterations; it++)
            {
                if (cancel.IsCancellationRequested) break;
                var l = a2c.Step();
                logs.Add(l);
                if (l.Episodes > 0) csv.Add(l.Step, l.MeanReturn);
                if (l.Iteration % 50 == 0 || l.Iteration == iterations)
                {
                    progress?.Report(new RunProgress($"A2C {env.Name}", l.Step, iterations * a2c.StepsPerIteration, $"return {LearningCurve.FinalReturn(logs, 0.02):F3}"));
                    if (l.Iteration % 1000 == 0)
                    {
                        csv.Save();
                        grads?.Flush();
                    }
                }
            }
            csv.Save();
            grads?.Complete();
            double final = LearningCurve.FinalReturn(logs);
            string line = $"{env.Name}: final return {final:F3} (mean of last 10 % of {logs.Count} iterations) in {(DateTime.UtcNow - started).TotalSeconds:F1} s";
            log.Info(line);
            summary.Add(line);
            if (cancel.IsCancellationRequested)
            {
                log.Warning("interrupted: results so far are saved");
                return new RunOutcome(dir.Path, false, summary);
            }
        }
        return new RunOutcome(dir.Path, true, summary);
    }

    private static RunOutcome RunMeta(RunConfig run, RunDirectory dir, RunLog log, RunOptions options, bool pipeline, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        var envs = run.GetStringList("env.name");
        int n = envs.Count;
        var numAgents = run.GetIntPerTask("env.num_envs", n);
        var scaling = run.GetDoublePerTask("env.reward_scaling", n, 1.0);
        var alphas = run.GetDoublePerTask("agent_optim.kwargs.learning_rate", n);
        var resets = run.GetIntPerTask("agent.reset_interval", n, 1);
        string optName = run.GetString("agent_optim.name");
        if (!LearnedOptimizers.Names.Contains(optName, StringComparer.OrdinalIgnoreCase))
            throw new ConfigException($"config key 'agent_optim.name': '{optName}' is not a learned optimizer; meta-training needs one of {string.Join(", ", LearnedOptimizers.Names)}.");
        var lopt = LearnedOptimizers.Create(optName);
        var tasks = Enumerable.Range(0, n).Select(i => new MetaTaskConfig(envs[i], numAgents[i], (float)alphas[i], (float)scaling[i], resets[i])).ToList();
        var cfg = new MetaA2CConfig(tasks, run.GetLong("env.train_steps"), run.GetInt("agent.inner_updates", 4), pipeline,
            run.GetDouble("agent_optim.kwargs.grad_clip", -1), run.GetDouble("meta_optim.kwargs.max_norm", -1), A2CConfigOf(run), run.RunSeed);
        var metaOpt = Optax.FromConfig(run.GetString("meta_optim.name"), run.GetDouble("meta_optim.kwargs.learning_rate"),
            run.GetDouble("meta_optim.kwargs.grad_clip", -1), run.GetDouble("meta_optim.kwargs.grad_norm", -1));
        float[]? phi0 = null;
        string load = run.GetString("agent_optim.kwargs.param_load_path", "");
        if (!string.IsNullOrWhiteSpace(load)) phi0 = MetaParamsFile.Load(load, lopt.Name, lopt.HiddenSize, lopt.Layout);

        var meta = new MetaA2C(cfg, lopt, metaOpt, phi0) { MaxDegreeOfParallelism = options.Threads };
        string ckpt = dir.PathOf(CheckpointFileName);
        string metaCsv = dir.PathOf("meta_train.csv");
        var rows = new StringBuilder("iteration,step,meta_loss,meta_grad_norm,agents_mean_return\n");
        if (options.Resume && File.Exists(ckpt))
        {
            using (var s = File.OpenRead(ckpt)) meta.LoadCheckpoint(s);
            if (File.Exists(metaCsv))
            {
                // Keep the rows up to the checkpoint, so the CSV matches the resumed state.
                rows.Clear();
                foreach (var line in File.ReadLines(metaCsv))
                {
                    var first = line.Split(',')[0];
                    if (!long.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out long it) || it <= meta.Iteration) rows.AppendLine(line);
                }
            }
            log.Info($"resumed from {ckpt} at meta-iteration {meta.Iteration}");
        }
        log.Info($"{(pipeline ? "MetaA2C (pipeline)" : "MetapA2C (no pipeline)")}: {n} task(s) [{string.Join(", ", envs)}], {meta.Iterations} meta-iterations, {lopt.Name} with {lopt.Layout.Count} meta-parameters");

        void Checkpoint()
        {
            AtomicFile.Write(ckpt, meta.SaveCheckpoint);
            AtomicFile.WriteAllText(metaCsv, rows.ToString());
        }

        long lastGood = meta.Iteration;
        var started = DateTime.UtcNow;
        try
        {
            while (meta.Iteration < meta.Iterations)
            {
                if (cancel.IsCancellationRequested)
                {
                    Checkpoint();
                    log.Warning($"interrupted at meta-iteration {meta.Iteration}; checkpoint written, continue with --resume");
                    return new RunOutcome(dir.Path, false, [$"interrupted at meta-iteration {meta.Iteration}/{meta.Iterations}; resume with --resume"]);
                }
                var l = meta.Step();
                rows.Append(CultureInfo.InvariantCulture, $"{l.Iteration},{l.Step},{l.MetaLoss:R},{l.MetaGradNorm:R},{(l.Episodes > 0 ? l.MeanReturn.ToString("R", CultureInfo.InvariantCulture) : "")}\n");
                progress?.Report(new RunProgress($"{(pipeline ? "MetaA2C" : "MetapA2C")} {string.Join("+", envs)}", l.Iteration, meta.Iterations,
                    $"meta-loss {l.MetaLoss:F3}, return {l.MeanReturn:F2}"));
                if (l.Iteration % Math.Max(1, run.GetInt("display_interval", 50)) == 0)
                    log.Info($"iteration {l.Iteration}/{meta.Iterations} step {l.Step}: meta-loss {l.MetaLoss:F4}, |∇φ| {l.MetaGradNorm:E2}, agents' return {l.MeanReturn:F3}");
                if (l.Iteration % options.CheckpointEvery == 0)
                {
                    Checkpoint();
                    lastGood = l.Iteration;
                }
            }
        }
        catch (TrainingDivergedException e)
        {
            log.Error(e.Message);
            throw new TrainingDivergedException($"{e.Message} The last good checkpoint (meta-iteration {lastGood}) is kept in {ckpt}.");
        }
        Checkpoint();
        MetaParamsFile.Save(dir.ParamPath, lopt.Name, lopt.HiddenSize, lopt.Layout, meta.Phi, new Dictionary<string, string>
        {
            ["experiment"] = run.Experiment,
            ["config_idx"] = run.ConfigIdx.ToString(CultureInfo.InvariantCulture),
            ["meta_iterations"] = meta.Iteration.ToString(CultureInfo.InvariantCulture),
            ["tasks"] = string.Join(",", envs),
        });
        string done = $"meta-trained {lopt.Name} for {meta.Iteration} meta-iterations in {(DateTime.UtcNow - started).TotalSeconds:F0} s; φ written to {dir.ParamPath}";
        log.Info(done);
        return new RunOutcome(dir.Path, true, [done]);
    }
}
