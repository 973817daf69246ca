namespace Optim4RL.Experiments;

/// <summary>Options of one <see cref="ExperimentRunner.Run"/> call.</summary>
/// <param name="LogsRoot">Root of the run directories (<c>logs</c>).</param>
/// <param name="Resume">Continue a meta-training run from its last checkpoint when one exists.</param>
/// <param name="Threads">Threads (null = all cores).</param>
/// <param name="CheckpointEvery">Meta-iterations between checkpoints.</param>
/// <param name="Overwrite">Replace the results of a previous run in the same directory (otherwise such a directory is refused unless resuming).</param>
/// <param name="RestartPopulation">Continue a meta-training run from its small meta-state file (φ, meta-optimizer state, CSV rows) with a fresh population of agents, re-staggered by a warm-up with φ frozen.</param>
/// <param name="Force">Run despite a failed safety check: the memory estimate (<see cref="MemoryEstimate"/>) above the memory available, or resuming a checkpoint written with other numeric options.</param>
/// <param name="Ranks">The MPI job whose ranks share this one run (the meta-training kinds, <see cref="RankedMetaRun.Kinds"/>), or null to run it in this process alone (a sweep's ranks each run their own indices so).</param>
public sealed record RunOptions(string LogsRoot = RunDirectory.DefaultLogsRoot, bool Resume = false, int? Threads = null, int CheckpointEvery = 50,
    bool Overwrite = false, bool Force = false, bool RestartPopulation = false, Distributed.Communicator? Ranks = null);

/// <summary>What a run produced.</summary>
/// <param name="Directory">The run directory.</param>
/// <param name="Completed">False when it was interrupted (a checkpoint was written for meta runs).</param>
/// <param name="Summary">One line per task or phase, for the console.</param>
public sealed record RunOutcome(string Directory, bool Completed, IReadOnlyList<string> Summary);

/// <summary>
/// Runs one configuration of a sweep file (docs/experiment-configs.md) and writes its run directory
/// <c>logs/&lt;config name&gt;/&lt;k&gt;/</c>: the resolved <c>config.json</c> (with the seed used),
/// <c>log.txt</c>, and <c>result_&lt;env&gt;.csv</c> (Step, Return; docs/evaluation-protocol.md) for A2C and PPO (PPO adds
/// <c>eval_stochastic_&lt;env&gt;.csv</c> and <c>eval_deterministic_&lt;env&gt;.csv</c>) with the trained agent in
/// <c>policy_&lt;env&gt;.bin</c> (<see cref="RunPolicies"/>), or
/// <c>param.json</c> (φ), <c>meta_train.csv</c> and <c>checkpoint.bin</c> for MetaA2C/MetapA2C and
/// MetaPPO/MetapPPO; gradient collection (<c>A2Ccollect</c>, <c>SLCollect</c>) is in <see cref="CollectRunner"/>.
/// All but <c>SLCollect</c> also write <c>metrics.csv</c> and a TensorBoard event file (<see cref="RunMetrics"/>)
/// whenever they write their result CSV.
/// </summary>
public static class ExperimentRunner
{
    /// <summary>Agent names this runner accepts.</summary>
    public static readonly IReadOnlyList<string> AgentNames = ["A2C", "MetaA2C", "MetapA2C", "PPO", "MetaPPO", "MetapPPO", CollectRunner.A2CCollectName, CollectRunner.SupervisedCollectName];

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
        // ConfigSchema.Validate has refused the reference's STAR agent names and unknown agents.

        if (options.RestartPopulation && (options.Resume || options.Overwrite))
            throw new ConfigException("--restart-population continues a run from its meta-state file with new agents; it cannot be combined with --resume or --overwrite.");
        if (options.Resume && options.Overwrite)
            throw new ConfigException("--resume and --overwrite exclude each other: --resume continues the run in its directory, --overwrite deletes its results and starts again.");

        var dir = RunDirectory.For(sweep.Name, sweep.NormalizeIndex(configIdx), options.LogsRoot);
        var world = options.Ranks ?? Distributed.SingleProcessCommunicator.Instance;
        if (world.Size > 1)
        {
            RankedMetaRun.CheckSupported(agent, options, world);
            if (!world.IsRoot) return FollowRank(run, agent, options, world, dir);
        }
        try
        {
            return RunHere(sweep, configIdx, run, agent, dir, options, progress, cancel);
        }
        finally
        {
            RankedMetaRun.Release(world);
        }
    }

    /// <summary>Refuses, before anything is printed or written, a configuration whose kind does not use <see cref="RunOptions.Ranks"/> when there are several.</summary>
    /// <exception cref="ConfigException">A kind that is not meta-training, under several ranks.</exception>
    public static void CheckRanks(SweepConfig sweep, int configIdx, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Ranks is { Size: > 1 } world) RankedMetaRun.CheckSupported(sweep.ResolveRun(configIdx).GetString("agent.name", "?"), options, world);
    }

    /// <summary>A rank other than 0 of a meta-training job: builds its share of the trainer and steps it when rank 0 says so.</summary>
    private static RunOutcome FollowRank(RunConfig run, string agent, RunOptions options, Distributed.Communicator world, RunDirectory dir)
    {
        IMetaTrainer? meta = null;
        Exception? failed = null;
        try
        {
            meta = (agent is "MetaPPO" or "MetapPPO" ? BuildMetaPpo(run, agent == "MetaPPO", world) : BuildMetaA2C(run, agent == "MetaA2C", world)).Trainer;
            meta.MaxDegreeOfParallelism = options.Threads;
            // Rank 0 resumes from checkpoint.bin, or from checkpoint.prev.bin when the newest is missing: so does this rank.
            string ckpt = dir.PathOf(CheckpointFileName);
            if (options.Resume && !File.Exists(ckpt)) ckpt = CheckpointFile.PreviousPath(ckpt);
            if (options.Resume && File.Exists(ckpt)) CheckpointFile.Read(ckpt, (_, r) => RankedMetaRun.LoadCheckpoint(meta, r.BaseStream, dir, world));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            failed = e; // rank 0 builds the same trainer: it fails alike and says stop, or this rank stops the job
        }
        return RankedMetaRun.Follow(meta, failed, world, dir);
    }

    private static RunOutcome RunHere(SweepConfig sweep, int configIdx, RunConfig run, string agent, RunDirectory dir, RunOptions options,
        IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        bool existed = Directory.Exists(dir.Path);
        bool keepDirectory = true;
        var runLock = RunLock.Acquire(dir.Path);
        try
        {
            AtomicFile.RemoveStale(dir.Path);
            var previous = dir.ExistingFiles();
            bool resume = previous.Count > 0 && (options.Resume || options.RestartPopulation);
            if (options.RestartPopulation && previous.Count == 0)
                throw new RunDirectoryException($"run {dir.Path} holds no run to restart; --restart-population continues an existing meta-training run.");
            if (previous.Count > 0 && !options.Resume && !options.Overwrite && !options.RestartPopulation)
                throw new RunDirectoryException($"run {dir.Path} already holds results ({string.Join(", ", previous.Take(4))}{(previous.Count > 4 ? ", …" : "")}); continue it with --resume (meta-training) or start it again with --overwrite.");

            // Everything that can reject the config runs before the first file is written.
            var job = Kinds[agent](new KindContext(run, dir, options, agent, resume, progress, cancel));
            if (previous.Count > 0 && options.Overwrite) dir.Clear(); // only now: a rejected config loses nothing
            if (resume) RecordResume(run, dir, options);
            else WriteConfig(run, dir, options);
            using var log = new RunLog(dir.LogPath);
            log.Info($"{sweep.Name} config {configIdx}/{sweep.Total}: agent {agent}, seed {run.RunSeed}{(resume ? " (resuming)" : "")}");
            return job(log);
        }
        catch when (!existed && dir.ExistingFiles().Count == 0)
        {
            keepDirectory = false;
            throw;
        }
        finally
        {
            runLock.Dispose();
            if (!keepDirectory) TryRemoveEmptyRunDirectory(dir.Path);
        }
    }

    /// <summary>The resolved config with a <c>provenance</c> object (commit, dirty flag, threads, numeric options).</summary>
    internal static void WriteConfig(RunConfig run, RunDirectory dir, RunOptions options)
    {
        var config = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(run.ToConfigJson())!;
        config["provenance"] = Provenance.Describe(options.Threads, StateDtypeSetting.Of(run));
        AtomicFile.WriteAllText(dir.ConfigPath, config.ToJsonString(JsonText.Indented) + "\n");
    }

    /// <summary>Appends this process's provenance to config.json's <c>provenance.resumed</c> list (the settings themselves were checked against the checkpoint).</summary>
    private static void RecordResume(RunConfig run, RunDirectory dir, RunOptions options)
    {
        System.Text.Json.Nodes.JsonObject config;
        try
        {
            config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(dir.ConfigPath)) as System.Text.Json.Nodes.JsonObject ?? throw new InvalidDataException();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
        {
            WriteConfig(run, dir, options); // missing or damaged: the checkpoint's settings equal the config's, so rewrite it
            return;
        }

        var provenance = config["provenance"] as System.Text.Json.Nodes.JsonObject ?? [];
        config["provenance"] = provenance;
        var resumed = provenance["resumed"] as System.Text.Json.Nodes.JsonArray ?? [];
        provenance["resumed"] = resumed;
        var now = Provenance.Describe(options.Threads, StateDtypeSetting.Of(run));
        now["time"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        resumed.Add(now);
        AtomicFile.WriteAllText(dir.ConfigPath, config.ToJsonString(JsonText.Indented) + "\n");
    }

    /// <summary>What a run kind's binding gets: the resolved config, its directory, the options and the run's plumbing.</summary>
    private sealed record KindContext(RunConfig Run, RunDirectory Dir, RunOptions Options, string Agent, bool Resume, IProgress<RunProgress>? Progress, CancellationToken Cancel);

    /// <summary>
    /// The run kinds: agent name → how to bind its config (already checked against <see cref="ConfigKeys"/>) and
    /// prepare the job. Anything that rejects the config throws here, before a file is written.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, Func<KindContext, Func<RunLog, RunOutcome>>> Kinds = new Dictionary<string, Func<KindContext, Func<RunLog, RunOutcome>>>
    {
        ["A2C"] = c => PrepareA2C(c.Run, c.Dir, c.Options, c.Resume, c.Progress, c.Cancel),
        [CollectRunner.A2CCollectName] = c => PrepareA2C(c.Run, c.Dir, c.Options, c.Resume, c.Progress, c.Cancel),
        [CollectRunner.SupervisedCollectName] = c => PrepareSimple(c.Dir, c.Resume, log => CollectRunner.RunSupervised(c.Run, c.Dir, log, c.Progress, c.Cancel)),
        ["PPO"] = c => PrepareSimple(c.Dir, c.Resume, log => RunPpo(c.Run, c.Dir, log, c.Options, c.Progress, c.Cancel)),
        ["MetaA2C"] = Meta(BuildMetaA2C, pipeline: true),
        ["MetapA2C"] = Meta(BuildMetaA2C, pipeline: false),
        ["MetaPPO"] = Meta(BuildMetaPpo, pipeline: true),
        ["MetapPPO"] = Meta(BuildMetaPpo, pipeline: false),
    };

    private static Func<KindContext, Func<RunLog, RunOutcome>> Meta(Func<RunConfig, bool, Distributed.Communicator?, (IMetaTrainer, string)> build, bool pipeline) =>
        c => MetaRun.Prepare(c.Run, c.Dir, c.Options, c.Agent, pipeline, run =>
        {
            var (trainer, tasks) = build(run, pipeline, c.Options.Ranks);
            return (RankedMetaRun.Lead(trainer, c.Options.Ranks, c.Dir), tasks);
        }, c.Resume, c.Progress, c.Cancel);

    private static Func<RunLog, RunOutcome> PrepareSimple(RunDirectory dir, bool resume, Func<RunLog, RunOutcome> job)
    {
        RejectResume(dir, resume);
        return job;
    }

    private static void RejectResume(RunDirectory dir, bool resume)
    {
        if (resume)
            throw new RunDirectoryException($"run {dir.Path} already holds results and this kind of run has no checkpoint to resume from; start it again with --overwrite.");
    }

    private static void TryRemoveEmptyRunDirectory(string path)
    {
        try
        {
            foreach (string f in Directory.EnumerateFiles(path)) File.Delete(f);
            Directory.Delete(path);
        }
        catch (IOException)
        {
            // Only tidiness: an empty run directory is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The A2C hyper-parameters of a resolved config (reference keys, the paper's defaults).</summary>
    public static A2CConfig A2CConfigOf(RunConfig run) => new(
        RolloutSteps: run.GetInt("agent.rollout_steps", 20),
        Discount: run.GetDouble("discount", 0.995),
        GaeLambda: run.GetDouble("agent.gae_lambda", 0.95),
        CriticLossWeight: run.GetDouble("agent.critic_loss_weight", 0.5),
        EntropyWeight: run.GetDouble("agent.entropy_weight", 0.01));

    /// <summary>
    /// How the big gridworlds' conv reads the observation, <c>agent.conv_layout</c>:
    /// <c>reference</c> (default, the reference implementation's network) or <c>rows_cols</c>.
    /// </summary>
    /// <exception cref="ConfigException">Any other value.</exception>
    public static ConvLayout ConvLayoutOf(RunConfig run)
    {
        string name = run.GetString("agent.conv_layout", ConvLayouts.ReferenceName);
        return ConvLayouts.TryParse(name, out var layout) ? layout
            : throw new ConfigException($"config key 'agent.conv_layout': unknown layout '{name}'. Valid: {string.Join(", ", ConvLayouts.Names)}.");
    }

    /// <summary>
    /// The PPO hyper-parameters of a resolved config (the reference's keys: <c>agent.rollout_steps</c>,
    /// <c>batch_size</c>, <c>agent.num_minibatches</c>, <c>agent.update_epochs</c>, <c>discount</c>,
    /// <c>agent.gae_lambda</c>, <c>agent.clipping_epsilon</c>, <c>agent.entropy_weight</c>,
    /// <c>env.normalize_obs</c>; ours: <c>agent.policy_hidden_layer_sizes</c>,
    /// <c>agent.value_hidden_layer_sizes</c>). Reward scaling is per task and set by the caller.
    /// Without <c>agent.value_hidden_layer_sizes</c> the value network is plain PPO's 5 × 256
    /// (<see cref="PpoConfig.PpoValueHiddenSizes"/>), or 5 × 64 (<see cref="PpoConfig.MetaValueHiddenSizes"/>)
    /// when <c>agent.name</c> is MetaPPO or MetapPPO, as in the reference.
    /// </summary>
    /// <exception cref="ConfigException">A key has the wrong type.</exception>
    public static PpoConfig PpoConfigOf(RunConfig run)
    {
        bool meta = run.GetString("agent.name", "PPO") is "MetaPPO" or "MetapPPO";
        var d = new PpoConfig { ValueHiddenSizes = meta ? PpoConfig.MetaValueHiddenSizes : PpoConfig.PpoValueHiddenSizes };
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
    /// in the reference's PPO files), hand-designed or learned (<see cref="OptimizerSection"/>); a learned one's kernel
    /// uses at most <paramref name="threads"/> threads.
    /// </summary>
    private static IOptimizer AgentOptimizer(RunConfig run, string section, double learningRate, List<string> log, int? threads)
    {
        var entry = OptimizerSection.Of(run, section);
        StateDtypeSetting.RequireFloat32(run, section, "an agent trained outside meta-training");
        return entry.Create(learningRate, threads, log);
    }

    private static Func<RunLog, RunOutcome> PrepareA2C(RunConfig run, RunDirectory dir, RunOptions options, bool resume, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        RejectResume(dir, resume);
        var envs = run.GetStringList("env.name");
        var lrs = run.GetDoublePerTask("agent_optim.kwargs.learning_rate", envs.Count);
        // Build every task's optimizer now (a learned one loads and checks its φ file), so a bad
        // file fails before anything is written or trained.
        var optimizers = new IOptimizer[envs.Count];
        var loaded = new List<string>();
        for (int i = 0; i < envs.Count; i++) optimizers[i] = AgentOptimizer(run, "agent_optim", lrs[i], loaded, options.Threads);
        return log =>
        {
            foreach (string note in loaded) log.Info(note);
            return RunA2C(run, dir, log, options, optimizers, progress, cancel);
        };
    }

    private static RunOutcome RunA2C(RunConfig run, RunDirectory dir, RunLog log, RunOptions options, IOptimizer[] optimizers, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        var envs = run.GetStringList("env.name");
        int numEnvs = run.GetInt("env.num_envs");
        long trainSteps = run.GetLong("env.train_steps");
        var scaling = run.GetDoublePerTask("env.reward_scaling", envs.Count, 1.0);
        var lrs = run.GetDoublePerTask("agent_optim.kwargs.learning_rate", envs.Count);
        var cfg = A2CConfigOf(run);
        var convLayout = ConvLayoutOf(run);
        var summary = new RunSummary(dir, log);
        var root = new Rng(run.RunSeed);
        using var metrics = RunMetrics.ForA2C(dir);

        for (int i = 0; i < envs.Count; i++)
        {
            var optimizer = optimizers[i];
            var taskRng = root.Split((ulong)i);
            var shards = A2C.CreateShards(envs[i], numEnvs, A2C.DefaultShards(numEnvs), taskRng.Split(0), (float)scaling[i]);
            var env = shards[0];
            var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount, convLayout);
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
                IterationLog l;
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                try
                {
                    l = a2c.Step();
                }
                catch (TrainingDivergedException)
                {
                    csv.Save(); // the rows reached before the divergence are results too
                    metrics.Save();
                    grads?.Flush();
                    throw;
                }
                metrics.AddUpdate(env.Name, l, lrs[i], a2c.StepsPerIteration, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds);
                logs.Add(l);
                if (l.Episodes > 0) csv.Add(l.Step, l.MeanReturn);
                if (l.Iteration % 50 == 0 || l.Iteration == iterations)
                {
                    progress?.Report(new RunProgress($"A2C {env.Name}", l.Step, iterations * a2c.StepsPerIteration, $"return {LearningCurve.FinalReturn(logs, 0.02):F3}"));
                    if (l.Iteration % 1000 == 0)
                    {
                        csv.Save();
                        metrics.Save();
                        grads?.Flush();
                    }
                }
            }
            csv.Save();
            metrics.Save();
            grads?.Complete();
            PolicyFile.SaveA2C(dir.PathOf(PolicyFile.FileName(env.Name)), a2c, (float)scaling[i], RunPolicies.Header(run, options));
            double final = EvaluationProtocol.A2CRule.Of(csv.Rows);
            string line = $"{env.Name}: final return {Fmt(final, "F3")} ({EvaluationProtocol.A2CRule.Describe(env.Name)}, {logs.Count} iterations) in {(DateTime.UtcNow - started).TotalSeconds:F1} s";
            if (summary.Add(line, cancel) is { } interrupted) return interrupted;
        }
        return summary.Completed();
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
        var po = Tensors.Threads.Options(options.Threads);
        var summary = new RunSummary(dir, log);
        var root = new Rng(run.RunSeed);
        using var metrics = RunMetrics.ForPpo(dir);

        for (int i = 0; i < envs.Count; i++)
        {
            var cfg = baseCfg with { RewardScaling = scaling[i] };
            var taskRng = root.Split((ulong)i);
            var env = ContinuousEnvRegistry.Create(envs[i], numEnvs, taskRng.Split(0));
            Validate(cfg, numEnvs);
            if (run.Has("env.episode_length") && run.GetInt("env.episode_length") != env.MaxEpisodeSteps)
                log.Warning($"env.episode_length is {run.GetInt("env.episode_length")} but {env.Name} truncates episodes at {env.MaxEpisodeSteps} steps; the task's limit is used.");
            var loaded = new List<string>();
            var optimizer = AgentOptimizer(run, optSection, lrs[i], loaded, options.Threads);
            foreach (string note in loaded) log.Info(note);
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
                    IterationLog l;
                    long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    try
                    {
                        l = ppo.TrainingStep();
                    }
                    catch (TrainingDivergedException)
                    {
                        csv.Save(); // keep the rows reached before the divergence
                        metrics.Save();
                        throw;
                    }
                    metrics.AddUpdate(env.Name, l, lrs[i], ppo.StepsPerIteration, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds);
                    logs.Add(l);
                    if (l.Episodes > 0) csv.Add(l.Step, l.MeanReturn);
                    progress?.Report(new RunProgress($"PPO {env.Name}", l.Step, total * ppo.StepsPerIteration,
                        $"train return {LearningCurve.FinalReturn(logs, 0.05):F2}, eval {lastEval:F2}"));
                }
                csv.Save();
                metrics.Save();
                if (!cancel.IsCancellationRequested) Evaluate(ppo.Iteration * ppo.StepsPerIteration);
            }
            csv.Save();
            metrics.Save();
            PolicyFile.SavePpo(dir.PathOf(PolicyFile.FileName(env.Name)), ppo, RunPolicies.Header(run, options));
            double final = EvaluationProtocol.PpoRule.Of(evalDet.Rows);
            string line = $"{env.Name}: final return {Fmt(final, "F2")} ({EvaluationProtocol.PpoRule.Describe(env.Name)}), last stochastic evaluation {lastEval:F2}, {logs.Count} training steps in {(DateTime.UtcNow - started).TotalSeconds:F1} s";
            if (summary.Add(line, cancel) is { } interrupted) return interrupted;
        }
        return summary.Completed();
    }

    /// <summary>A return for the console: "n/a (no episode finished)" instead of NaN.</summary>
    private static string Fmt(double value, string format) =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a (no episode finished)";

    /// <summary>The largest of 4, 2, 1 that divides the minibatch (the loss's parallel pieces).</summary>
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

    internal static (IMetaTrainer Trainer, string Tasks) BuildMetaA2C(RunConfig run, bool pipeline, Distributed.Communicator? ranks = null)
    {
        var envs = run.GetStringList("env.name");
        int n = envs.Count;
        var numEnvs = run.GetIntPerTask("env.num_envs", n);
        var envsPerAgent = run.GetIntPerTask("agent.envs_per_agent", n, 1);
        var scaling = run.GetDoublePerTask("env.reward_scaling", n, 1.0);
        var alphas = run.GetDoublePerTask("agent_optim.kwargs.learning_rate", n);
        // reset_interval is −1 in the no-pipeline files; it is unused there.
        var resets = run.GetIntPerTask("agent.reset_interval", n, 1).Select(r => pipeline ? r : Math.Max(1, r)).ToArray();
        var agentOptim = OptimizerSection.Of(run, "agent_optim");
        var lopt = LearnedOptimizers.Create(MetaOptimizerName(agentOptim));
        var tasks = Enumerable.Range(0, n).Select(i => new MetaTaskConfig(envs[i], numEnvs[i] / envsPerAgent[i], (float)alphas[i], (float)scaling[i], resets[i], envsPerAgent[i])).ToList();
        var cfg = new MetaA2CConfig(tasks, run.GetLong("env.train_steps"), run.GetInt("agent.inner_updates", 4), pipeline,
            agentOptim.GradClip, run.GetDouble("meta_optim.kwargs.max_norm", -1), A2CConfigOf(run), run.RunSeed, ConvLayoutOf(run),
            StateDtypeSetting.For(run, lopt));
        return (new MetaA2C(cfg, lopt, MetaOptimizer(run), InitialPhi(agentOptim, lopt), MetaEstimators.FromConfig(run, ranks), ranks), string.Join(", ", envs));
    }

    internal static (IMetaTrainer Trainer, string Tasks) BuildMetaPpo(RunConfig run, bool pipeline, Distributed.Communicator? ranks = null)
    {
        var envs = run.GetStringList("env.name");
        if (envs.Count != 1) throw new ConfigException($"config key 'env.name': MetaPPO trains on one task, found {envs.Count}.");
        string env = envs[0];
        int numEnvs = run.GetInt("env.num_envs");
        int numAgents = run.GetInt("agent.num_agents", 1);
        var agentCfg = PpoConfigOf(run) with { RewardScaling = run.GetDouble("env.reward_scaling", 1.0) };
        // Several agents already run in parallel; a single agent splits its loss instead.
        agentCfg = agentCfg with { LossChunks = numAgents == 1 ? LossChunksFor(agentCfg.BatchSize) : 1 };
        var agentOptim = OptimizerSection.Of(run, "agent_optim");
        var lopt = LearnedOptimizers.Create(MetaOptimizerName(agentOptim));
        StateDtypeSetting.RequireFloat32(run, "agent_optim", "MetaPPO");
        int reset = run.GetInt("agent.reset_interval", 1);
        var cfg = new MetaPpoConfig(env, numEnvs, numAgents, run.GetLong("env.train_steps"), run.GetInt("agent.inner_updates", 4), pipeline,
            pipeline ? reset : Math.Max(1, reset), (float)run.GetDouble("agent_optim.kwargs.learning_rate"),
            agentOptim.GradClip, run.GetDouble("meta_optim.kwargs.max_norm", -1), agentCfg, run.RunSeed);
        try
        {
            cfg.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"invalid MetaPPO settings: {e.Message}", e);
        }
        var trainer = new MetaPpo(cfg, lopt.Name, MetaOptimizer(run), (count, rng) => ContinuousEnvRegistry.Create(env, count, rng), InitialPhi(agentOptim, lopt),
            MetaEstimators.FromConfig(run, ranks), ranks);
        return (trainer, $"{env}, {numAgents} agent(s) × {cfg.EnvsPerAgent} envs");
    }

    private static string MetaOptimizerName(OptimizerSection agentOptim) => agentOptim.IsLearned ? agentOptim.Name
        : throw new ConfigException($"config key 'agent_optim.name': '{agentOptim.Name}' is not a learned optimizer; meta-training needs one of {string.Join(", ", LearnedOptimizers.Names)}.");

    private static IOptimizer MetaOptimizer(RunConfig run) =>
        OptimizerSection.Of(run, "meta_optim").Create(run.GetDouble("meta_optim.kwargs.learning_rate"));

    private static float[]? InitialPhi(OptimizerSection agentOptim, ILearnedOptimizer lopt) =>
        string.IsNullOrWhiteSpace(agentOptim.ParamLoadPath) ? null : MetaParamsFile.Load(agentOptim.ParamLoadPath, lopt);
}

/// <summary>A run directory cannot be used as asked (it holds another run's results, or nothing to resume).</summary>
public sealed class RunDirectoryException(string message) : IOException(message);
