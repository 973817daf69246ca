using Optim4RL.Optimizers;
using static Optim4RL.Tests.Optimizers.OptimizerTestUtil;

namespace Optim4RL.Tests.Optimizers;

/// <summary>optax <c>clip</c> and <c>clip_by_global_norm</c> (the configs' grad_clip and grad_norm).</summary>
public class ClippingTests
{
    [Fact]
    public void Clip_bounds_every_coordinate_and_keeps_the_rest()
    {
        var opt = new ClipElementwise(0.5);
        var g = Gaussian(10, P);
        g[0] = float.NaN;
        g[1] = float.PositiveInfinity;
        g[2] = float.NegativeInfinity;
        g[3] = 0.5f;
        var u = new float[P];
        opt.Update(g, opt.Init(P), u);
        Assert.True(float.IsNaN(u[0]));
        Assert.Equal(0.5f, u[1]);
        Assert.Equal(-0.5f, u[2]);
        Assert.Equal(0.5f, u[3]);
        for (int i = 4; i < P; i++) Assert.Equal(Math.Clamp(g[i], -0.5f, 0.5f), u[i]);
    }

    [Fact]
    public void Global_norm_clip_rescales_when_norm_exceeds_bound()
    {
        const double c = 2.0;
        var opt = new ClipByGlobalNorm(c);
        var g = Gaussian(11, P);   // norm ≈ √P ≈ 50
        double norm = Math.Sqrt(g.Sum(x => (double)x * x));
        Assert.True(norm > c);
        var u = new float[P];
        opt.Update(g, opt.Init(P), u);
        for (int i = 0; i < P; i++) Close(g[i] * c / norm, u[i], 1e-5, 1e-9, "clipped coordinate");
        Close(c, (float)Math.Sqrt(u.Sum(x => (double)x * x)), 1e-5, 0, "norm after clipping");
    }

    [Fact]
    public void Global_norm_clip_keeps_gradient_when_norm_is_below_bound()
    {
        var opt = new ClipByGlobalNorm(1000.0);
        var g = Gaussian(12, P);
        var u = new float[P];
        opt.Update(g, opt.Init(P), u);
        BitwiseEqual(g, u);
    }

    [Fact]
    public void Global_norm_clip_at_exactly_the_bound_is_a_no_op_up_to_rounding()
    {
        // optax keeps g only when norm < c; at norm == c it computes (g / norm)·c = g.
        float[] g = [3f, 4f];
        var opt = new ClipByGlobalNorm(5.0);
        var u = new float[2];
        opt.Update(g, opt.Init(2), u);
        Assert.Equal(3f, u[0], 6);
        Assert.Equal(4f, u[1], 6);
    }

    [Fact]
    public void Global_norm_clip_of_nonfinite_gradient_is_nan()
    {
        float[] g = [1f, float.PositiveInfinity, 2f];
        var opt = new ClipByGlobalNorm(1.0);
        var u = new float[3];
        opt.Update(g, opt.Init(3), u);
        Assert.True(float.IsNaN(u[1]));
    }
}
