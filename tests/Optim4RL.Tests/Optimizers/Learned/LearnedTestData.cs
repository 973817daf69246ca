using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>Random φ, states, gradients and adjoints for the learned-optimizer tests.</summary>
internal static class LearnedTestData
{
    /// <summary>The initial φ plus N(0, noise²) on every entry, so biases and heads are nonzero too.</summary>
    public static float[] RandomPhi(ILearnedOptimizer opt, ulong seed, double noise = 0.3)
    {
        var rng = new Rng(seed);
        var phi = new float[opt.Layout.Count];
        opt.InitMetaParams(ref rng, phi);
        var r2 = rng.Split(99);
        for (int i = 0; i < phi.Length; i++) phi[i] += (float)(noise * r2.NextNormal());
        return phi;
    }

    /// <summary>Hidden states uniform in (−1, 1).</summary>
    public static float[] RandomState(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var s = new float[count];
        for (int i = 0; i < count; i++) s[i] = (float)(2 * rng.NextDouble() - 1);
        return s;
    }

    private static readonly float[] Special = [0f, 1e-8f, -1e-8f, 1e-6f, -1e-4f, 1e-2f, -0.1f, 1f, -1f, 10f, -10f, 3.5f];

    /// <summary>Gradients spanning many magnitudes: special values (0, ±1e−8, …, ±10) and log-uniform in [1e−9, 10] with random sign.</summary>
    public static float[] RandomGrads(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var g = new float[count];
        for (int i = 0; i < count; i++)
        {
            if (rng.NextInt(4) == 0) g[i] = Special[rng.NextInt(Special.Length)];
            else
            {
                double mag = Math.Pow(10, -9 + 10 * rng.NextDouble());
                g[i] = (float)(rng.Bernoulli(0.5) ? mag : -mag);
            }
        }
        return g;
    }

    public static float[] RandomNormal(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)rng.NextNormal();
        return x;
    }
}
