using Optim4RL.Optimizers;
using static Optim4RL.Tests.Optimizers.OptimizerTestUtil;
using Opt = Optim4RL.Optimizers.Optax;

namespace Optim4RL.Tests.Optimizers;

/// <summary>optax <c>chain</c> and the reference's <c>set_optim</c> (<see cref="Opt.FromConfig"/>).</summary>
public class ChainAndFactoryTests
{
    [Fact]
    public void Chain_applies_transforms_in_order()
    {
        float[] g = [3f, -0.2f];
        var clipThenScale = new Chain(new ClipElementwise(1.0), new Scale(2.0));
        var scaleThenClip = new Chain(new Scale(2.0), new ClipElementwise(1.0));
        var u1 = new float[2];
        var u2 = new float[2];
        clipThenScale.Update(g, clipThenScale.Init(2), u1);
        scaleThenClip.Update(g, scaleThenClip.Init(2), u2);
        Assert.Equal([2f, -0.4f], u1);
        Assert.Equal([1f, -0.4f], u2);
        Assert.Equal("chain(clip(1), scale(2))", clipThenScale.Name);
    }

    [Fact]
    public void Chain_equals_running_its_transforms_by_hand()
    {
        var clip = new ClipElementwise(0.3);
        var adam = new Adam(1e-3);
        var chain = new Chain(clip, adam);
        var cs = chain.Init(P);
        Assert.Equal(2, cs.Children.Length);
        Assert.Empty(cs.Buffers);
        var clipState = clip.Init(P);
        var adamState = adam.Init(P);
        for (int k = 0; k < 5; k++)
        {
            var g = Gaussian(20 + k, P);
            var u = new float[P];
            chain.Update(g, cs, u);
            var manual = new float[P];
            clip.Update(g, clipState, manual);
            adam.Update(manual, adamState, manual);
            BitwiseEqual(manual, u);
        }
        BitwiseEqual(adamState.Buffers[0], cs.Children[1].Buffers[0]);
        Assert.Equal(5, cs.Children[1].Count);
        Assert.Equal(5, cs.Count);
    }

    [Fact]
    public void Chain_requires_transforms()
    {
        Assert.Throws<ArgumentException>(() => new Chain());
        Assert.Throws<ArgumentException>(() => new Chain(new Sgd(1), null!));
    }

    [Theory]
    [InlineData("SGD", typeof(Sgd))]
    [InlineData("sgd", typeof(Sgd))]
    [InlineData("Adam", typeof(Adam))]
    [InlineData("ADAM", typeof(Adam))]
    [InlineData("RMSProp", typeof(RmsProp))]
    [InlineData("rmsprop", typeof(RmsProp))]
    [InlineData("Lion", typeof(Lion))]
    public void FromConfig_without_clipping_builds_the_bare_optimizer(string name, Type type)
    {
        var opt = Opt.FromConfig(name, 1e-3);
        Assert.IsType(type, opt);
    }

    [Fact]
    public void FromConfig_with_grad_clip_builds_clip_then_optimizer()
    {
        var opt = Assert.IsType<Chain>(Opt.FromConfig("RMSProp", 3e-4, gradClip: 1));
        Assert.Equal(2, opt.Transforms.Count);
        Assert.Equal(1.0, Assert.IsType<ClipElementwise>(opt.Transforms[0]).MaxDelta);
        var rms = Assert.IsType<RmsProp>(opt.Transforms[1]);
        Assert.Equal(3e-4, rms.LearningRate);
        Assert.Equal(0.9, rms.Decay);
        Assert.Equal(1e-8, rms.Eps);
        Assert.Equal("chain(clip(1), rmsprop(lr=0.0003))", opt.Name);
    }

    [Fact]
    public void FromConfig_with_grad_norm_builds_global_norm_clip_then_optimizer()
    {
        var opt = Assert.IsType<Chain>(Opt.FromConfig("adam", 1e-3, gradNorm: 0.5));
        Assert.Equal(0.5, Assert.IsType<ClipByGlobalNorm>(opt.Transforms[0]).MaxNorm);
        var adam = Assert.IsType<Adam>(opt.Transforms[1]);
        Assert.Equal((1e-3, 0.9, 0.999, 1e-8), (adam.LearningRate, adam.B1, adam.B2, adam.Eps));
    }

    [Fact]
    public void FromConfig_treats_nonpositive_bounds_as_none()
    {
        Assert.IsType<Sgd>(Opt.FromConfig("SGD", 0.1, gradClip: -1, gradNorm: 0));
    }

    [Fact]
    public void FromConfig_rejects_both_clips()
    {
        var ex = Assert.Throws<ArgumentException>(() => Opt.FromConfig("Adam", 1e-3, gradClip: 1, gradNorm: 1));
        Assert.Contains("grad_clip", ex.Message);
        Assert.Contains("grad_norm", ex.Message);
    }

    [Fact]
    public void FromConfig_unknown_name_lists_valid_names()
    {
        var ex = Assert.Throws<ArgumentException>(() => Opt.FromConfig("AdamW", 1e-3));
        Assert.StartsWith("Unknown optimizer 'AdamW'. Valid: SGD, Adam, RMSProp, Lion", ex.Message);
    }

    [Fact]
    public void Aliases_use_optax_defaults()
    {
        Assert.Equal((0.9, 0.999, 1e-8), (Opt.Adam(1e-3).B1, Opt.Adam(1e-3).B2, Opt.Adam(1e-3).Eps));
        Assert.Equal((0.9, 1e-8, false), (Opt.RmsProp(1e-3).Decay, Opt.RmsProp(1e-3).Eps, Opt.RmsProp(1e-3).EpsInSqrt));
        Assert.Equal((0.9, 0.99), (Opt.Lion(1e-4).B1, Opt.Lion(1e-4).B2));
        Assert.Equal(0.1, Opt.Sgd(0.1).LearningRate);
        Assert.Equal(2, Opt.Chain(Opt.Clip(1), Opt.ClipByGlobalNorm(1)).Transforms.Count);
    }
}
