using System.Diagnostics;
using System.Numerics.Tensors;

namespace Optim4RL.Experiments;

/// <summary>
/// The paper-scale rows of <c>optim4rl bench</c>: meta-training at the reference's scale (B = 512
/// agents per task, projected to a whole 585-iteration run), the learned-optimizer kernel in cache
/// and streaming from memory (in coordinate-steps/s and GB/s), and the machine's own stream
/// bandwidth to compare the kernel with.
/// </summary>
public static partial class Bench
{
    /// <summary>Meta-iterations of a reference-scale run: 3·10⁷ environment steps ÷ (512 agents · 20 steps · 5 rollouts).</summary>
    public const int ReferenceMetaIterations = 585;

    /// <summary>The six gridworlds of the reference's multi-task meta-training (<c>meta_grid6_512</c>).</summary>
    internal static readonly string[] SixGridworlds = ["small_dense_long", "small_dense_short", "big_sparse_short", "big_dense_short", "big_sparse_long", "big_dense_long"];

    private static IReadOnlyList<(string Name, string Description)> ScaleWorkloads =>
    [
        ("meta_bdl_512", "MetaA2C + Optim4RL, big_dense_long, 512 agents, reference network (paper scale; bfloat16 state, the default)"),
        ("meta_bdl_512_f32", "MetaA2C + Optim4RL, big_dense_long, 512 agents, reference network, float32 recurrent state"),
        ("meta_bdl_512_rows_cols", "MetaA2C + Optim4RL, big_dense_long, 512 agents, rows_cols network"),
        ("meta_grid6_512", "MetaA2C + Optim4RL, six gridworlds × 512 agents, reference networks (paper scale)"),
        ("lopt_l2_forward", "Optim4RL kernel forward, 16k coordinates (in L2)"),
        ("lopt_l2_forward_backward", "Optim4RL kernel forward + meta-gradient, K = 4, 16k coordinates (in L2)"),
        ("lopt_stream_forward", "Optim4RL kernel forward, 40M coordinates (streaming)"),
        ("lopt_stream_forward_backward", "Optim4RL kernel forward + meta-gradient, K = 4, 40M coordinates (streaming)"),
        ("stream_triad", "Machine memory bandwidth: a[i] = b[i] + s·c[i] over 3 × 512 MB, all cores"),
    ];

    /// <summary>The paper-scale rows (<c>bench --only scale</c>); not part of the default run, they take minutes and GBs.</summary>
    public static IReadOnlyList<string> ScaleNames => ScaleWorkloads.Select(w => w.Name).ToArray();

    private static BenchResult? RunScale(string workload, string desc, int repeats, int? threads) => workload switch
    {
        "meta_bdl_512" => ScaleMetaWorkload(workload, desc, ["big_dense_long"], ConvLayout.Reference, repeats, threads),
        "meta_bdl_512_f32" => ScaleMetaWorkload(workload, desc, ["big_dense_long"], ConvLayout.Reference, repeats, threads, StateDtype.Float32),
        "meta_bdl_512_rows_cols" => ScaleMetaWorkload(workload, desc, ["big_dense_long"], ConvLayout.RowsCols, repeats, threads),
        "meta_grid6_512" => ScaleMetaWorkload(workload, desc, SixGridworlds, ConvLayout.Reference, Math.Min(repeats, 2), threads),
        "lopt_l2_forward" => ScaleKernelWorkload(workload, desc, 16_384, backward: false, 200, repeats, threads),
        "lopt_l2_forward_backward" => ScaleKernelWorkload(workload, desc, 16_384, backward: true, 100, repeats, threads),
        "lopt_stream_forward" => ScaleKernelWorkload(workload, desc, 40_000_000, backward: false, 1, repeats, threads),
        "lopt_stream_forward_backward" => ScaleKernelWorkload(workload, desc, 40_000_000, backward: true, 1, repeats, threads),
        "stream_triad" => StreamWorkload(workload, desc, repeats),
        _ => null,
    };

    /// <summary>
    /// Steady-state seconds per meta-iteration (the first iteration, which touches every page of the
    /// population's buffers, is excluded); secondary: the projected minutes of a 585-iteration run.
    /// </summary>
    private static BenchResult ScaleMetaWorkload(string name, string desc, string[] envs, ConvLayout layout, int repeats, int? threads,
        StateDtype? stateDtype = null)
    {
        var meta = ScaleMetaTrainer(envs, 512, layout, stateDtype, threads);
        meta.Step();
        var samples = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            meta.Step();
            samples[r] = sw.Elapsed.TotalSeconds;
        }

        double median = Median(samples);
        return Result(name, desc, "s/meta-iteration", samples, median * ReferenceMetaIterations / 60, $"min projected (× {ReferenceMetaIterations})");
    }

    /// <summary>
    /// The paper-scale meta-trainer of the <c>scale</c> and <c>scaling</c> rows: MetaA2C + Optim4RL with
    /// <paramref name="agents"/> agents per task, α = 3·10⁻³, reset interval 144, K = 4, grad_clip 1, meta-optimizer
    /// Adam 3·10⁻⁴ with grad_norm 0.5; over <paramref name="ranks"/> as <c>run</c> builds it under mpiexec (null: one process).
    /// </summary>
    internal static MetaA2C ScaleMetaTrainer(IEnumerable<string> envs, int agents, ConvLayout layout, StateDtype? stateDtype, int? threads,
        Distributed.Communicator? ranks = null)
    {
        var tasks = envs.Select(e => new MetaTaskConfig(e, agents, 3e-3f, 1f, 144)).ToList();
        var cfg = new MetaA2CConfig(tasks, long.MaxValue / 4, 4, true, 1, -1, new A2CConfig(), 7, layout, stateDtype);
        return new MetaA2C(cfg, LearnedOptimizers.Create("Optim4RL"), Optax.FromConfig("Adam", 3e-4, gradNorm: 0.5), ranks: ranks)
        {
            MaxDegreeOfParallelism = threads,
        };
    }

    /// <summary>
    /// Coordinate-steps/s of the kernel over N coordinates (rounded down to whole groups) in groups of big_dense_long's P (39,482, one agent each); secondary: the bytes it
    /// must move per coordinate-step at least, as GB/s (forward: read and write 16 state floats, read g,
    /// write Δθ = 136 B; meta-gradient adds, per coordinate, reading the initial state, K gradients and λ).
    /// </summary>
    private static BenchResult ScaleKernelWorkload(string name, string desc, int n, bool backward, int calls, int repeats, int? threads)
    {
        const int k = 4;
        int group = Math.Min(n, 39_482); // one agent of big_dense_long's reference network per group
        n = n / group * group;           // whole agents
        var (lopt, phi, state, state0, grads, adj, upd, mg) = KernelInputs(n, k, threads, rng => rng.NextNormal() * 1e-3);
        void Once()
        {
            for (int c = 0; c < calls; c++)
            {
                for (int s = 0; s < k; s++) lopt.StepGrouped(phi, state, grads.AsSpan(s * n, n), upd, 1e-3f, group);
                if (backward) lopt.MetaGradientGrouped(phi, state0, grads, k, adj, 1e-3f, mg, group);
            }
        }

        Once();
        var samples = Measure(repeats, () => { Once(); return (double)calls * k * n; });
        double bytesPerStep = 4.0 * (2 * lopt.StateSize + 2) + (backward ? 4.0 * (lopt.StateSize + k + 1) / k : 0);
        return Result(name, desc, "coordinate-steps/s", samples, Median(samples) * bytesPerStep / 1e9, "GB/s (minimum traffic)");
    }

    /// <summary>
    /// STREAM-style triad with TensorPrimitives over 128M-float arrays split between the cores:
    /// 12 bytes moved per element (two reads, one write; write-allocate traffic not counted).
    /// </summary>
    private static BenchResult StreamWorkload(string name, string desc, int repeats)
    {
        const int n = 128 << 20;
        float[] a = new float[n], b = new float[n], c = new float[n];
        b.AsSpan().Fill(1f);
        c.AsSpan().Fill(2f);
        int parts = Environment.ProcessorCount;
        void Triad() => Parallel.For(0, parts, p =>
        {
            int lo = (int)((long)n * p / parts), hi = (int)((long)n * (p + 1) / parts);
            TensorPrimitives.MultiplyAdd(c.AsSpan(lo, hi - lo), 3f, b.AsSpan(lo, hi - lo), a.AsSpan(lo, hi - lo));
        });
        Triad();
        var samples = Measure(repeats, () => { Triad(); return 12.0 * n / 1e9; });
        return Result(name, desc, "GB/s", samples, double.NaN, "");
    }
}
