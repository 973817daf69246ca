using System.Diagnostics;

namespace Optim4RL.Experiments;

/// <summary>One evaluation task of the demo with the step budget and learning rates used on it.</summary>
/// <param name="Env">Task name.</param>
/// <param name="TrainSteps">Environment steps per A2C run.</param>
/// <param name="LearnedAlpha">α of the learned optimizers (the demo's trained and untrained φ and the pretrained φ alike).</param>
/// <param name="AdamLearningRate">Adam's learning rate.</param>
public sealed record DemoEvalTask(string Env, long TrainSteps, double LearnedAlpha, double AdamLearningRate);

/// <summary>
/// Settings of <c>optim4rl demo</c>: meta-train Optim4RL on Catch with pipeline training, then
/// train fresh A2C agents with the learned φ, with Adam, with the untrained φ and with the shipped
/// six-gridworld φ (<c>optim4rl-grid6</c>, which never saw Catch), over several seeds, on Catch and on a
/// gridworld the demo's meta-training never saw. Defaults fit in about 15 minutes on 2 cores.
/// </summary>
public sealed record DemoOptions
{
    /// <summary>Meta-training task.</summary>
    public string MetaEnv { get; init; } = "catch";
    /// <summary>B, agents in meta-training.</summary>
    public int MetaAgents { get; init; } = 64;
    /// <summary>R, pipeline reset interval in meta-iterations.</summary>
    public int ResetInterval { get; init; } = 32;
    /// <summary>Meta-training environment steps (B·20·5 per meta-iteration).</summary>
    public long MetaTrainSteps { get; init; } = 3_200_000;
    /// <summary>α of the learned optimizer during meta-training.</summary>
    public double MetaAlpha { get; init; } = 1e-3;
    /// <summary>Meta-optimizer (Adam) learning rate.</summary>
    public double MetaLearningRate { get; init; } = 1e-3;
    /// <summary>Meta-optimizer global-norm clip (grad_norm).</summary>
    public double MetaGradNorm { get; init; } = 0.5;
    /// <summary>Evaluation tasks.</summary>
    public IReadOnlyList<DemoEvalTask> EvalTasks { get; init; } =
    [
        // Catch: the reference's α and Adam learning rate (lopt_rl_catch, a2c_catch). small_dense_short: the best
        // value of the grid {1e-3, 3e-3, 1e-2} for both the learned φ and Adam (measured; see the README).
        // The pretrained six-gridworld φ runs at the same α: the reference's Catch α on Catch, and on the gridworld its
        // model card's recommendation (1e-2, chosen on selection seeds of small_sparse_short).
        new("catch", 500_000, 1e-3, 1e-3),
        new("small_dense_short", 5_000_000, 1e-2, 1e-2),
    ];
    /// <summary>Environments per evaluation agent.</summary>
    public int EvalEnvs { get; init; } = 64;
    /// <summary>Seeds per (task, optimizer).</summary>
    public int Seeds { get; init; } = 8;
    /// <summary>Base seed.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>Where the φ file and CSV files go.</summary>
    public string OutputDir { get; init; } = "logs/demo";
    /// <summary>Threads (null = all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>A much smaller version for smoke tests and a first look (about a minute).</summary>
    public static DemoOptions Quick => new()
    {
        MetaAgents = 16,
        ResetInterval = 8,
        MetaTrainSteps = 16 * 20 * 5 * 40,
        EvalTasks = [new("catch", 100_000, 1e-3, 1e-3), new("small_dense_short", 300_000, 1e-2, 1e-2)],
        EvalEnvs = 32,
        Seeds = 2,
        OutputDir = "logs/demo-quick",
    };
}

/// <summary>One row of the demo table: a (task, optimizer) pair summarised over seeds.</summary>
public sealed record DemoRow(string Task, string Optimizer, double FinalMean, double FinalStdErr, int Seeds,
    double? StepsTo80Mean, int SeedsReaching80, double WallSeconds);

/// <summary>The demo's outcome.</summary>
public sealed record DemoResult(IReadOnlyList<DemoRow> Rows, string PhiPath, double MetaSeconds, long MetaIterations,
    IReadOnlyList<MetaIterationLog> MetaLogs, string OutputDir);

/// <summary>Runs the demo (see <see cref="DemoOptions"/>). Writes <c>param.json</c>, <c>meta_train.csv</c>, <c>curves.csv</c> and <c>summary.csv</c>.</summary>
public static class Demo
{
    /// <summary>Optimizer labels used in the table and CSV files.</summary>
    public const string Learned = "Optim4RL (meta-learned φ)", AdamName = "Adam", Untrained = "Optim4RL (untrained φ)",
        Pretrained = "Optim4RL (pretrained six-gridworld φ)";

    /// <summary>The shipped φ of the fourth row: meta-trained on six gridworlds (small_dense_short among them), never on Catch.</summary>
    public const string PretrainedName = "optim4rl-grid6";

    /// <summary>Runs meta-training then the evaluation grid. Cancellation stops at the next iteration and throws <see cref="OperationCanceledException"/>.</summary>
    public static DemoResult Run(DemoOptions o, IProgress<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(o.OutputDir);
        var lopt = LearnedOptimizers.Create("Optim4RL");

        // 1. Meta-train on Catch with pipeline training.
        var metaCfg = new MetaA2CConfig(
            [new MetaTaskConfig(o.MetaEnv, o.MetaAgents, (float)o.MetaAlpha, 1f, o.ResetInterval)],
            o.MetaTrainSteps, InnerUpdates: 4, Pipeline: true, GradClip: -1, MaxNorm: -1, new A2CConfig(), o.Seed);
        var meta = new MetaA2C(metaCfg, lopt, Optax.FromConfig("Adam", o.MetaLearningRate, gradNorm: o.MetaGradNorm), null)
        {
            MaxDegreeOfParallelism = o.Threads,
        };
        float[] untrained = (float[])meta.Phi.Clone();
        var sw = Stopwatch.StartNew();
        var metaLogs = new List<MetaIterationLog>();
        for (long i = 0; i < meta.Iterations; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var log = meta.Step();
            metaLogs.Add(log);
            progress?.Report(new RunProgress($"meta-train {o.MetaEnv}", log.Iteration, meta.Iterations,
                $"meta-loss {log.MetaLoss:F3}, agents' return {log.MeanReturn:F2}"));
        }
        double metaSeconds = sw.Elapsed.TotalSeconds;
        string phiPath = Path.Combine(o.OutputDir, "param.json");
        MetaParamsFile.Save(phiPath, lopt.Name, lopt.HiddenSize, lopt.Layout, meta.Phi,
            new Dictionary<string, string> { ["source"] = "optim4rl demo", ["meta_iterations"] = meta.Iteration.ToString(CultureInfo.InvariantCulture) });
        float[] learned = (float[])meta.Phi.Clone();
        MetaParamsFile.Save(Path.Combine(o.OutputDir, "param_init.json"), lopt.Name, lopt.HiddenSize, lopt.Layout, untrained,
            new Dictionary<string, string> { ["source"] = "optim4rl demo", ["meta_iterations"] = "0", ["note"] = "initial (untrained) φ" });
        WriteMetaCsv(Path.Combine(o.OutputDir, "meta_train.csv"), metaLogs);

        // 2. Evaluate: every (task, optimizer, seed) is an independent A2C run.
        string[] optimizers = [Learned, AdamName, Untrained, Pretrained];
        // Read the shipped φ once; every run wraps it with its task's α (the kernel keeps no per-call state).
        var pretrained = LearnedOptimizer.Load(PretrainedName, 1e-3);
        float[] pretrainedPhi = pretrained.MetaParams.ToArray();
        var jobs = (from t in o.EvalTasks from opt in optimizers from s in Enumerable.Range(0, o.Seeds) select (Task: t, Opt: opt, Seed: s)).ToArray();
        var results = new (List<IterationLog> Logs, double Seconds)[jobs.Length];
        long totalSteps = jobs.Sum(j => j.Task.TrainSteps), doneSteps = 0;
        var po = new ParallelOptions { MaxDegreeOfParallelism = Tensors.Threads.Count(o.Threads), CancellationToken = cancel };
        Parallel.For(0, jobs.Length, po, i =>
        {
            var (task, opt, seed) = jobs[i];
            IOptimizer optimizer = opt switch
            {
                AdamName => Optax.FromConfig("Adam", task.AdamLearningRate),
                // The kernel keeps no per-call state, so the parallel runs share the meta-trained one (and its thread cap).
                Learned => new LearnedOptimizer(lopt, learned, (float)task.LearnedAlpha),
                // With the gradient clip it was meta-trained with (its file's recommendation, 1).
                Pretrained => new LearnedOptimizer(pretrained.Kernel, pretrainedPhi, (float)task.LearnedAlpha, pretrained.GradClip),
                _ => new LearnedOptimizer(lopt, untrained, (float)task.LearnedAlpha),
            };
            var rng = new Rng(o.Seed + 1).Split((ulong)seed);
            var env = EnvRegistry.CreateDiscrete(task.Env, o.EvalEnvs, rng.Split(0));
            var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount);
            var agent = new A2C(spec, env, optimizer, new A2CConfig(), rng.Split(1));
            var w = Stopwatch.StartNew();
            var logs = agent.Train(task.TrainSteps, l =>
            {
                long d = Interlocked.Add(ref doneSteps, agent.StepsPerIteration);
                if (l.Iteration % 20 == 0) progress?.Report(new RunProgress("evaluate", d, totalSteps, $"{task.Env} / {opt}"));
            }, cancel);
            results[i] = (logs, w.Elapsed.TotalSeconds);
        });
        cancel.ThrowIfCancellationRequested();

        // 3. Summaries.
        var rows = new List<DemoRow>();
        var curves = new StringBuilder("task,optimizer,seed,step,return\n");
        foreach (var task in o.EvalTasks)
        {
            var finals = optimizers.ToDictionary(opt => opt, opt => Enumerable.Range(0, jobs.Length)
                .Where(i => jobs[i].Task == task && jobs[i].Opt == opt).Select(i => results[i]).ToList());
            double best = finals.Values.Max(rs => LearningCurve.MeanStdErr(rs.Select(r => EvaluationProtocol.A2CRule.Of(r.Logs))).Mean);
            foreach (var opt in optimizers)
            {
                var rs = finals[opt];
                var (mean, se) = LearningCurve.MeanStdErr(rs.Select(r => EvaluationProtocol.A2CRule.Of(r.Logs)));
                var reach = best > 0 ? rs.Select(r => LearningCurve.StepsToReach(r.Logs, 0.8 * best)).Where(x => x.HasValue).Select(x => (double)x!.Value).ToList() : [];
                rows.Add(new DemoRow(task.Env, opt, mean, se, rs.Count, reach.Count > 0 ? reach.Average() : null, reach.Count, rs.Sum(r => r.Seconds)));
            }
            for (int i = 0; i < jobs.Length; i++)
            {
                if (jobs[i].Task != task) continue;
                foreach (var (step, ret) in LearningCurve.Points(results[i].Logs))
                    curves.Append(CultureInfo.InvariantCulture, $"{task.Env},{jobs[i].Opt},{jobs[i].Seed},{step},{ret:R}\n");
            }
        }
        AtomicFile.WriteAllText(Path.Combine(o.OutputDir, "curves.csv"), curves.ToString());
        WriteRunDirectories(Path.Combine(o.OutputDir, "eval"), o, jobs.Select(j => (j.Task, j.Opt, j.Seed)).ToArray(), results.Select(r => r.Logs).ToArray(), pretrained.GradClip);
        var summary = new StringBuilder("task,optimizer,final_return_mean,final_return_stderr,seeds,steps_to_80pct_best,seeds_reaching_80pct,wall_seconds\n");
        foreach (var r in rows)
            summary.Append(CultureInfo.InvariantCulture,
                $"{r.Task},{r.Optimizer},{r.FinalMean:R},{r.FinalStdErr:R},{r.Seeds},{(r.StepsTo80Mean is double s ? s.ToString("R", CultureInfo.InvariantCulture) : "")},{r.SeedsReaching80},{r.WallSeconds:F2}\n");
        AtomicFile.WriteAllText(Path.Combine(o.OutputDir, "summary.csv"), summary.ToString());
        return new DemoResult(rows, phiPath, metaSeconds, meta.Iteration, metaLogs, o.OutputDir);
    }

    /// <summary>
    /// Every evaluation run as a run directory (<c>eval/&lt;k&gt;/config.json</c> and <c>result_&lt;env&gt;.csv</c>),
    /// so <c>optim4rl plot</c> and <c>report</c> read the demo's output like any sweep's.
    /// </summary>
    private static void WriteRunDirectories(string root, DemoOptions o, (DemoEvalTask Task, string Opt, int Seed)[] jobs, List<IterationLog>[] logs, double pretrainedClip)
    {
        for (int i = 0; i < jobs.Length; i++)
        {
            var (task, opt, seed) = jobs[i];
            bool learned = opt != AdamName;
            var kwargs = new System.Text.Json.Nodes.JsonObject { ["learning_rate"] = learned ? task.LearnedAlpha : task.AdamLearningRate };
            if (learned) kwargs["param_load_path"] = opt switch { Learned => "param.json", Pretrained => "pretrained:" + PretrainedName, _ => "param_init.json" };
            if (opt == Pretrained) kwargs["grad_clip"] = pretrainedClip;
            var config = new System.Text.Json.Nodes.JsonObject
            {
                ["env"] = new System.Text.Json.Nodes.JsonObject { ["name"] = new System.Text.Json.Nodes.JsonArray(task.Env), ["num_envs"] = o.EvalEnvs, ["train_steps"] = task.TrainSteps },
                ["agent"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "A2C" },
                ["agent_optim"] = new System.Text.Json.Nodes.JsonObject { ["name"] = learned ? "Optim4RL" : "Adam", ["kwargs"] = kwargs },
                ["seed"] = seed,
                ["exp"] = "demo",
                ["config_idx"] = i + 1,
            };
            string dir = Path.Combine(root, (i + 1).ToString(CultureInfo.InvariantCulture));
            AtomicFile.WriteAllText(Path.Combine(dir, RunDirectory.ConfigFileName), config.ToJsonString(JsonText.Indented) + "\n");
            var csv = new ResultCsv(Path.Combine(dir, ResultCsv.FileName(task.Env)));
            foreach (var (step, ret) in LearningCurve.Points(logs[i])) csv.Add(step, ret);
            csv.Save();
        }
    }

    private static void WriteMetaCsv(string path, IReadOnlyList<MetaIterationLog> logs)
    {
        var sb = new StringBuilder("iteration,step,meta_loss,meta_grad_norm,agents_mean_return\n");
        foreach (var l in logs)
            sb.Append(CultureInfo.InvariantCulture, $"{l.Iteration},{l.Step},{l.MetaLoss:R},{l.MetaGradNorm:R},{(l.Episodes > 0 ? l.MeanReturn.ToString("R", CultureInfo.InvariantCulture) : "")}\n");
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
