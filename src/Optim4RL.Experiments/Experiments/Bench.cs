using System.Diagnostics;
using Optim4RL.Envs.MuJoCo;

namespace Optim4RL.Experiments;

/// <summary>One benchmark measurement: the median over repeats of a throughput, plus peak memory.</summary>
/// <param name="Workload">Workload name (see <see cref="Bench.Workloads"/>).</param>
/// <param name="Description">What was measured.</param>
/// <param name="Unit">Unit of <see cref="Median"/>.</param>
/// <param name="Median">Median throughput over the repeats.</param>
/// <param name="Samples">Every repeat's throughput.</param>
/// <param name="Secondary">A second throughput in <see cref="SecondaryUnit"/> (e.g. env-steps/s of a meta run), or NaN.</param>
/// <param name="SecondaryUnit">Unit of <see cref="Secondary"/>.</param>
/// <param name="PeakWorkingSetBytes">The process's peak working set after the workload.</param>
public sealed record BenchResult(string Workload, string Description, string Unit, double Median, double[] Samples,
    double Secondary, string SecondaryUnit, long PeakWorkingSetBytes)
{
    /// <summary>A scaling row's communication and per-rank figures (<see cref="Bench.ScalingRows"/>); null for the other workloads.</summary>
    public ScalingMeasurement? Scaling { get; init; }
}

/// <summary>
/// The throughput workloads of <c>optim4rl bench</c> (issue targets in parentheses): A2C
/// env-steps/s on Catch with 64 envs and on big_dense_long with 512 envs; MetaA2C
/// meta-iterations/s on Catch and small_dense_long with 64 agents; the Optim4RL kernel's
/// coordinate-steps/s forward and forward + backward through K = 4 steps; and for continuous control,
/// MuJoCo physics env-steps/s per task (64 envs, random actions), PPO + Adam end to end per task,
/// the learned optimizer's overhead per PPO update relative to Adam, and PPO's peak memory with 64
/// and 256 environments. Run each workload in its own process to read its own peak memory.
/// </summary>
public static partial class Bench
{
    private static readonly string[] MuJoCoTasks = ["ant", "halfcheetah", "hopper", "walker2d", "humanoid", "inverted_pendulum", "inverted_double_pendulum"];

    /// <summary>Workload names and descriptions.</summary>
    public static readonly IReadOnlyList<(string Name, string Description)> Workloads =
    [
        .. CoreWorkloads,
        .. MuJoCoTasks.Select(t => ($"mujoco_{t}", $"MuJoCo physics only, {t}, 64 envs")),
        .. MuJoCoTasks.Select(t => ($"ppo_{t}", $"PPO + Adam end to end, {t}, 64 envs")),
        ("ppo_ant_256", "PPO + Adam end to end, ant, 256 envs (memory)"),
        ("ppo_lopt_overhead", "Optim4RL vs Adam: extra time per PPO update (ant), % of a minibatch step"),
        .. ScaleWorkloads,
        .. ScalingRows.Select(r => (r.Name, ScalingDescription(r, ScalingTask.Default))),
    ];

    private static IReadOnlyList<(string Name, string Description)> CoreWorkloads =>
    [
        ("a2c_catch", "A2C + Adam, catch, 64 envs"),
        ("a2c_bdl", "A2C + Adam, big_dense_long, 512 envs"),
        ("meta_catch", "MetaA2C + Optim4RL, catch, 64 agents"),
        ("meta_sdl", "MetaA2C + Optim4RL, small_dense_long, 64 agents"),
        ("lopt_forward", "Optim4RL kernel forward, 1M coordinates"),
        ("lopt_forward_backward", "Optim4RL kernel forward + meta-gradient, K = 4, 1M coordinates"),
    ];

    /// <summary>The workloads of issue 2 (A2C, MetaA2C and the Optim4RL kernel), the default of <c>bench --only core</c>.</summary>
    public static IReadOnlyList<string> CoreNames => CoreWorkloads.Select(w => w.Name).ToArray();

    /// <summary>Runs one workload <paramref name="repeats"/> times after a warm-up and returns the median.</summary>
    /// <exception cref="ArgumentException">Unknown workload name.</exception>
    public static BenchResult Run(string workload, int repeats = 5, int? threads = null)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "repeats must be ≥ 1.");
        string desc = Workloads.FirstOrDefault(w => w.Name == workload).Description
            ?? throw new ArgumentException($"Unknown bench workload '{workload}'. Valid: {string.Join(", ", Workloads.Select(w => w.Name))}.");
        if (RunScale(workload, desc, repeats, threads) is { } scale) return scale;
        if (FindScalingRow(workload) is not null)
            return RunScaling(workload, repeats, ScalingTask.Default, Distributed.Cluster.Current) ?? throw new InvalidOperationException($"{workload}: only rank 0 returns the result.");
        return workload switch
        {
            "a2c_catch" => A2CWorkload(workload, desc, "catch", 64, 200, repeats, threads),
            "a2c_bdl" => A2CWorkload(workload, desc, "big_dense_long", 512, 20, repeats, threads),
            "meta_catch" => MetaWorkload(workload, desc, "catch", 64, 4, repeats, threads),
            "meta_sdl" => MetaWorkload(workload, desc, "small_dense_long", 64, 10, repeats, threads),
            "lopt_forward" => KernelWorkload(workload, desc, backward: false, repeats, threads),
            "lopt_forward_backward" => KernelWorkload(workload, desc, backward: true, repeats, threads),
            "ppo_ant_256" => PpoWorkload(workload, desc, "ant", 256, repeats, threads),
            "ppo_lopt_overhead" => PpoOverheadWorkload(workload, desc, repeats, threads),
            _ when workload.StartsWith("mujoco_", StringComparison.Ordinal) => PhysicsWorkload(workload, desc, workload["mujoco_".Length..], repeats, threads),
            _ => PpoWorkload(workload, desc, workload["ppo_".Length..], 64, repeats, threads),
        };
    }

    private static BenchResult PhysicsWorkload(string name, string desc, string task, int repeats, int? threads)
    {
        int steps = task is "ant" or "humanoid" ? 40 : 200;
        var samples = new double[repeats];
        for (int r = 0; r < repeats; r++)
            samples[r] = MuJoCoThroughput.Measure(task, 64, steps, threads ?? -1, warmup: 5, seed: (ulong)r).EnvStepsPerSecond;
        return Result(name, desc, "env-steps/s", samples, double.NaN, "");
    }

    /// <summary>The quick configs' PPO geometry: batch 32 × 32 minibatches × unroll 5 per training step.</summary>
    private static Ppo MakePpo(string task, int numEnvs, IOptimizer optimizer, int? threads)
    {
        var cfg = new PpoConfig { BatchSize = 32, NumMinibatches = 32, UnrollLength = 5, UpdateEpochs = 4 };
        var env = ContinuousEnvRegistry.Create(task, numEnvs, new Rng(11));
        var nets = PpoNetworks.For(env.ObservationSize, env.ActionSize, cfg);
        return new Ppo(nets, env, optimizer, cfg, new Rng(12)) { Parallelism = Tensors.Threads.Options(threads) };
    }

    private static BenchResult PpoWorkload(string name, string desc, string task, int numEnvs, int repeats, int? threads)
    {
        var ppo = MakePpo(task, numEnvs, Optax.FromConfig("Adam", 3e-4, gradClip: 1), threads);
        ppo.TrainingStep();
        int steps = task is "ant" or "humanoid" ? 1 : 2;
        var samples = Measure(repeats, () =>
        {
            for (int i = 0; i < steps; i++) ppo.TrainingStep();
            return steps * (double)ppo.StepsPerIteration;
        });
        return Result(name, desc, "env-steps/s", samples, double.NaN, "");
    }

    private static BenchResult PpoOverheadWorkload(string name, string desc, int repeats, int? threads)
    {
        // Time one optimizer update on PPO's θ (ant networks) for Adam and for Optim4RL, and one whole
        // training step's time per minibatch, so the overhead reads as a share of a PPO update.
        var lopt = LearnedOptimizers.Create("Optim4RL");
        lopt.MaxDegreeOfParallelism = threads;
        var phi = new float[lopt.Layout.Count];
        var prng = new Rng(13);
        lopt.InitMetaParams(ref prng, phi);
        var adamPpo = MakePpo("ant", 64, Optax.FromConfig("Adam", 3e-4, gradClip: 1), threads);
        int p = adamPpo.Theta.Length;
        var grads = new float[p];
        for (int i = 0; i < p; i++) grads[i] = (float)(1e-3 * prng.NextNormal());
        var upd = new float[p];
        var adam = Optax.FromConfig("Adam", 3e-4, gradClip: 1);
        var learned = new LearnedOptimizer(lopt, phi, 3e-4f, 1f);
        var sa = adam.Init(p);
        var sl = learned.Init(p);
        double PerUpdate(IOptimizer o, OptimizerState st)
        {
            for (int i = 0; i < 200; i++) o.Update(grads, st, upd);
            var sw = Stopwatch.StartNew();
            const int n = 2000;
            for (int i = 0; i < n; i++) o.Update(grads, st, upd);
            return sw.Elapsed.TotalSeconds / n;
        }
        adamPpo.TrainingStep();
        var samples = new double[repeats];
        double adamUs = 0, loptUs = 0, stepUs = 0;
        for (int r = 0; r < repeats; r++)
        {
            double a = PerUpdate(adam, sa), l = PerUpdate(learned, sl);
            var sw = Stopwatch.StartNew();
            adamPpo.TrainingStep();
            double perMinibatch = sw.Elapsed.TotalSeconds / adamPpo.Config.OptimizerStepsPerTrainingStep;
            samples[r] = 100 * (l - a) / perMinibatch;
            (adamUs, loptUs, stepUs) = (a * 1e6, l * 1e6, perMinibatch * 1e6);
        }
        return Result(name, $"{desc} (P = {p}; last repeat: Adam {adamUs:F1} µs, Optim4RL {loptUs:F1} µs, PPO minibatch step {stepUs:F0} µs)",
            "% of a minibatch step", samples, double.NaN, "");
    }

    private static BenchResult A2CWorkload(string name, string desc, string env, int numEnvs, int iterations, int repeats, int? threads)
    {
        var rng = new Rng(7);
        var shards = A2C.CreateShards(env, numEnvs, A2C.DefaultShards(numEnvs), rng.Split(0));
        var e = shards[0];
        var spec = NetworkSpec.ForTask(e.Name, e.ObservationShape.ToArray(), e.ActionCount);
        var agent = new A2C(spec, shards, Optax.FromConfig("Adam", 1e-3), new A2CConfig(), rng.Split(1)) { MaxDegreeOfParallelism = threads };
        for (int i = 0; i < Math.Max(3, iterations / 10); i++) agent.Step();
        var samples = Measure(repeats, () =>
        {
            for (int i = 0; i < iterations; i++) agent.Step();
            return iterations * (double)agent.StepsPerIteration;
        });
        return Result(name, desc, "env-steps/s", samples, double.NaN, "");
    }

    private static BenchResult MetaWorkload(string name, string desc, string env, int agents, int iterations, int repeats, int? threads)
    {
        var cfg = new MetaA2CConfig([new MetaTaskConfig(env, agents, 1e-3f, 1f, 32)], long.MaxValue / 4, 4, true, -1, -1, new A2CConfig(), 7);
        var meta = new MetaA2C(cfg, LearnedOptimizers.Create("Optim4RL"), Optax.FromConfig("Adam", 1e-3, gradNorm: 0.5))
        {
            MaxDegreeOfParallelism = threads,
        };
        meta.Step();
        var samples = Measure(repeats, () =>
        {
            for (int i = 0; i < iterations; i++) meta.Step();
            return iterations;
        });
        double median = Median(samples);
        return Result(name, desc, "meta-iterations/s", samples, median * cfg.StepsPerIteration(0), "env-steps/s");
    }

    private static BenchResult KernelWorkload(string name, string desc, bool backward, int repeats, int? threads)
    {
        const int n = 1_000_000, k = 4;
        // Gradients log-uniform over three decades, as an agent's are.
        var (lopt, phi, state, state0, grads, adj, upd, mg) = KernelInputs(n, k, threads, rng => rng.NextNormal() * Math.Pow(10, -4 + 3 * rng.NextDouble()));
        void Once()
        {
            state0.CopyTo(state, 0);
            for (int s = 0; s < k; s++) lopt.Step(phi, state, grads.AsSpan(s * n, n), upd, 1e-3f);
            if (backward) lopt.MetaGradient(phi, state0, grads, k, adj, 1e-3f, mg);
        }
        Once();
        var samples = Measure(repeats, () => { Once(); return (double)k * n; });
        return Result(name, desc, "coordinate-steps/s", samples, double.NaN, "");
    }

    /// <summary>An Optim4RL kernel with initial φ and buffers for N coordinates and K steps: gradients drawn by <paramref name="gradient"/>, a normal adjoint.</summary>
    private static (ILearnedOptimizer Lopt, float[] Phi, float[] State, float[] State0, float[] Grads, float[] Adjoint, float[] Updates, float[] MetaGrad)
        KernelInputs(int n, int k, int? threads, Func<Rng, double> gradient)
    {
        var lopt = LearnedOptimizers.Create("Optim4RL");
        lopt.MaxDegreeOfParallelism = threads;
        var rng = new Rng(3);
        var phi = new float[lopt.Layout.Count];
        lopt.InitMetaParams(ref rng, phi);
        var grads = new float[k * n];
        for (int i = 0; i < grads.Length; i++) grads[i] = (float)gradient(rng);
        var adj = new float[n];
        for (int i = 0; i < n; i++) adj[i] = (float)rng.NextNormal();
        return (lopt, phi, new float[lopt.StateSize * n], new float[lopt.StateSize * n], grads, adj, new float[n], new float[phi.Length]);
    }

    private static double[] Measure(int repeats, Func<double> work)
    {
        var samples = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            double units = work();
            samples[r] = units / sw.Elapsed.TotalSeconds;
        }
        return samples;
    }

    private static BenchResult Result(string name, string desc, string unit, double[] samples, double secondary, string secondaryUnit)
    {
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return new BenchResult(name, desc, unit, Median(samples), samples, secondary, secondaryUnit, p.PeakWorkingSet64);
    }

    private static double Median(double[] x)
    {
        var s = x.OrderBy(v => v).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
