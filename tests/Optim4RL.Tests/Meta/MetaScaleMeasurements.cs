using System.Diagnostics;
using Optim4RL.Agents;
using Optim4RL.Meta;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using Xunit.Abstractions;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Tests.Meta;

/// <summary>
/// Measurements at the paper's scale (big_dense_long, B = 512 agents, the reference network), not
/// tests: they run only with OPTIM4RL_BENCH=1 and take minutes and several GB, e.g.
/// <c>OPTIM4RL_BENCH=1 dotnet test -c Release --filter "FullyQualifiedName~MetaScaleMeasurements" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public class MetaScaleMeasurements(ITestOutputHelper output)
{
    private const int B = 512, K = 4;

    private static bool Enabled => Environment.GetEnvironmentVariable("OPTIM4RL_BENCH") == "1";

    private static int Repeats => int.TryParse(Environment.GetEnvironmentVariable("OPTIM4RL_BENCH_REPEATS"), out int r) ? r : 5;

    /// <summary>The bench's meta_bdl_512 trainer with the given state type.</summary>
    private static MetaA2C Make(StateDtype dtype) =>
        Optim4RL.Experiments.Bench.ScaleMetaTrainer(["big_dense_long"], B, Optim4RL.Nn.ConvLayout.Reference, dtype, threads: null);

    private static double Median(List<double> x)
    {
        var s = x.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static string Line(string name, List<double> x) => $"{name,-44} median {Median(x):F3} s  (min {x.Min():F3}, max {x.Max():F3}, n = {x.Count})";

    /// <summary>
    /// The inner updates of one meta-iteration at B = 512 (K = 4 over N = B·P coordinates), each lever
    /// on its own, the variants alternated in every round: the h_0 snapshot copy with clip, step and
    /// θ += Δ as three passes (before); the double buffer; the double buffer with the fused pass; the
    /// latter with a bfloat16 state. Then whole meta-iterations of MetaA2C in its three (bit-identical)
    /// update modes, alternated.
    /// </summary>
    [Fact]
    public void Inner_update_levers_at_paper_scale()
    {
        if (!Enabled) return;
        var lopt = LearnedOptimizers.Create("Optim4RL");
        var rng = new Optim4RL.Tensors.Rng(3);
        var phi = new float[lopt.Layout.Count];
        lopt.InitMetaParams(ref rng, phi);
        var probe = Optim4RL.Envs.EnvRegistry.CreateDiscrete("big_dense_long", 1, rng, 1f);
        int p = Optim4RL.Nn.NetworkSpec.ForTask(probe.Name, probe.ObservationShape.ToArray(), probe.ActionCount, Optim4RL.Nn.ConvLayout.Reference).Layout.Count;
        int n = B * p;
        output.WriteLine($"P = {p:N0}, N = {n:N0}, state {16L * n * 4 / 1e9:F2} GB (float32) per buffer");
        {
            var s32a = new RecurrentState(StateDtype.Float32, 16, n);
            var s32b = new RecurrentState(StateDtype.Float32, 16, n);
            var s16a = new RecurrentState(StateDtype.BFloat16, 16, n);
            var s16b = new RecurrentState(StateDtype.BFloat16, 16, n);
            var raw = new float[n];
            for (int i = 0; i < n; i++) raw[i] = (float)(rng.NextNormal() * 0.3);
            var gks = new float[K * n];
            var theta = new float[n];
            var upd = new float[n];
            const float alpha = 3e-3f;

            var proc = Process.GetCurrentProcess();
            (double Wall, double Cpu) Time(Action a)
            {
                proc.Refresh();
                var cpu0 = proc.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                a();
                double wall = sw.Elapsed.TotalSeconds;
                proc.Refresh();
                return (wall, (proc.TotalProcessorTime - cpu0).TotalSeconds);
            }

            void ThreePasses(StateSpan h0, StateSpan h, bool copy)
            {
                if (copy) h0.CopyTo(h);
                for (int k = 0; k < K; k++)
                {
                    var gk = gks.AsSpan(k * n, n);
                    TP.Min(raw, 1f, gk);
                    TP.Max(gk, -1f, gk);
                    lopt.StepGrouped(phi, copy || k > 0 ? h : h0, h, gk, upd, alpha, p);
                    TP.Add(theta, upd, theta);
                }
            }

            void Fused(StateSpan h0, StateSpan h)
            {
                for (int k = 0; k < K; k++)
                    lopt.UpdateGrouped(phi, k == 0 ? h0 : h, h, raw, 1f, gks.AsSpan(k * n, n), theta, alpha, p);
            }

            var variants = new (string Name, Action Run)[]
            {
                ("steps only (no clip, no θ += Δ; floor)", () =>
                {
                    for (int k = 0; k < K; k++) lopt.StepGrouped(phi, k == 0 ? s32a.Span : s32b.Span, s32b.Span, gks.AsSpan(k * n, n), upd, alpha, p);
                }),
                ("copy + clip/step/add (before)", () => ThreePasses(s32a.Span, s32b.Span, copy: true)),
                ("double buffer + clip/step/add", () => ThreePasses(s32a.Span, s32b.Span, copy: false)),
                ("double buffer + fused", () => Fused(s32a.Span, s32b.Span)),
                ("double buffer + fused, bfloat16 state", () => Fused(s16a.Span, s16b.Span)),
                ("snapshot copy alone (1 state buffer)", () => s32a.Span.CopyTo(s32b.Span)),
                ("clip and θ += Δ passes alone (K of each)", () =>
                {
                    for (int k = 0; k < K; k++)
                    {
                        var gk = gks.AsSpan(k * n, n);
                        TP.Min(raw, 1f, gk);
                        TP.Max(gk, -1f, gk);
                        TP.Add(theta, upd, theta);
                    }
                }),
            };
            var wall = variants.Select(_ => new List<double>()).ToArray();
            var cpu = variants.Select(_ => new List<double>()).ToArray();
            foreach (var v in variants) v.Run(); // warm-up: touch every page, tier up the JIT
            for (int r = 0; r < Repeats; r++)
            {
                for (int i = 0; i < variants.Length; i++)
                {
                    var (w, c) = Time(variants[i].Run);
                    wall[i].Add(w);
                    cpu[i].Add(c);
                }
            }
            output.WriteLine($"K = {K} inner updates over N = {n:N0} coordinates, {Environment.ProcessorCount} cores (wall, then CPU seconds of the process):");
            for (int i = 0; i < variants.Length; i++) output.WriteLine("  " + Line(variants[i].Name, wall[i]) + $"; CPU median {Median(cpu[i]):F3} s, min {cpu[i].Min():F3} s");
        }
        GC.Collect();

        if (Environment.GetEnvironmentVariable("OPTIM4RL_BENCH_KERNEL_ONLY") == "1") return;
        var meta = Make(StateDtype.Float32);
        meta.Step();
        var modes = new[] { InnerUpdateMode.SnapshotCopy, InnerUpdateMode.DoubleBuffer, InnerUpdateMode.Fused };
        var it = modes.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < Math.Max(3, Repeats - 2); r++)
        {
            for (int i = 0; i < modes.Length; i++)
            {
                meta.UpdateMode = modes[i];
                var sw = Stopwatch.StartNew();
                meta.Step();
                it[i].Add(sw.Elapsed.TotalSeconds);
            }
        }
        output.WriteLine("MetaA2C meta-iterations (float32 state), modes alternated:");
        for (int i = 0; i < modes.Length; i++) output.WriteLine("  " + Line(modes[i].ToString(), it[i]));
    }

    /// <summary>
    /// How far a bfloat16 state moves the meta-gradient: a float32 MetaA2C runs; at a few iterations
    /// its checkpoint is loaded into a bfloat16 trainer (the state rounded), and both compute the
    /// meta-gradient of the same next iteration from identical inputs (θ, rounded state, RNG
    /// streams, φ). Reported: cosine and ‖a − b‖/‖a‖ (a: float32). Also the meta-gradient pass alone:
    /// the float32 run's own K gradients and adjoint, with state0 in float32 and rounded to bfloat16.
    /// </summary>
    [Fact]
    public void Bfloat16_meta_gradient_agreement_at_paper_scale()
    {
        if (!Enabled) return;
        int[] points = (Environment.GetEnvironmentVariable("OPTIM4RL_BENCH_POINTS") ?? "3,10,20").Split(',').Select(int.Parse).ToArray();
        var a = Make(StateDtype.Float32);
        var c = Make(StateDtype.BFloat16);
        var lopt = a.LearnedOptimizer;
        var rows = new List<string>();
        foreach (int point in points)
        {
            while (a.Iteration < point) a.Step();
            // A temporary file, not a MemoryStream: the float32 checkpoint is ≈ 1.4 GB, and a growing MemoryStream
            // would hold up to twice that in RAM beside the two populations.
            using var ms = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
            a.SaveCheckpoint(ms);

            float[] g32 = a.MetaGradientOfNextIteration();
            var task = a.Tasks[0];
            var state0 = task.NextState; // h_0 of that iteration, kept by the double buffer
            float[] k32 = new float[g32.Length], k16 = new float[g32.Length];
            lopt.MetaGradientGrouped(a.Phi, state0.Span, task.Grads, task.K, task.Grad, task.Config.LearningRate, k32, task.P);
            {
                var rounded = new RecurrentState(StateDtype.BFloat16, state0.Units, state0.N);
                int length = state0.Length;
                Parallel.For(0, 64, part =>
                {
                    long lo = (long)length * part / 64, hi = (long)length * (part + 1) / 64;
                    var s = state0.Span.Float32;
                    var d = rounded.Span.BFloat16;
                    for (long i = lo; i < hi; i++) d[(int)i] = BFloat16Bits.FromSingle(s[(int)i]);
                });
                lopt.MetaGradientGrouped(a.Phi, rounded.Span, task.Grads, task.K, task.Grad, task.Config.LearningRate, k16, task.P);
            }

            ms.Position = 0;
            c.LoadCheckpoint(ms, convertState: true);
            float[] g16 = c.MetaGradientOfNextIteration();
            ms.Position = 0;
            a.LoadCheckpoint(ms);

            long zeroCount = 0;
            foreach (float x in state0.Span.Float32) if (x == 0) zeroCount++;
            double zeros = zeroCount / (double)state0.Length;
            string row = $"after {point,3} iterations (state zeros {zeros:P1}): whole iteration cos {Cos(g32, g16):F9} (1 − cos {1 - Cos(g32, g16):E2}), "
                + $"rel. err {RelErr(g32, g16):E3}, |g| {TP.Norm(g32):E3}; meta-gradient pass alone 1 − cos {1 - Cos(k32, k16):E2}, rel. err {RelErr(k32, k16):E3}";
            rows.Add(row);
            output.WriteLine(row);
        }
        output.WriteLine($"rule for bfloat16 as the default: cos ≥ 0.999 and rel. err ≤ 1e-3 (plus curves within seed noise)");
    }

    /// <summary>
    /// The bench's scale workloads with <paramref name="agents"/> agents per task and an explicit state type, so the
    /// memory account stays comparable with the one recorded before bfloat16 became the default: "bdl" (meta_bdl_512_f32),
    /// "bdl_bf16" (meta_bdl_512, the default), "rows_cols" and "grid6" (meta_bdl_512_rows_cols and meta_grid6_512 with
    /// float32 state; the bench rows now run bfloat16).
    /// </summary>
    private static MetaA2C MakeWorkload(string workload, int agents)
    {
        var (envs, layout, dtype) = workload switch
        {
            "bdl" => (new[] { "big_dense_long" }, Optim4RL.Nn.ConvLayout.Reference, StateDtype.Float32),
            "bdl_bf16" => (["big_dense_long"], Optim4RL.Nn.ConvLayout.Reference, StateDtype.BFloat16),
            "rows_cols" => (["big_dense_long"], Optim4RL.Nn.ConvLayout.RowsCols, StateDtype.Float32),
            "grid6" => (Optim4RL.Experiments.Bench.SixGridworlds, Optim4RL.Nn.ConvLayout.Reference, StateDtype.Float32),
            _ => throw new ArgumentException($"unknown workload {workload} (bdl, bdl_bf16, rows_cols, grid6)"),
        };
        return Optim4RL.Experiments.Bench.ScaleMetaTrainer(envs, agents, layout, dtype, threads: null);
    }

    private static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;

    private static string GiB(double bytes) => $"{bytes / (1L << 30):F3} GiB";

    /// <summary>
    /// Where the memory of a scale workload goes (memory is not distorted by a loaded machine): every large
    /// buffer of every task, sized from P, B, K and the state's units (θ, ∇θ, the K recorded gradients, the
    /// two recurrent-state buffers, the meta-gradient's per-chunk partials), each agent's own allocations (its
    /// autodiff graph with every activation and activation gradient kept for the backward pass, the im2col
    /// scratch, rollout buffers and environment; measured by allocating one), then the process's peak working
    /// set after a few meta-iterations. OPTIM4RL_BENCH_WORKLOAD = bdl (default), bdl_bf16, rows_cols or grid6;
    /// OPTIM4RL_BENCH_AGENTS = B per task (default 512); OPTIM4RL_BENCH_ITERATIONS (default 2). Run each
    /// workload in its own process, as the bench does, to read its own peak.
    /// </summary>
    [Fact]
    public void Memory_account_of_scale_workloads()
    {
        if (!Enabled) return;
        string workload = Env("OPTIM4RL_BENCH_WORKLOAD", "bdl");
        int agents = int.Parse(Env("OPTIM4RL_BENCH_AGENTS", "512"));
        int iterations = int.Parse(Env("OPTIM4RL_BENCH_ITERATIONS", "2"));
        var proc = Process.GetCurrentProcess();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        proc.Refresh();
        long baseline = proc.WorkingSet64;
        output.WriteLine($"workload {workload}, B = {agents} agents per task, K = {K}, {Environment.ProcessorCount} cores; GiB = 2^30 bytes (the bench's \"GB\")");
        output.WriteLine($"process before the population: working set {GiB(baseline)}, GC heap {GiB(GC.GetTotalMemory(false))}");

        // One agent's own allocations per task (environment, tracker), and one pooled A2C loss (its graph: activations,
        // their gradients, im2col); the pool holds at most one loss per core (the threads that run agents at once).
        var agentBytes = new Dictionary<string, long>();
        var lossBytes = new Dictionary<string, long>();
        var meta = MakeWorkload(workload, agents);
        foreach (var task in meta.Tasks)
        {
            var rng = new Optim4RL.Tensors.Rng(11);
            var theta = new float[task.P];
            var grad = new float[task.P];
            long before = GC.GetAllocatedBytesForCurrentThread();
            var env = Optim4RL.Envs.EnvRegistry.CreateDiscrete(task.Config.Env, 1, rng, 1f);
            var tracker = new EpisodeTracker(1);
            long mid = GC.GetAllocatedBytesForCurrentThread();
            var loss = new A2CLoss<float>(task.Spec, env, new A2CConfig(), theta, grad, 0);
            agentBytes[task.Config.Env] = mid - before;
            lossBytes[task.Config.Env] = GC.GetAllocatedBytesForCurrentThread() - mid;
            GC.KeepAlive(loss);
            GC.KeepAlive(tracker);
        }

        int threads = Environment.ProcessorCount;

        double total = 0;
        var lopt = meta.LearnedOptimizer;
        foreach (var task in meta.Tasks)
        {
            long n = task.N;
            int bytes = task.State.Dtype.Bytes();
            long chunks = Optim4RL.Optimizers.Learned.LearnedKernelDriver.ChunkCount(task.N, task.P);
            long partials = chunks * lopt.Layout.Count;
            long pooled = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)partials) * 8;
            var rows = new (string Name, string Formula, double Bytes)[]
            {
                ("θ", "B·P·4 B", n * 4.0),
                ("∇θ of the last rollout (the adjoint λ after the meta-loss)", "B·P·4 B", n * 4.0),
                ($"K = {task.K} recorded clipped gradients g_k", "K·B·P·4 B", task.K * n * 4.0),
                ($"recurrent state, 2 buffers (h_0 and the running state), {task.StateSize} units, {task.State.Dtype.Name()}", $"2·{task.StateSize}·B·P·{bytes} B", 2.0 * task.StateSize * n * bytes),
                ($"meta-gradient per-chunk partials ({chunks:N0} chunks × {lopt.Layout.Count} φ, double; pooled)", "⌈B·P/4096⌉·|φ|·8 B, to 2^k", pooled),
                ("agents' own: env, episode tracker", $"B × {agentBytes[task.Config.Env]:N0} B", (double)task.B * agentBytes[task.Config.Env]),
                ("pooled A2C losses: graph (activations + their gradients, im2col), rollout buffers", $"≤ {threads} × {lossBytes[task.Config.Env]:N0} B", (double)threads * lossBytes[task.Config.Env]),
            };
            output.WriteLine($"task {task.Config.Env} ({task.Spec.ConvLayout}): P = {task.P:N0}, N = B·P = {n:N0}");
            foreach (var r in rows) output.WriteLine($"  {r.Name,-100} {r.Formula,-28} {GiB(r.Bytes)}");
            double sum = rows.Sum(r => r.Bytes);
            output.WriteLine($"  {"task total",-100} {"",-28} {GiB(sum)}  ({sum / n:F1} B per coordinate)");
            total += sum;
        }
        output.WriteLine($"all tasks: {GiB(total)}");
        GC.Collect();
        proc.Refresh();
        output.WriteLine($"after construction: GC heap {GiB(GC.GetTotalMemory(false))}, working set {GiB(proc.WorkingSet64)} (buffers are touched by the first iteration)");
        for (int i = 0; i < iterations; i++) meta.Step();
        output.WriteLine($"pooled A2C losses built: {string.Join(", ", meta.Tasks.Select(t => $"{t.Config.Env} {t.PooledLosses}"))} (≤ {threads} counted above)");
        proc.Refresh();
        var info = GC.GetGCMemoryInfo();
        output.WriteLine($"after {iterations} meta-iterations: peak working set {GiB(proc.PeakWorkingSet64)}; GC heap {GiB(info.HeapSizeBytes)}, committed {GiB(info.TotalCommittedBytes)}, fragmented {GiB(info.FragmentedBytes)}");
        output.WriteLine($"peak − process before the population − the buffers above: {GiB(proc.PeakWorkingSet64 - baseline - total)} (runtime, JIT, BLAS threads' buffers, GC slack)");
        GC.KeepAlive(meta);
    }

    /// <summary>
    /// The managed heap that the A2C losses take on big_dense_long (reference network) with B = 64 agents
    /// (OPTIM4RL_BENCH_AGENTS overrides), pooled per thread and one per agent: GC.GetTotalMemory after a full
    /// collection, before and after building the trainer, after a meta-iteration with the pool, after one with a
    /// loss per agent. Not timed.
    /// </summary>
    [Fact]
    public void Heap_of_pooled_and_per_agent_graphs()
    {
        if (!Enabled) return;
        int agents = int.Parse(Env("OPTIM4RL_BENCH_AGENTS", "64"));
        static long Heap() => GC.GetTotalMemory(forceFullCollection: true);
        long start = Heap();
        var meta = Optim4RL.Experiments.Bench.ScaleMetaTrainer(["big_dense_long"], agents, Optim4RL.Nn.ConvLayout.Reference, StateDtype.Float32, threads: null);
        var task = meta.Tasks[0];
        long built = Heap();
        output.WriteLine($"big_dense_long, B = {agents}, P = {task.P:N0}, {Environment.ProcessorCount} cores; MB = 10^6 bytes");
        output.WriteLine($"after building the trainer: +{(built - start) / 1e6:F1} MB (θ, ∇θ, g_k, states, envs; no losses yet)");
        meta.Step();
        long pooled = Heap();
        output.WriteLine($"after a meta-iteration with the pool ({task.PooledLosses} losses): +{(pooled - built) / 1e6:F1} MB");
        meta.LossPerAgent = true;
        meta.Step();
        long perAgent = Heap();
        output.WriteLine($"after a meta-iteration with one loss per agent ({agents} more losses): +{(perAgent - pooled) / 1e6:F1} MB, {(perAgent - pooled) / (double)agents:N0} B per loss");
        GC.KeepAlive(meta);
    }

    /// <summary>
    /// Shares of a meta_bdl_512 meta-iteration by phase (needs OPTIM4RL_PHASES=1 as well, which turns on the
    /// <see cref="PhaseClock"/> hooks; without it they compile to nothing): the trainer's phases in wall and process CPU
    /// time, and, inside the two parallel rollout regions (inner updates, meta-loss), the agents' thread time by part
    /// (observation, network forward, sampling, environment step, loss forward, backward). One warm-up iteration,
    /// then OPTIM4RL_BENCH_REPEATS (default 5). OPTIM4RL_BENCH_WORKLOAD picks another workload (bdl_bf16, rows_cols, grid6).
    /// </summary>
    [Fact]
    public void Phase_shares_at_paper_scale()
    {
        if (!Enabled) return;
        if (!PhaseClock.Enabled)
        {
            output.WriteLine("set OPTIM4RL_PHASES=1 as well (the phase hooks are read once, when the process starts)");
            return;
        }
        string workload = Env("OPTIM4RL_BENCH_WORKLOAD", "bdl");
        var meta = MakeWorkload(workload, int.Parse(Env("OPTIM4RL_BENCH_AGENTS", "512")));
        meta.Step(); // warm-up: touches every page, tiers up the JIT
        PhaseClock.Reset();
        var iterations = new List<double>();
        var cpu0 = Environment.CpuUsage.TotalTime;
        var all = Stopwatch.StartNew();
        for (int r = 0; r < Repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            meta.Step();
            iterations.Add(sw.Elapsed.TotalSeconds);
        }
        double wall = all.Elapsed.TotalSeconds, cpu = (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds;
        output.WriteLine($"workload {workload}: {Repeats} meta-iterations after 1 warm-up, {Environment.ProcessorCount} cores; {wall:F2} s wall, {cpu:F2} s process CPU ({cpu / wall:F2} cores busy on average)");
        output.WriteLine("  " + Line("per meta-iteration (wall)", iterations));
        output.WriteLine($"  {"phase",-58} {"wall s",9} {"wall %",7} {"CPU s",9} {"CPU %",7} {"cores",6}");
        double wSum = 0, cSum = 0;
        foreach (var phase in Enum.GetValues<MetaPhase>())
        {
            double w = PhaseClock.WallSeconds(phase), c = PhaseClock.CpuSeconds(phase);
            wSum += w;
            cSum += c;
            output.WriteLine($"  {phase,-58} {w,9:F3} {100 * w / wall,6:F1}% {c,9:F3} {100 * c / cpu,6:F1}% {c / w,6:F2}");
        }
        output.WriteLine($"  {"other (CSV rows, returns, task loop)",-58} {wall - wSum,9:F3} {100 * (wall - wSum) / wall,6:F1}% {cpu - cSum,9:F3} {100 * (cpu - cSum) / cpu,6:F1}%");
        foreach (var region in Enum.GetValues<PhaseRegion>())
        {
            double regionSum = Enum.GetValues<AgentPhase>().Sum(p => PhaseClock.AgentSeconds(region, p));
            var top = region == PhaseRegion.Inner ? MetaPhase.InnerRollouts : MetaPhase.MetaLossRollout;
            double topShare = PhaseClock.CpuSeconds(top) / cpu;
            output.WriteLine($"  agents' thread time in {region} ({regionSum:F3} s summed over threads), and × that region's CPU share = share of the iteration:");
            foreach (var p in Enum.GetValues<AgentPhase>())
            {
                double s = PhaseClock.AgentSeconds(region, p);
                output.WriteLine($"    {p,-20} {s,9:F3} s {100 * s / regionSum,6:F1}% of the region  ≈ {100 * topShare * s / regionSum,5:F1}% of the iteration (CPU)");
            }
        }
        long coordinateSteps = (long)Repeats * meta.Tasks.Sum(t => (long)t.K * t.N);
        double inner = PhaseClock.WallSeconds(MetaPhase.InnerKernel), mg = PhaseClock.WallSeconds(MetaPhase.MetaGradientKernel);
        output.WriteLine($"kernel rates in the run (wall): forward (fused clip/step/θ += Δ) {coordinateSteps / inner / 1e6:F1} M coordinate-steps/s; "
            + $"forward + meta-gradient {coordinateSteps / (inner + mg) / 1e6:F1} M/s (the bench's idle streaming rows: 73 and 34)");
    }

    private static double Cos(float[] a, float[] b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            ab += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
        }
        return ab / Math.Sqrt(aa * bb);
    }

    private static double RelErr(float[] a, float[] b)
    {
        double d = 0, aa = 0;
        for (int i = 0; i < a.Length; i++)
        {
            d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
            aa += (double)a[i] * a[i];
        }
        return Math.Sqrt(d / aa);
    }
}
