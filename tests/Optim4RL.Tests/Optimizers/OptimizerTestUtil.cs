using Optim4RL.Optimizers;

namespace Optim4RL.Tests.Optimizers;

/// <summary>Shared helpers for the optimizer tests.</summary>
internal static class OptimizerTestUtil
{
    /// <summary>Crosses the 1024-coordinate block boundary twice and leaves a non-SIMD tail.</summary>
    public const int P = 2 * 1024 + 451;

    public static float[] Gaussian(int seed, int n, double scale = 1.0)
    {
        var r = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - r.NextDouble(), u2 = r.NextDouble();
            x[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return x;
    }

    /// <summary>Runs <paramref name="steps"/> updates with fresh gradients; returns every step's Δθ.</summary>
    public static float[][] Run(IOptimizer opt, OptimizerState state, int steps, int seed)
    {
        var all = new float[steps][];
        for (int k = 0; k < steps; k++)
        {
            var g = Gaussian(seed + k, state.ParamCount);
            all[k] = new float[state.ParamCount];
            opt.Update(g, state, all[k]);
        }
        return all;
    }

    public static void Close(double expected, float actual, double rel, double abs, string what)
    {
        double err = Math.Abs(actual - expected);
        Assert.True(err <= rel * Math.Abs(expected) + abs, $"{what}: expected {expected:R}, got {actual:R} (error {err:E3}).");
    }

    public static void BitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"Index {i}: expected {expected[i]:R}, got {actual[i]:R}.");
        }
    }
}
