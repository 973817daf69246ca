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
/// <param name="Force">Start even when the memory estimate (<see cref="MemoryEstimate"/>) exceeds the memory available.</param>
public sealed record RunOptions(string LogsRoot = RunDirectory.DefaultLogsRoot, bool Resume = false, int? Threads = null, int CheckpointEvery = 50, bool Force = false);

/// <summary>What a run produced.</summary>
/// <param name="Directory">The run directory.</param>
/// <param name="Completed">False when it was interrupted (a checkpoint was written for meta runs).</param>
/// <param name="Summary">One line per task or phase, for the console.</param>
public sealed record RunOutcome(string Directory, bool Completed, IReadOnlyList<string> Summary);

/// <summary>
/// Runs one configuration of a sweep file (spec §9) and writes its run directory
/// <c>logs/&lt;config name&gt;/&lt;k&gt;/</c>: the resolved <c>config.json</c> (with the seed used),
/// <c>log.txt</c>, and <c>result_&lt;env&gt;.csv</c> (Step, Return; spec §8) for A2C and PPO (PPO adds
/// <c>eval_stochastic_&lt;env&gt;.csv</c> and <c>eval_deterministic_&lt;env&gt;.csv</c>), or
/// <c>param.json</c> (φ), <c>meta_train.csv</c> and <c>checkpoint.bin</c> for MetaA2C/MetapA2C and
/// MetaPPO/MetapPPO; gradient collection (<c>A2Ccollect</c>, <c>SLCollect</c>) is in <see cref="CollectRunner"/>.
/// </summary>
public static class ExperimentRunner
{
    /// <summary>Agent names this runner accepts.</summary>
    public static readonly IReadOnlyList<string> AgentNames = ["A2C", "MetaA2C", "MetapA2C", "PPO", "MetaPPO", "MetapPPO", CollectRunner.A2CCollectName, CollectRunner.SupervisedCollectName];

    /// <summary>The reference's separate STAR agents; here one trainer serves every learned optimizer.</summary>
    private static readonly string[] StarAgents = ["A2Cstar", "MetaA2Cstar", "PPOstar", "MetaPPOstar"];

    /// <summary>Evaluation environments per PPO evaluation when <c>env.num_eval_envs</c> is absent (Brax's default).</summary>
    public const int DefaultEvalEnvs = 128;

    /// <summary>Pieces a PPO minibatch loss is split into (fixed, so results do not depend on the machine's core count).</summary>
    private const int PpoLossChunks = 4;

    /// <summary>The checkpoint file of a meta-training run directory.</summary>
    public const string CheckpointFileName = "checkpoint.bin";

    /// <summary>Runs configuration <paramref name="configIdx"/> (1-based) of <paramref name="sweep"/>.</summary>
    /// <exception cref="ConfigException">A key is missing or of the wrong type, or the agent name is unknown.</exception>
    /// <exception cref="ArgumentException">An unknown task or optimizer name.</exception>
    /// <exception cref="TrainingDivergedException">NaN/Inf during training (the last checkpoint is kept).</exception>
    public static RunOutcome Run(SweepConfig sweep, int configIdx, RunOptions options, IProgress<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        var run = sweep.ResolveRun(configIdx);
        ConfigSchema.Validate(run, options.Force ? ConfigChecks.Files : ConfigChecks.Run);
        string agent = run.GetString("agent.name");
        if (StarAgents.Contains(agent))
            throw new ConfigException($"config key 'agent.name': '{agent}' is the reference's STAR agent; here every learned optimizer, STAR included, runs with '{agent.Replace("star", "", StringComparison.Ordinal)}' (set agent_optim.name to \"STAR\"; see configs/meta_star_catch.json).");
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
            "PPO" => RunPpo(run, dir, log, options, progress, cancel),
            _ => RunMeta(run, dir, log, options, agent, progress, cancel),
        };
    }

    /// <summary>The A2C hyper-parameters of a resolved config (reference keys, spec defaults).</summary>
    public static A2CConfig A2CConfigOf(RunConfig run) => new(
        RolloutSteps: run.GetInt("agent.rollout_steps", 20),
        Discount: run.GetDouble("discount", 0.995),
        GaeLambda: run.GetDouble("agent.gae_lambda", 0.95),
        CriticLossWeight: run.GetDouble("agent.critic_loss_weight", 0.5),
        EntropyWeight: run.GetDouble("agent.entropy_weight", 0.01));

    /// <summary>
    /// The PPO hyper-parameters of a resolved config (the reference's keys: <c>agent.rollout_steps</c>,
    /// <c>batch_size</c>, <c>agent.num_minibatches</c>, <c>agent.update_epochs</c>, <c>discount</c>,
    /// <c>agent.gae_lambda</c>, <c>agent.clipping_epsilon</c>, <c>agent.entropy_weight</c>,
    /// <c>env.normalize_obs</c>; ours: <c>agent.policy_hidden_layer_sizes</c>,
    /// <c>agent.value_hidden_layer_sizes</c>). Reward scaling is per task and set by the caller.
    /// </summary>
    /// <exception cref="ConfigException">A key has the wrong type.</exception>
    public static PpoConfig PpoConfigOf(RunConfig run)
    {
        var d = new PpoConfig();
        int batch = run.GetInt("batch_size", d.BatchSize);
        return d with
        {
            UnrollLength = run.GetInt("agent.rollout_steps", d.UnrollLength),
            BatchSize = batch,
            NumMinibatches = run.GetInt("agent.num_minibatches", d.NumMinibatches),
            UpdateEpochs = run.GetInt("agent.update_epochs", d.UpdateEpochs),
            Discount = run.GetDouble("discount", d.Discount),
            GaeLambda = run.GetDouble("agent.gae_lambda", d.GaeLambda),
            ClippingEpsilon = run.GetDouble("agent.clipping_epsilon", d.ClippingEpsilon),
            EntropyCost = run.GetDouble("agent.entropy_weight", d.EntropyCost),
            NormalizeObservations = run.GetBool("env.normalize_obs", d.NormalizeObservations),
            PolicyHiddenSizes = run.Has("agent.policy_hidden_layer_sizes") ? run.GetIntList("agent.policy_hidden_layer_sizes") : d.PolicyHiddenSizes,
            ValueHiddenSizes = run.Has("agent.value_hidden_layer_sizes") ? run.GetIntList("agent.value_hidden_layer_sizes") : d.ValueHiddenSizes,
        };
    }

    /// <summary>
    /// The agent's optimizer from config section <paramref name="section"/> (<c>agent_optim</c>, or <c>optim</c>
    /// in the reference's PPO files): a hand-designed one through <see cref="Optax.FromConfig"/>, or a
    /// learned optimizer with φ loaded from <c>kwargs.param_load_path</c>.
    /// </summary>
    private static IOptimizer AgentOptimizer(RunConfig run, string section, double learningRate, RunLog log)
    {
        string optName = run.GetString(section + ".name");
        double gradClip = run.GetDouble(section + ".kwargs.grad_clip", -1);
        double gradNorm = run.GetDouble(section + ".kwargs.grad_norm", -1);
        if (!LearnedOptimizers.Names.Contains(optName, StringComparer.OrdinalIgnoreCase))
            return Optax.FromConfig(optName, learningRate, gradClip, gradNorm);
        var lopt = LearnedOptimizers.Create(optName);
        string path = run.GetString(section + ".kwargs.param_load_path", "");
        if (string.IsNullOrWhiteSpace(path))
            throw new ConfigException($"config key '{section}.kwargs.param_load_path' is empty: a learned optimizer ({optName}) needs a φ file; run a Meta config first and point this key to its param.json.");
        float[] phi = MetaParamsFile.Load(path, lopt.Name, lopt.HiddenSize, lopt.Layout);
        log.Info($"loaded φ of {lopt.Name} from {path}");
        return new LearnedOptimizer(lopt, phi, (float)learningRate, (float)gradClip);
    }

    private static RunOutcome RunA2C(RunConfig run, RunDirectory dir, RunLog log, RunOptions options, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        var envs = run.GetStringList("env.name");
        int numEnvs = run.GetInt("env.num_envs");
        long trainSteps = run.GetLong("env.train_steps");
        var scaling = run.GetDoublePerTask("env.reward_scaling", envs.Count, 1.0);
        var lrs = run.GetDoublePerTask("agent_optim.kwargs.learning_rate", envs.Count);
        var cfg = A2CConfigOf(run);
        var summary = new List<string>();
        var root = new Rng(run.RunSeed);

        for (int i = 0; i < envs.Count; i++)
        {
            var optimizer = AgentOptimizer(run, "agent_optim", lrs[i], log);
            var taskRng = root.Split((ulong)i);
            var shards = A2C.CreateShards(envs[i], numEnvs, A2C.DefaultShards(numEnvs), taskRng.Split(0), (float)scaling[i]);
            var env = shards[0];
            var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount);
            var a2c = new A2C(spec, shards, optimizer, cfg, taskRng.Split(1)) { MaxDegreeOfParallelism = options.Threads };
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
            string line = $"{env.Name}: final return {Fmt(final, "F3")} (mean of last 10 % of {logs.Count} iterations) in {(DateTime.UtcNow - started).TotalSeconds:F1} s";
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

    private static RunOutcome RunPpo(RunConfig run, RunDirectory dir, RunLog log, RunOptions options, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        var envs = run.GetStringList("env.name");
        int numEnvs = run.GetInt("env.num_envs");
        long trainSteps = run.GetLong("env.train_steps");
        int numEvals = Math.Max(1, run.GetInt("env.num_evals", 1));
        int evalEnvs = run.GetInt("env.num_eval_envs", DefaultEvalEnvs);
        if (run.GetInt("env.action_repeat", 1) != 1)
            throw new ConfigException("config key 'env.action_repeat': only 1 is supported (the reference's value).");
        var scaling = run.GetDoublePerTask("env.reward_scaling", envs.Count, 1.0);
        string optSection = run.Has("optim") ? "optim" : "agent_optim";
        var lrs = run.GetDoublePerTask(optSection + ".kwargs.learning_rate", envs.Count);
        var baseCfg = PpoConfigOf(run);
        baseCfg = baseCfg with { LossChunks = LossChunksFor(baseCfg.BatchSize) };
        var po = new ParallelOptions { MaxDegreeOfParallelism = options.Threads ?? -1 };
        var summary = new List<string>();
        var root = new Rng(run.RunSeed);

        for (int i = 0; i < envs.Count; i++)
        {
            var cfg = baseCfg with { RewardScaling = scaling[i] };
            var taskRng = root.Split((ulong)i);
            var env = ContinuousEnvRegistry.Create(envs[i], numEnvs, taskRng.Split(0));
            Validate(cfg, numEnvs);
            if (run.Has("env.episode_length") && run.GetInt("env.episode_length") != env.MaxEpisodeSteps)
                log.Warning($"env.episode_length is {run.GetInt("env.episode_length")} but {env.Name} truncates episodes at {env.MaxEpisodeSteps} steps; the task's limit is used.");
            var optimizer = AgentOptimizer(run, optSection, lrs[i], log);
            var nets = PpoNetworks.For(env.ObservationSize, env.ActionSize, cfg);
            var ppo = new Ppo(nets, env, optimizer, cfg, taskRng.Split(1)) { Parallelism = po };
            var evaluator = new PpoEvaluator(ppo.Agent, ContinuousEnvRegistry.Create(envs[i], evalEnvs, taskRng.Split(2)), taskRng.Split(3));
            long perEval = trainSteps / (numEvals * ppo.StepsPerIteration);
            if (perEval < 1)
                throw new ConfigException($"config key 'env.train_steps' ({trainSteps}) is below num_evals × batch_size × num_minibatches × rollout_steps = {numEvals * ppo.StepsPerIteration}: no training step would run.");
            long total = perEval * numEvals;
            var csv = new ResultCsv(dir.ResultPath(env.Name));
            var evalSto = new ResultCsv(dir.PathOf($"eval_stochastic_{env.Name}.csv"));
            var evalDet = new ResultCsv(dir.PathOf($"eval_deterministic_{env.Name}.csv"));
            log.Info($"task {i + 1}/{envs.Count}: {env.Name}, {numEnvs} envs, {total} training steps of {ppo.StepsPerIteration} env steps, {numEvals} evaluations on {evalEnvs} envs, optimizer {optimizer.Name}, {nets.ParamCount} parameters");

            var logs = new List<IterationLog>();
            var started = DateTime.UtcNow;
            double lastEval = double.NaN;
            void Evaluate(long step)
            {
                var sto = evaluator.Evaluate(deterministic: false);
                var det = evaluator.Evaluate(deterministic: true);
                evalSto.Add(step, sto.MeanReturn);
                evalDet.Add(step, det.MeanReturn);
                evalSto.Save();
                evalDet.Save();
                lastEval = sto.MeanReturn;
                log.Info($"step {step}: evaluation return {sto.MeanReturn:F2} (stochastic), {det.MeanReturn:F2} (deterministic) over {sto.Environments} episodes; {(DateTime.UtcNow - started).TotalSeconds:F0} s");
            }

            if (numEvals > 1) Evaluate(0);
            for (int e = 1; e <= numEvals && !cancel.IsCancellationRequested; e++)
            {
                for (long k = 0; k < perEval && !cancel.IsCancellationRequested; k++)
                {
                    var l = ppo.TrainingStep();
                    logs.Add(l);
                    if (l.Episodes > 0) csv.Add(l.Step, l.MeanReturn);
                    progress?.Report(new RunProgress($"PPO {env.Name}", l.Step, total * ppo.StepsPerIteration,
                        $"train return {LearningCurve.FinalReturn(logs, 0.05):F2}, eval {lastEval:F2}"));
                }
                csv.Save();
                if (!cancel.IsCancellationRequested) Evaluate(ppo.Iteration * ppo.StepsPerIteration);
            }
            csv.Save();
            string line = $"{env.Name}: evaluation return {lastEval:F2}, training return {Fmt(LearningCurve.FinalReturn(logs), "F2")} (last 10 % of {logs.Count} training steps) in {(DateTime.UtcNow - started).TotalSeconds:F1} s";
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

    /// <summary>The largest of 4, 2, 1 that divides the minibatch (the loss's parallel pieces).</summary>
    /// <summary>A return for the console: "n/a (no episode finished)" instead of NaN.</summary>
    private static string Fmt(double value, string format) =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a (no episode finished)";

    private static int LossChunksFor(int batchSize) => batchSize % PpoLossChunks == 0 ? PpoLossChunks : batchSize % 2 == 0 ? 2 : 1;

    private static void Validate(PpoConfig cfg, int numEnvs)
    {
        try
        {
            cfg.Validate(numEnvs);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"invalid PPO settings: {e.Message}", e);
        }
    }

    private static (IMetaTrainer Trainer, string Tasks) BuildMetaA2C(RunConfig run, bool pipeline)
    {
        var envs = run.GetStringList("env.name");
        int n = envs.Count;
        var numAgents = run.GetIntPerTask("env.num_envs", n);
        var scaling = run.GetDoublePerTask("env.reward_scaling", n, 1.0);
        var alphas = run.GetDoublePerTask("agent_optim.kwargs.learning_rate", n);
        // reset_interval is −1 in the no-pipeline files; it is unused there.
        var resets = run.GetIntPerTask("agent.reset_interval", n, 1).Select(r => pipeline ? r : Math.Max(1, r)).ToArray();
        var lopt = LearnedOptimizers.Create(MetaOptimizerName(run));
        var tasks = Enumerable.Range(0, n).Select(i => new MetaTaskConfig(envs[i], numAgents[i], (float)alphas[i], (float)scaling[i], resets[i])).ToList();
        var cfg = new MetaA2CConfig(tasks, run.GetLong("env.train_steps"), run.GetInt("agent.inner_updates", 4), pipeline,
            run.GetDouble("agent_optim.kwargs.grad_clip", -1), run.GetDouble("meta_optim.kwargs.max_norm", -1), A2CConfigOf(run), run.RunSeed);
        return (new MetaA2C(cfg, lopt, MetaOptimizer(run), InitialPhi(run, lopt)), string.Join(", ", envs));
    }

    private static (IMetaTrainer Trainer, string Tasks) BuildMetaPpo(RunConfig run, bool pipeline)
    {
        var envs = run.GetStringList("env.name");
        if (envs.Count != 1) throw new ConfigException($"config key 'env.name': MetaPPO trains on one task, found {envs.Count}.");
        string env = envs[0];
        int numEnvs = run.GetInt("env.num_envs");
        int numAgents = run.GetInt("agent.num_agents", 1);
        var agentCfg = PpoConfigOf(run) with { RewardScaling = run.GetDouble("env.reward_scaling", 1.0) };
        // Several agents already run in parallel; a single agent splits its loss instead.
        agentCfg = agentCfg with { LossChunks = numAgents == 1 ? LossChunksFor(agentCfg.BatchSize) : 1 };
        var lopt = LearnedOptimizers.Create(MetaOptimizerName(run));
        int reset = run.GetInt("agent.reset_interval", 1);
        var cfg = new MetaPpoConfig(env, numEnvs, numAgents, run.GetLong("env.train_steps"), run.GetInt("agent.inner_updates", 4), pipeline,
            pipeline ? reset : Math.Max(1, reset), (float)run.GetDouble("agent_optim.kwargs.learning_rate"),
            run.GetDouble("agent_optim.kwargs.grad_clip", -1), run.GetDouble("meta_optim.kwargs.max_norm", -1), agentCfg, run.RunSeed);
        try
        {
            cfg.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"invalid MetaPPO settings: {e.Message}", e);
        }
        var trainer = new MetaPpo(cfg, lopt.Name, MetaOptimizer(run), (count, rng) => ContinuousEnvRegistry.Create(env, count, rng), InitialPhi(run, lopt));
        return (trainer, $"{env}, {numAgents} agent(s) × {cfg.EnvsPerAgent} envs");
    }

    private static string MetaOptimizerName(RunConfig run)
    {
        string optName = run.GetString("agent_optim.name");
        if (!LearnedOptimizers.Names.Contains(optName, StringComparer.OrdinalIgnoreCase))
            throw new ConfigException($"config key 'agent_optim.name': '{optName}' is not a learned optimizer; meta-training needs one of {string.Join(", ", LearnedOptimizers.Names)}.");
        return optName;
    }

    private static IOptimizer MetaOptimizer(RunConfig run) =>
        Optax.FromConfig(run.GetString("meta_optim.name"), run.GetDouble("meta_optim.kwargs.learning_rate"),
            run.GetDouble("meta_optim.kwargs.grad_clip", -1), run.GetDouble("meta_optim.kwargs.grad_norm", -1));

    private static float[]? InitialPhi(RunConfig run, ILearnedOptimizer lopt)
    {
        string load = run.GetString("agent_optim.kwargs.param_load_path", "");
        return string.IsNullOrWhiteSpace(load) ? null : MetaParamsFile.Load(load, lopt.Name, lopt.HiddenSize, lopt.Layout);
    }

    private static RunOutcome RunMeta(RunConfig run, RunDirectory dir, RunLog log, RunOptions options, string agent, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        bool pipeline = agent is "MetaA2C" or "MetaPPO";
        var (meta, tasksText) = agent is "MetaA2C" or "MetapA2C" ? BuildMetaA2C(run, pipeline) : BuildMetaPpo(run, pipeline);
        meta.MaxDegreeOfParallelism = options.Threads;
        var lopt = meta.LearnedOptimizer;
        var envs = run.GetStringList("env.name");
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
        log.Info($"{agent} ({(pipeline ? "pipeline" : "no pipeline")}): [{tasksText}], {meta.Iterations} meta-iterations, {lopt.Name} with {lopt.Layout.Count} meta-parameters");

        void Checkpoint()
        {
            AtomicFile.Write(ckpt, meta.SaveCheckpoint);
            AtomicFile.WriteAllText(metaCsv, rows.ToString());
        }

        long lastGood = meta.Iteration;
        int displayInterval = Math.Max(1, run.GetInt("display_interval", 50));
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
                progress?.Report(new RunProgress($"{agent} {string.Join("+", envs)}", l.Iteration, meta.Iterations,
                    $"meta-loss {l.MetaLoss:F3}, return {l.MeanReturn:F2}"));
                if (l.Iteration % displayInterval == 0)
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
