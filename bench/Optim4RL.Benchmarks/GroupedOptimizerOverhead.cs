using System.Diagnostics;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Benchmarks;

/// <summary>
/// A quick Stopwatch measurement (seconds, not a BenchmarkDotNet run) of what <see cref="GroupedOptimizer"/>
/// costs per step over the flat-span API (<c>Update</c> + θ ← θ + Δθ): a 100,000-parameter network split into
/// 10 groups of one 10,000-coordinate tensor each, (a) as 10 separate arrays (the gradient is gathered each
/// step) and (b) as 10 slices of one θ array and one gradient array (no copy), for Adam and the pretrained
/// learned optimizer (its kernel on one thread). Run:
/// <c>dotnet run -c Release --project bench/Optim4RL.Benchmarks -- grouped-overhead</c>.
/// </summary>
public static class GroupedOptimizerOverhead
{
    private const int Groups = 10, PerGroup = 10_000, P = Groups * PerGroup;

    private const int Rounds = 25, StepsPerRound = 20;

    public static void Run()
    {
        Console.WriteLine($"P = {P:N0} in {Groups} groups; µs per step, fastest of {Rounds} interleaved rounds of {StepsPerRound} steps (after warm-up)");
        Console.WriteLine($"{"optimizer",-10} {"flat span",10} {"grouped, 10 arrays (+)",24} {"grouped, 1 array (+)",22}");
        foreach (string name in new[] { "adam", "learned" })
        {
            IOptimizer Make()
            {
                if (name == "adam") return Optax.Adam(1e-3);
                var learned = LearnedOptimizer.Load("optim4rl-catch");
                learned.Kernel.MaxDegreeOfParallelism = 1; // one thread: steadier timings on a shared machine
                return learned;
            }
            var rng = new Random(1);
            float[] g = Enumerable.Range(0, P).Select(_ => (float)(rng.NextDouble() - 0.5) * 1e-2f).ToArray();

            // Flat-span API.
            var flat = Make();
            var state = flat.Init(P);
            float[] theta = new float[P], upd = new float[P];
            void FlatStep()
            {
                flat.Update(g, state, upd);
                TP.Add(theta, upd, theta);
            }

            // 10 separate arrays.
            var sepGroups = new ParameterGroup[Groups];
            for (int i = 0; i < Groups; i++)
                sepGroups[i] = new ParameterGroup($"g{i}").Add("w", new float[PerGroup], g.AsSpan(i * PerGroup, PerGroup).ToArray());
            var separate = new GroupedOptimizer(Make(), sepGroups);

            // 10 slices of one array.
            float[] theta1 = new float[P], grad1 = (float[])g.Clone();
            var oneGroups = new ParameterGroup[Groups];
            for (int i = 0; i < Groups; i++)
                oneGroups[i] = new ParameterGroup($"g{i}").Add("w", theta1.AsMemory(i * PerGroup, PerGroup), grad1.AsMemory(i * PerGroup, PerGroup));
            var one = new GroupedOptimizer(Make(), oneGroups);
            if (!one.GradientsAreContiguous || separate.GradientsAreContiguous) throw new InvalidOperationException("contiguity detection");

            double[] t = Time([FlatStep, separate.Step, one.Step]);
            double gather = Time([() =>
            {
                for (int i = 0; i < Groups; i++) sepGroups[i].Parameters[0].Grad.CopyTo(grad1.AsSpan(i * PerGroup, PerGroup));
            }])[0];
            Console.WriteLine($"{name,-10} {t[0],10:F1} {t[1],14:F1} ({t[1] - t[0],+7:F1}) {t[2],12:F1} ({t[2] - t[0],+7:F1})   gather alone: {gather:F1}");
        }
    }

    /// <summary>
    /// µs per step of each variant: the fastest of interleaved rounds (other work on the machine only ever adds
    /// time, so the minimum is the least disturbed estimate), so that load changes hit all variants alike.
    /// </summary>
    private static double[] Time(Action[] variants)
    {
        foreach (var v in variants)
        {
            for (int i = 0; i < 3 * StepsPerRound; i++) v();
        }

        var rounds = new double[variants.Length][];
        for (int k = 0; k < variants.Length; k++) rounds[k] = new double[Rounds];
        for (int r = 0; r < Rounds; r++)
        {
            for (int j = 0; j < variants.Length; j++)
            {
                int k = (j + r) % variants.Length; // rotate the order, so no variant always runs first
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < StepsPerRound; i++) variants[k]();
                rounds[k][r] = sw.Elapsed.TotalMicroseconds / StepsPerRound;
            }
        }

        return rounds.Select(x => x.Min()).ToArray();
    }
}
