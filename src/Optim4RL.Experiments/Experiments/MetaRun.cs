using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Optim4RL.Agents;
using Optim4RL.Io;
using Optim4RL.Meta;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Experiments;

/// <summary>
/// The loop of a meta-training run (MetaA2C, MetapA2C, MetaPPO, MetapPPO) and its files:
/// <c>meta_train.csv</c>, <c>metrics.csv</c>, <c>checkpoint.bin</c> (+ <c>checkpoint.prev.bin</c>), <c>param.json</c>
/// and <c>meta_state.bin</c>, all rewritten at every checkpoint, <c>phi/param_&lt;meta-iteration&gt;.json</c>, one more per
/// checkpoint (φ along the run, kept), and a TensorBoard event file
/// (<see cref="RunMetrics"/>), flushed at every checkpoint; a resumed run starts a new one.
/// </summary>
/// <remarks>
/// A checkpoint stores, besides the trainers' state, the run's resolved settings, the numeric
/// options and the rows of both CSVs it covers. <c>--resume</c> refuses a checkpoint whose result-affecting
/// settings differ from the config (naming each difference), restores exactly the rows the
/// checkpoint covers (rows written after it, by a run killed between two writes, are dropped),
/// and continues bit for bit. Writes go CSV → checkpoint → φ files, each atomic, so a kill at any
/// moment leaves a consistent, resumable directory.
/// </remarks>
internal static class MetaRun
{
    private const string CheckpointFileName = ExperimentRunner.CheckpointFileName;

    /// <summary>The small file with φ and the meta-optimizer state, written at every checkpoint.</summary>
    public const string MetaStateFileName = "meta_state.bin";

    /// <summary>φ before the first meta-iteration (written once, when the run starts).</summary>
    public const string InitialParamFileName = "param_init.json";

    /// <summary>The per-meta-iteration CSV.</summary>
    public const string CsvFileName = "meta_train.csv";

    private const string CsvHeader = "iteration,step,meta_loss,meta_grad_norm,agents_mean_return\n";

    /// <summary>The folder of a meta-training run directory that keeps φ at every checkpoint (<c>phi/param_&lt;meta-iteration&gt;.json</c>).</summary>
    public const string PhiHistoryFolder = "phi";

    /// <summary>The file of φ after <paramref name="iteration"/> meta-iterations in <see cref="PhiHistoryFolder"/>.</summary>
    internal static string PhiSnapshotPath(RunDirectory dir, long iteration) =>
        dir.PathOf(Path.Combine(PhiHistoryFolder, $"param_{iteration.ToString(CultureInfo.InvariantCulture)}.json"));

    /// <summary>Settings that may change between a checkpoint and its resumption: they do not change any result.</summary>
    // state_dtype is compared as the storage each side resolves to (the numeric options below), so naming the default changes nothing.
    private static readonly string[] ResumableKeys = ["display_interval", "env.train_steps", StateDtypeSetting.Key];

    /// <summary>Builds the trainer and, when resuming, restores it; returns the loop to run once the directory is set up.</summary>
    /// <exception cref="ConfigException">A setting is invalid, or differs from the checkpoint's.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is damaged or belongs to another configuration.</exception>
    /// <exception cref="RunDirectoryException">Resuming was asked for but the directory has no checkpoint.</exception>
    /// <param name="run">The resolved config.</param>
    /// <param name="dir">The run directory.</param>
    /// <param name="options">Numeric and resume options.</param>
    /// <param name="agent">The run kind's name (<c>agent.name</c>), recorded in checkpoints.</param>
    /// <param name="pipeline">Whether the kind uses pipeline training (for the log).</param>
    /// <param name="build">Builds the trainer from the config: the run kind's binding.</param>
    /// <param name="resume">Continue from the directory's checkpoint (or, with <see cref="RunOptions.RestartPopulation"/>, its meta-state).</param>
    /// <param name="progress">Progress reports, or null.</param>
    /// <param name="cancel">Stops the run at the next meta-iteration, after a checkpoint.</param>
    public static Func<RunLog, RunOutcome> Prepare(RunConfig run, RunDirectory dir, RunOptions options, string agent, bool pipeline,
        Func<RunConfig, (IMetaTrainer Trainer, string Tasks)> build, bool resume, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        var (meta, tasksText) = build(run);
        meta.MaxDegreeOfParallelism = options.Threads;
        var notes = new List<string>();
        var rows = new StringBuilder(CsvHeader);
        string? metricsRows = null;
        bool restart = resume && options.RestartPopulation;
        if (restart)
        {
            // Continue from the small file: φ, the meta-optimizer state and the CSV rows it covers.
            if (!meta.CanRestartPopulation)
                throw new ConfigException("--restart-population is implemented for MetaA2C and MetapA2C; continue a MetaPPO run with --resume.");
            string state = dir.PathOf(MetaStateFileName);
            if (!File.Exists(state))
                throw new RunDirectoryException($"run {dir.Path} has no {MetaStateFileName} to restart from (it stopped before its first checkpoint); start it again with --overwrite.");
            long at = 0;
            CheckpointFile.Read(state, (header, r) =>
            {
                CheckCompatible(state, header, run, agent, options, notes);
                at = meta.LoadMetaState(r);
                rows.Clear().Append(header["meta_train_csv"]?.GetValue<string>() ?? CsvHeader);
                metricsRows = header["metrics_csv"]?.GetValue<string>();
            });
            notes.Add($"restarting from {state} at meta-iteration {at} with a fresh population of agents (φ and the meta-optimizer state kept)");
            return log =>
            {
                log.Info($"warm-up: {meta.WarmUpIterations} meta-iterations with φ frozen, so the new agents' pipeline stages are staggered again");
                progress?.Report(new RunProgress("warm-up (φ frozen)", 0, meta.WarmUpIterations, ""));
                meta.ContinueWithFreshPopulation(at);
                using var metrics = RunMetrics.ForMeta(dir, metricsRows);
                return Loop(run, dir, options, agent, pipeline, meta, tasksText, rows, metrics, notes, log, progress, cancel);
            };
        }

        if (resume)
        {
            string ckpt = dir.PathOf(CheckpointFileName);
            if (!File.Exists(ckpt))
            {
                string prev = CheckpointFile.PreviousPath(ckpt);
                if (!File.Exists(prev))
                    throw new RunDirectoryException($"run {dir.Path} has no checkpoint to resume from (it stopped before its first one); start it again with --overwrite.");
                notes.Add($"{CheckpointFileName} is missing (the run stopped while replacing it); resuming from {Path.GetFileName(prev)}");
                ckpt = prev;
            }

            CheckpointFile.Read(ckpt, (header, r) =>
            {
                CheckCompatible(ckpt, header, run, agent, options, notes);
                RankedMetaRun.LoadCheckpoint(meta, r.BaseStream, dir, options.Ranks);
                rows.Clear().Append(header["meta_train_csv"]?.GetValue<string>() ?? CsvHeader);
                metricsRows = header["metrics_csv"]?.GetValue<string>();
            });
            notes.Add($"resumed from {ckpt} at meta-iteration {meta.Iteration}");
        }

        return log =>
        {
            using var metrics = RunMetrics.ForMeta(dir, metricsRows);
            if (resume && metricsRows is null)
                notes.Add($"the checkpoint holds no {RunMetrics.FileName} rows (written by an older version): {RunMetrics.FileName} starts at meta-iteration {meta.Iteration + 1}");
            return Loop(run, dir, options, agent, pipeline, meta, tasksText, rows, metrics, notes, log, progress, cancel);
        };
    }

    private static RunOutcome Loop(RunConfig run, RunDirectory dir, RunOptions options, string agent, bool pipeline, IMetaTrainer meta, string tasksText,
        StringBuilder rows, RunMetrics metrics, List<string> notes, RunLog log, IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        foreach (string note in notes) log.Info(note);
        if (options.Ranks is { Size: > 1 } world)
            log.Info(RankedMetaRun.Describe(meta, world.Size));
        var lopt = meta.LearnedOptimizer;
        var envs = run.GetStringList("env.name");
        string ckpt = dir.PathOf(CheckpointFileName);
        log.Info($"{agent} ({(pipeline ? "pipeline" : "no pipeline")}): [{tasksText}], {meta.Iterations} meta-iterations, {lopt.Name} with {lopt.Layout.Count} meta-parameters");

        void Checkpoint()
        {
            AtomicFile.WriteAllText(dir.PathOf(CsvFileName), rows.ToString());
            metrics.Save();
            var header = Header(run, agent, meta.Iteration, options);
            header["meta_train_csv"] = rows.ToString();
            header["metrics_csv"] = metrics.CsvText;
            CheckpointFile.Write(ckpt, header, w =>
            {
                w.Flush();
                meta.SaveCheckpoint(w.BaseStream);
            });
            var phiInfo = PhiInfo(run, meta.Iteration);
            MetaParamsFile.Save(dir.ParamPath, lopt.Name, lopt.HiddenSize, lopt.Layout, meta.Phi, phiInfo);
            // φ along meta-training, to choose one by held-out returns: a longer run is not always better (short-horizon bias).
            Directory.CreateDirectory(dir.PathOf(PhiHistoryFolder));
            MetaParamsFile.Save(PhiSnapshotPath(dir, meta.Iteration), lopt.Name, lopt.HiddenSize, lopt.Layout, meta.Phi, phiInfo);
            // The small file is self-contained (it carries the rows too), so --restart-population needs nothing else.
            var small = Header(run, agent, meta.Iteration, options);
            small["meta_train_csv"] = rows.ToString();
            small["metrics_csv"] = metrics.CsvText;
            CheckpointFile.Write(dir.PathOf(MetaStateFileName), small, meta.SaveMetaState);
        }

        // The φ this run starts from: the "untrained φ" every comparison includes, at the learned φ's α.
        string initPath = dir.PathOf(InitialParamFileName);
        if (meta.Iteration == 0)
        {
            var info = PhiInfo(run, 0);
            info["note"] = "initial φ of this meta-training run (untrained)";
            MetaParamsFile.Save(initPath, lopt.Name, lopt.HiddenSize, lopt.Layout, meta.Phi, info);
        }

        long lastGood = File.Exists(ckpt) ? meta.Iteration : -1;
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

                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                var l = meta.Step();
                metrics.AddMeta(l, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds);
                rows.Append(CultureInfo.InvariantCulture, $"{l.Iteration},{l.Step},{l.MetaLoss:R},{l.MetaGradNorm:R},{(l.Episodes > 0 ? l.MeanReturn.ToString("R", CultureInfo.InvariantCulture) : "")}\n");
                progress?.Report(new RunProgress($"{agent} {string.Join("+", envs)}", l.Iteration, meta.Iterations,
                    $"meta-loss {l.MetaLoss:F3}, return {l.MeanReturn:F2}"));
                if (l.Iteration % displayInterval == 0)
                    log.Info($"iteration {l.Iteration}/{meta.Iterations} step {l.Step}: meta-loss {l.MetaLoss:F4}, |∇φ| {l.MetaGradNorm:E2}, agents' return {l.MeanReturn:F3}");
                if (l.Iteration % options.CheckpointEvery == 0 && l.Iteration < meta.Iterations)
                {
                    Checkpoint();
                    lastGood = l.Iteration;
                }
            }
        }
        catch (TrainingDivergedException e)
        {
            AtomicFile.WriteAllText(dir.PathOf(CsvFileName), rows.ToString()); // keep the rows reached before the divergence
            metrics.Save();
            string kept = lastGood >= 0
                ? $"The last good checkpoint (meta-iteration {lastGood}) and its param.json are kept in {dir.Path}."
                : $"No checkpoint was written yet (the first comes at meta-iteration {options.CheckpointEvery}; --checkpoint-every sets it).";
            log.Error($"{e.Message} {kept}");
            throw new TrainingDivergedException($"{e.Message} {kept}");
        }

        Checkpoint();
        string done = $"meta-trained {lopt.Name} for {meta.Iteration} meta-iterations in {(DateTime.UtcNow - started).TotalSeconds:F0} s; φ written to {dir.ParamPath}";
        log.Info(done);
        return new RunOutcome(dir.Path, true, [done]);
    }

    /// <summary>
    /// The "meta" map of a φ file: where it comes from, and the α (<c>learning_rate</c>; per task as
    /// <c>learning_rates</c> when the tasks differ) and <c>grad_clip</c> it was meta-trained with, which
    /// <see cref="LearnedOptimizer.Load"/> takes as its defaults. Settings only: the bytes never depend on how the run was executed.
    /// </summary>
    private static Dictionary<string, string> PhiInfo(RunConfig run, long iteration)
    {
        var envs = run.GetStringList("env.name");
        var alphas = run.GetDoublePerTask("agent_optim.kwargs.learning_rate", envs.Count);
        var info = new Dictionary<string, string>
        {
            ["experiment"] = run.Experiment,
            ["config_idx"] = run.ConfigIdx.ToString(CultureInfo.InvariantCulture),
            ["meta_iterations"] = iteration.ToString(CultureInfo.InvariantCulture),
            ["tasks"] = string.Join(",", envs),
        };
        if (alphas.Distinct().Count() == 1) info["learning_rate"] = alphas[0].ToString("R", CultureInfo.InvariantCulture);
        else info["learning_rates"] = string.Join(",", envs.Select((e, i) => $"{e}:{alphas[i].ToString("R", CultureInfo.InvariantCulture)}"));
        double clip = run.GetDouble("agent_optim.kwargs.grad_clip", -1);
        if (clip > 0) info["grad_clip"] = clip.ToString("R", CultureInfo.InvariantCulture);
        return info;
    }

    /// <summary>What a checkpoint records about the run that wrote it.</summary>
    private static JsonObject Header(RunConfig run, string agent, long iteration, RunOptions options) => new()
    {
        ["kind"] = agent,
        ["experiment"] = run.Experiment,
        ["config_idx"] = run.ConfigIdx,
        ["iteration"] = iteration,
        ["written"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        ["config"] = ResultSettings(run),
        ["provenance"] = Provenance.Describe(options.Threads, StateDtypeSetting.Of(run)),
    };

    /// <summary>The resolved config as config.json records it (seed included), flattened to dotted keys.</summary>
    private static JsonObject ResultSettings(RunConfig run) => (JsonObject)JsonNode.Parse(run.ToConfigJson())!;

    /// <summary>Refuses a checkpoint of another kind of run, other settings or other numeric options.</summary>
    private static void CheckCompatible(string path, JsonObject header, RunConfig run, string agent, RunOptions options, List<string> notes)
    {
        string kind = header["kind"]?.GetValue<string>() ?? "?";
        if (kind != agent)
            throw new ConfigException($"--resume: {path} was written by a {kind} run, this config runs {agent}; start again with --overwrite.");
        var saved = Flatten(header["config"] as JsonObject ?? []);
        var now = Flatten(ResultSettings(run));
        var diffs = saved.Keys.Union(now.Keys).Order(StringComparer.Ordinal)
            .Where(k => !ResumableKeys.Contains(k) && saved.GetValueOrDefault(k) != now.GetValueOrDefault(k))
            .Select(k => $"{k} {saved.GetValueOrDefault(k) ?? "(absent)"} → {now.GetValueOrDefault(k) ?? "(absent)"}")
            .ToList();
        if (diffs.Count > 0)
            throw new ConfigException($"--resume: the config differs from the checkpoint {path} in {string.Join("; ", diffs)}; restore those settings to continue, or start again with --overwrite.");

        var savedProv = header["provenance"] as JsonObject;
        string savedNumerics = savedProv?["numerics"]?.ToJsonString() ?? "{}";
        var nowDtype = StateDtypeSetting.Of(run);
        string nowNumerics = Provenance.NumericOptions(nowDtype).ToJsonString();
        string? savedDtype = savedProv?["numerics"]?["state_dtype"]?.GetValue<string>();
        if (!StateDtypeSetting.IsExplicit(run) && savedDtype is not null && savedDtype != nowDtype.Name())
        {
            // Checkpoints written before bfloat16 became the default, resumed with a config that names no storage type.
            throw new ConfigException($"--resume: {path} keeps the learned optimizer's state in {savedDtype}, and this config names no storage type, so it would use {nowDtype.Name()}; "
                + $"add \"state_dtype\": [\"{savedDtype}\"] to agent_optim.kwargs to continue the run exactly.");
        }
        if (savedNumerics != nowNumerics)
        {
            string message = $"--resume: {path} was written with numeric options {savedNumerics}, this machine/build uses {nowNumerics}, so the run would not continue exactly";
            if (!options.Force) throw new ConfigException(message + "; add --force to continue anyway.");
            notes.Add(message + " (continuing: --force).");
        }

        string commit = savedProv?["commit"]?.GetValue<string>() ?? "unknown";
        if (commit != Provenance.Commit)
            notes.Add($"the checkpoint was written by commit {commit}, this is {Provenance.Commit}");
    }

    private static Dictionary<string, string> Flatten(JsonObject obj)
    {
        var flat = new Dictionary<string, string>(StringComparer.Ordinal);
        void Walk(JsonNode? node, string prefix)
        {
            if (node is JsonObject o)
            {
                foreach (var (k, v) in o) Walk(v, prefix.Length == 0 ? k : $"{prefix}.{k}");
            }
            else if (node is JsonValue v && v.TryGetValue(out double d))
            {
                flat[prefix] = d.ToString("R", CultureInfo.InvariantCulture); // 1e-3 and 0.001 are one setting
            }
            else
            {
                flat[prefix] = node?.ToJsonString() ?? "null";
            }
        }

        Walk(obj, "");
        return flat;
    }
}
