using Optim4RL.Optimizers;
using static Optim4RL.Tests.Optimizers.OptimizerTestUtil;

namespace Optim4RL.Tests.Optimizers;

/// <summary>Each optimizer against its closed-form rule re-implemented in double (docs/algorithms.md, optax).</summary>
public class HandDesignedOptimizerTests
{
    [Fact]
    public void Sgd_is_minus_learning_rate_times_gradient()
    {
        const double lr = 0.03;
        var opt = new Sgd(lr);
        var state = opt.Init(P);
        var g = Gaussian(1, P);
        var u = new float[P];
        opt.Update(g, state, u);
        for (int i = 0; i < P; i++)
        {
            Assert.Equal((float)-lr * g[i], u[i]);
            Close(-lr * g[i], u[i], 1e-6, 0, "sgd");
        }
        Assert.Equal(1, state.Count);
        Assert.Empty(state.Buffers);
    }

    [Fact]
    public void Adam_matches_closed_form_first_step()
    {
        // Step 1: μ̂ = g, ν̂ = g², so Δθ = −α·g/(|g| + ε) ≈ −α·sign(g).
        const double lr = 1e-3;
        var opt = new Adam(lr);
        var state = opt.Init(P);
        var g = Gaussian(2, P);
        g[0] = 0f;
        g[1] = 1e-9f;   // |g| ~ ε: visibly less than a full step
        var u = new float[P];
        opt.Update(g, state, u);
        for (int i = 0; i < P; i++)
        {
            double expected = -lr * g[i] / (Math.Abs((double)g[i]) + 1e-8);
            Close(expected, u[i], 1e-5, 1e-12, $"adam step 1, coordinate {i}");
        }
        Assert.Equal(0f, u[0]);
        Close(-lr * 1e-9 / 1.1e-8, u[1], 1e-5, 0, "adam tiny gradient");
        Assert.True(Math.Abs(u[5]) > 0.99 * lr && Math.Abs(u[5]) <= lr * (1 + 1e-6), $"|u| = {Math.Abs(u[5]):R}");
    }

    [Fact]
    public void Adam_matches_scalar_double_reimplementation_over_many_steps()
    {
        const double lr = 3e-4, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        const int steps = 25;
        var opt = new Adam(lr);
        var state = opt.Init(P);
        var m = new double[P];
        var v = new double[P];
        var u = new float[P];
        for (int t = 1; t <= steps; t++)
        {
            var g = Gaussian(100 + t, P, scale: t % 3 == 0 ? 10 : 0.1);
            opt.Update(g, state, u);
            for (int i = 0; i < P; i++)
            {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * (double)g[i];
                double mh = m[i] / (1 - Math.Pow(b1, t)), vh = v[i] / (1 - Math.Pow(b2, t));
                // float32 moments lose relative accuracy when μ cancels towards 0, so the absolute
                // tolerance is relative to a full step α.
                Close(-lr * mh / (Math.Sqrt(vh) + eps), u[i], 1e-4, 1e-5 * lr, $"adam step {t}, coordinate {i}");
            }
        }
        Assert.Equal(steps, state.Count);
        Assert.Equal(["mu", "nu"], state.Names);
        for (int i = 0; i < P; i++)
        {
            Close(m[i], state.Buffers[0][i], 1e-4, 1e-5, "mu");
            Close(v[i], state.Buffers[1][i], 1e-4, 1e-7, "nu");
        }
    }

    [Fact]
    public void RmsProp_matches_optax_rule_eps_inside_sqrt()
    {
        const double lr = 1e-3, rho = 0.9, eps = 1e-8;
        const int steps = 12;
        var opt = new RmsProp(lr, epsInSqrt: true);
        Assert.True(opt.EpsInSqrt);
        var state = opt.Init(P);
        var nu = new double[P];
        var u = new float[P];
        for (int t = 1; t <= steps; t++)
        {
            var g = Gaussian(200 + t, P, scale: t % 2 == 0 ? 5 : 0.01);
            opt.Update(g, state, u);
            for (int i = 0; i < P; i++)
            {
                nu[i] = rho * nu[i] + (1 - rho) * g[i] * (double)g[i];
                Close(-lr * g[i] / Math.Sqrt(nu[i] + eps), u[i], 1e-4, 1e-12, $"rmsprop step {t}, coordinate {i}");
            }
        }
        for (int i = 0; i < P; i++) Close(nu[i], state.Buffers[0][i], 1e-4, 1e-12, "nu");
    }

    [Fact]
    public void RmsProp_with_eps_outside_sqrt_matches_spec_formula()
    {
        const double lr = 1e-3, rho = 0.9, eps = 1e-8;
        var opt = new RmsProp(lr);
        Assert.False(opt.EpsInSqrt);
        var state = opt.Init(P);
        var nu = new double[P];
        var u = new float[P];
        for (int t = 1; t <= 8; t++)
        {
            var g = Gaussian(300 + t, P);
            opt.Update(g, state, u);
            for (int i = 0; i < P; i++)
            {
                nu[i] = rho * nu[i] + (1 - rho) * g[i] * (double)g[i];
                Close(-lr * g[i] / (Math.Sqrt(nu[i]) + eps), u[i], 1e-4, 1e-12, $"rmsprop step {t}, coordinate {i}");
            }
        }
    }

    [Fact]
    public void RmsProp_eps_placement_matters_only_for_tiny_gradients()
    {
        // First step, ν = 0.1·g². For g = 1e−5: √(ν+ε) ≈ 1.0005e−4 but √ν + ε ≈ 3.17e−6.
        float[] g = [1e-5f, 1f];
        var inside = new RmsProp(1.0, epsInSqrt: true);
        var outside = new RmsProp(1.0, epsInSqrt: false);
        var ui = new float[2];
        var uo = new float[2];
        inside.Update(g, inside.Init(2), ui);
        outside.Update(g, outside.Init(2), uo);
        Close(-1e-5 / Math.Sqrt(1e-11 + 1e-8), ui[0], 1e-5, 0, "inside");
        Close(-1e-5 / (Math.Sqrt(1e-11) + 1e-8), uo[0], 1e-5, 0, "outside");
        Close(-1 / Math.Sqrt(0.1), ui[1], 1e-5, 0, "inside, large g");
        Close(ui[1], uo[1], 1e-6, 0, "both rules agree for large g");
    }

    [Fact]
    public void Lion_matches_scalar_double_reimplementation()
    {
        const double lr = 1e-4, b1 = 0.9, b2 = 0.99;
        var opt = new Lion(lr);
        var state = opt.Init(P);
        var m = new double[P];
        var u = new float[P];
        for (int t = 1; t <= 10; t++)
        {
            var g = Gaussian(400 + t, P);
            opt.Update(g, state, u);
            for (int i = 0; i < P; i++)
            {
                double c = b1 * m[i] + (1 - b1) * g[i];
                Assert.Equal((float)(-lr * Math.Sign(c)), u[i]);
                m[i] = b2 * m[i] + (1 - b2) * g[i];
            }
        }
        for (int i = 0; i < P; i++) Close(m[i], state.Buffers[0][i], 1e-4, 1e-7, "lion momentum");
    }

    [Fact]
    public void Lion_sign_of_zero_is_zero_and_nan_propagates()
    {
        var opt = new Lion(0.5);
        var state = opt.Init(19);
        var g = new float[19];
        g[3] = float.NaN;
        g[17] = float.NaN;   // in the scalar tail for any SIMD width ≤ 16
        g[4] = -2f;
        g[18] = 2f;
        var u = new float[19];
        opt.Update(g, state, u);
        Assert.Equal(0f, u[0]);
        Assert.True(float.IsNaN(u[3]) && float.IsNaN(u[17]));
        Assert.Equal(0.5f, u[4]);
        Assert.Equal(-0.5f, u[18]);
    }

    [Fact]
    public void Scale_multiplies_by_constant()
    {
        var opt = new Scale(-2.5);
        var g = Gaussian(5, 37);
        var u = new float[37];
        opt.Update(g, opt.Init(37), u);
        for (int i = 0; i < 37; i++) Assert.Equal(-2.5f * g[i], u[i]);
    }

    public static TheoryData<string> AllOptimizers => new() { "sgd", "adam", "rmsprop", "lion", "clip", "global_norm", "scale", "chain" };

    internal static IOptimizer Make(string name) => name switch
    {
        "sgd" => new Sgd(0.1),
        "adam" => new Adam(1e-3),
        "rmsprop" => new RmsProp(1e-3),
        "lion" => new Lion(1e-3),
        "clip" => new ClipElementwise(0.5),
        "global_norm" => new ClipByGlobalNorm(3.0),
        "scale" => new Scale(-0.1),
        "chain" => new Chain(new ClipByGlobalNorm(10.0), new ClipElementwise(1.0), new Adam(1e-3)),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(AllOptimizers))]
    public void Updates_may_alias_gradients(string name)
    {
        var opt = Make(name);
        var s1 = opt.Init(P);
        var s2 = opt.Init(P);
        for (int k = 0; k < 4; k++)
        {
            var g = Gaussian(500 + k, P);
            var u = new float[P];
            opt.Update(g, s1, u);
            var inPlace = (float[])g.Clone();
            opt.Update(inPlace, s2, inPlace);
            BitwiseEqual(u, inPlace);
        }
    }

    [Theory]
    [MemberData(nameof(AllOptimizers))]
    public void Update_allocates_nothing(string name)
    {
        var opt = Make(name);
        var state = opt.Init(P);
        var g = Gaussian(6, P);
        var u = new float[P];
        // Steady state: tiered JIT may allocate while it promotes methods, so warm up past tier-up and
        // allow a few windows; an Update that allocates would allocate in every window.
        long allocated = long.MaxValue;
        for (int window = 0; window < 5 && allocated != 0; window++)
        {
            for (int k = 0; k < 200; k++) opt.Update(g, state, u);
            Thread.Sleep(20);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int k = 0; k < 10; k++) opt.Update(g, state, u);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, allocated);
    }

    [Theory]
    [MemberData(nameof(AllOptimizers))]
    public void Wrong_lengths_are_rejected(string name)
    {
        var opt = Make(name);
        var state = opt.Init(10);
        Assert.Throws<ArgumentException>(() => opt.Update(new float[9], state, new float[10]));
        Assert.Throws<ArgumentException>(() => opt.Update(new float[10], state, new float[11]));
    }

    [Fact]
    public void A_state_from_another_optimizer_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Adam(1e-3).Update(new float[4], new RmsProp(1e-3).Init(4), new float[4]));
        Assert.Contains("Init", ex.Message);
        Assert.Throws<ArgumentException>(() => new Chain(new Sgd(1)).Update(new float[4], new Sgd(1).Init(4), new float[4]));
    }

    [Fact]
    public void Empty_parameter_vector_is_fine()
    {
        foreach (var name in new[] { "sgd", "adam", "rmsprop", "lion", "clip", "global_norm", "chain" })
        {
            var opt = Make(name);
            var s = opt.Init(0);
            opt.Update([], s, []);
            Assert.Equal(1, s.Count);
        }
    }

    [Fact]
    public void Invalid_hyper_parameters_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(1e-3, b1: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(1e-3, eps: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp(1e-3, decay: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Lion(1e-3, b2: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClipElementwise(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClipByGlobalNorm(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(1e-3).Init(-1));
    }
}
