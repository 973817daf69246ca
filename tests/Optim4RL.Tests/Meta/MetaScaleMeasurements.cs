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

    /// <summary>The bench's meta_bdl_512 settings.</summary>
    private static MetaA2C Make(StateDtype dtype) =>
        new(new MetaA2CConfig([new MetaTaskConfig("big_dense_long", B, 3e-3f, 1f, 144)], long.MaxValue / 4, K, true, 1, -1, new A2CConfig(), 7,
                StateDtype: dtype),
            LearnedOptimizers.Create("Optim4RL"), Optax.FromConfig("Adam", 3e-4, gradNorm: 0.5));

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
            using var ms = new MemoryStream();
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
