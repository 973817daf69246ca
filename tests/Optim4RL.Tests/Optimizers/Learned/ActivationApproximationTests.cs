using System.Runtime.Intrinsics;
using Optim4RL.Optimizers.Learned;
using Xunit.Abstractions;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>The kernel's activation approximations against double precision.</summary>
public unsafe class ActivationApproximationTests(ITestOutputHelper output)
{
    private static IEnumerable<float> Grid()
    {
        for (int i = 0; i <= 2_000_000; i++) yield return (float)(-20 + 40.0 * i / 2_000_000);
        for (int e = -45; e <= 1; e++)
            foreach (float m in new[] { 1f, 1.37f, 2.9f, 7.3f })
            {
                float x = m * MathF.Pow(10, e);
                yield return x;
                yield return -x;
            }
        yield return 0f;
        yield return 9f;
        yield return -9f;
        yield return 1e30f;
        yield return -1e30f;
    }

    [Fact]
    public void Rational_tanh_is_within_4e_7_absolute_and_relative()
    {
        double maxAbs = 0, maxRel = 0, maxDerivErr = 0;
        foreach (float x in Grid())
        {
            float t = LearnedSimd.TanhScalar(x);
            double exact = Math.Tanh(x);
            double abs = Math.Abs(t - exact);
            maxAbs = Math.Max(maxAbs, abs);
            if (exact != 0) maxRel = Math.Max(maxRel, abs / Math.Abs(exact));
            else Assert.Equal(0f, t);
            // The backward pass uses 1 − t² of the computed t.
            double deriv = 1 - (double)t * t, exactDeriv = 1 - exact * exact;
            maxDerivErr = Math.Max(maxDerivErr, Math.Abs(deriv - exactDeriv));
            Assert.True(Math.Abs(t) <= 1.000001f);
        }
        output.WriteLine($"tanh: max abs error {maxAbs:E3}, max relative error {maxRel:E3}, max |(1 − t²) − tanh'| {maxDerivErr:E3}");
        Assert.True(maxAbs <= 4e-7, $"max abs {maxAbs}");
        Assert.True(maxRel <= 4e-7, $"max rel {maxRel}");
        Assert.True(maxDerivErr <= 1e-6, $"max derivative error {maxDerivErr}");
    }

    [Fact]
    public void Sigmoid_via_tanh_is_within_3e_7_absolute()
    {
        double maxAbs = 0;
        foreach (float x in Grid())
        {
            double exact = 1 / (1 + Math.Exp(-(double)x));
            maxAbs = Math.Max(maxAbs, Math.Abs(LearnedSimd.SigmoidScalar(x) - exact));
        }
        output.WriteLine($"sigmoid: max abs error {maxAbs:E3}");
        Assert.True(maxAbs <= 3e-7, $"max abs {maxAbs}");
    }

    [Fact]
    public void Vector_activations_equal_the_scalar_ones_bit_for_bit_at_every_width()
    {
        float[] xs = Grid().Where((_, i) => i % 97 == 0).ToArray();
        int n = xs.Length / 16 * 16;
        var t16 = new float[n]; var t8 = new float[n]; var t4 = new float[n];
        var s16 = new float[n]; var s8 = new float[n]; var s4 = new float[n];
        fixed (float* px = xs, pt16 = t16, pt8 = t8, pt4 = t4, ps16 = s16, ps8 = s8, ps4 = s4)
        {
            for (int i = 0; i < n; i += 16)
            {
                LearnedSimd.Store(pt16 + i, LearnedSimd.Tanh(Vector512.Load(px + i)));
                LearnedSimd.Store(ps16 + i, LearnedSimd.Sigmoid(Vector512.Load(px + i)));
            }
            for (int i = 0; i < n; i += 8)
            {
                LearnedSimd.Store(pt8 + i, LearnedSimd.Tanh(Vector256.Load(px + i)));
                LearnedSimd.Store(ps8 + i, LearnedSimd.Sigmoid(Vector256.Load(px + i)));
            }
            for (int i = 0; i < n; i += 4)
            {
                LearnedSimd.Store(pt4 + i, LearnedSimd.Tanh(Vector128.Load(px + i)));
                LearnedSimd.Store(ps4 + i, LearnedSimd.Sigmoid(Vector128.Load(px + i)));
            }
        }
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(LearnedSimd.TanhScalar(xs[i]), t16[i]);
            Assert.Equal(t16[i], t8[i]);
            Assert.Equal(t16[i], t4[i]);
            Assert.Equal(LearnedSimd.SigmoidScalar(xs[i]), s16[i]);
            Assert.Equal(s16[i], s8[i]);
            Assert.Equal(s16[i], s4[i]);
        }
    }

    [Fact]
    public void Vector_exp_is_within_1e_6_relative()
    {
        double maxRel = 0;
        var buf = new float[16];
        for (int i = 0; i <= 200_000; i++)
        {
            float x = (float)(-80 + 160.0 * i / 200_000);
            float e;
            fixed (float* p = buf)
            {
                LearnedSimd.Store(p, LearnedSimd.Exp(Vector512.Create(x)));
                e = p[0];
            }
            double exact = Math.Exp(x);
            maxRel = Math.Max(maxRel, Math.Abs(e - exact) / exact);
        }
        output.WriteLine($"exp: max relative error {maxRel:E3}");
        Assert.True(maxRel <= 1e-6, $"max rel {maxRel}");
    }
}
