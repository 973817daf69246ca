using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>
/// Test inputs shared by the baseline learned-optimizer tests (LinearOptim, L2LGD2, STAR): a
/// uniform view of the three kernels (one double reference per architecture, valid random states,
/// φ with every entry active) so each test can run as a theory over the architecture names.
/// </summary>
internal static class BaselineTestData
{
    public static readonly TheoryData<string> Names = new() { "LinearOptim", "L2LGD2", "STAR" };

    public static ILearnedOptimizer Create(string name, int width = 0, int? threads = null)
    {
        ILearnedOptimizer opt = LearnedOptimizers.Create(name);
        opt.MaxDegreeOfParallelism = threads;
        Execution(opt).VectorWidthOverride = width;
        return opt;
    }

    /// <summary>The thread cap and SIMD width of any of the four kernels.</summary>
    public static KernelExecution Execution(ILearnedOptimizer opt) => opt switch
    {
        GruLearnedOptimizer g => g.Execution,
        StarOptimizer s => s.Execution,
        Optim4RLOptimizer o => o.Execution,
        _ => throw new ArgumentException(opt.Name),
    };

    public static int Width(ILearnedOptimizer opt) => Execution(opt).VectorWidth;

    /// <summary>
    /// The initial φ plus noise: N(0, 0.3²) on every GRU/MLP entry (so biases and heads are active
    /// too); for STAR's decay parameters N(0, 0.02²), which keeps every β inside (0, 1) and unclipped.
    /// </summary>
    public static float[] Phi(ILearnedOptimizer opt, ulong seed)
    {
        var rng = new Rng(seed);
        var phi = new float[opt.Layout.Count];
        opt.InitMetaParams(ref rng, phi);
        var r2 = rng.Split(99);
        foreach (var e in opt.Layout.Entries)
        {
            double noise = e.Name.EndsWith("_decays", StringComparison.Ordinal) ? 0.02 : 0.3;
            for (int i = 0; i < e.Length; i++) phi[e.Offset + i] += (float)(noise * r2.NextNormal());
        }
        return phi;
    }

    /// <summary>
    /// A valid state [StateSize, N]: GRU hidden states uniform in (−1, 1); for STAR momenta
    /// N(0, 0.05²), second moments uniform in [0, 0.01) (a few exactly 0), and a step count per
    /// parameter vector of <paramref name="groupSize"/> coordinates, uniform in {0, …, 40}.
    /// </summary>
    public static float[] State(ILearnedOptimizer opt, int n, ulong seed, int groupSize = 0)
    {
        if (opt is not StarOptimizer) return LearnedTestData.RandomState(opt.StateSize * n, seed);
        if (groupSize <= 0) groupSize = Math.Max(n, 1);
        var rng = new Rng(seed);
        var s = new float[8 * n];
        for (int c = 0; c < n; c++)
        {
            for (int i = 0; i < 3; i++) s[i * n + c] = (float)(0.05 * rng.NextNormal());
            for (int u = 3; u < 7; u++) s[u * n + c] = rng.NextInt(10) == 0 ? 0f : (float)(0.01 * rng.NextDouble());
        }
        var tr = new Rng(seed + 1000);
        for (int gi = 0; gi < n / groupSize; gi++)
        {
            float t = tr.NextInt(41);
            for (int c = gi * groupSize; c < (gi + 1) * groupSize; c++) s[7 * n + c] = t;
        }
        return s;
    }

    /// <summary>Gradients over many magnitudes (<see cref="LearnedTestData.RandomGrads"/>), clipped to [−1, 1] as grad_clip 1 does.</summary>
    public static float[] Grads(int count, ulong seed)
    {
        var g = LearnedTestData.RandomGrads(count, seed);
        for (int i = 0; i < g.Length; i++) g[i] = Math.Clamp(g[i], -1f, 1f);
        return g;
    }

    /// <summary>Δ of <paramref name="k"/> consecutive reference steps of all coordinates, [K, N]; the state is read from state0.</summary>
    public static double[] ReferenceSteps(ILearnedOptimizer opt, float[] phi, float[] state0, float[] grads, int k, int n, double alpha, int groupSize)
    {
        var result = new double[k * n];
        if (opt is StarOptimizer)
        {
            var r = new StarReference(opt.Layout, phi);
            var acc = new StarReference.Acc[n];
            for (int c = 0; c < n; c++) acc[c] = StarReference.StateOf(state0, n, c);
            for (int s = 0; s < k; s++)
            {
                var d = r.Step(acc, grads.AsSpan(s * n, n).ToArray(), groupSize, alpha);
                d.CopyTo(result, s * n);
            }
            return result;
        }
        var gr = new GruBaselineReference(opt.Name, opt.Layout, phi);
        var h = new double[8];
        for (int c = 0; c < n; c++)
        {
            for (int j = 0; j < 8; j++) h[j] = state0[j * n + c];
            for (int s = 0; s < k; s++) result[s * n + c] = gr.Step(h, grads[s * n + c], alpha);
        }
        return result;
    }

    public static double ReferenceLoss(ILearnedOptimizer opt, double[] phi, float[] state0, float[] grads, int k, float[] lambda, double alpha, int groupSize) =>
        opt is StarOptimizer
            ? new StarReference(opt.Layout, phi).Loss(state0, grads, k, lambda, groupSize, alpha)
            : new GruBaselineReference(opt.Name, opt.Layout, phi).Loss(state0, grads, k, lambda, alpha);

    public static double[] ReferenceGradient(ILearnedOptimizer opt, float[] phi, float[] state0, float[] grads, int k, float[] lambda, double alpha, int groupSize) =>
        opt is StarOptimizer
            ? new StarReference(opt.Layout, phi).Gradient(state0, grads, k, lambda, groupSize, alpha)
            : new GruBaselineReference(opt.Name, opt.Layout, phi).Gradient(state0, grads, k, lambda, alpha);

    public static string NameOf(ILearnedOptimizer opt, int p) =>
        opt.Layout.Entries.First(e => p >= e.Offset && p < e.Offset + e.Length) is var e ? $"{e.Name}[{p - e.Offset}]" : "?";
}
