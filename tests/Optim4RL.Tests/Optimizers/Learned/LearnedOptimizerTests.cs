using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;
using static Optim4RL.Tests.Optimizers.Learned.LearnedTestData;

namespace Optim4RL.Tests.Optimizers.Learned;

public class LearnedOptimizerTests
{
    [Fact]
    public void Init_creates_zero_state_and_clip_buffer()
    {
        var kernel = new Optim4RLOptimizer();
        var opt = new LearnedOptimizer(kernel, RandomPhi(kernel, 1), 0.01f, 1f);
        var st = opt.Init(37);
        Assert.Equal(37, st.ParamCount);
        Assert.Equal(["state", "clipped_grad"], st.Names);
        Assert.Equal(16 * 37, st.Buffers[0].Length);
        Assert.Equal(37, st.Buffers[1].Length);
        Assert.All(st.Buffers[0], v => Assert.Equal(0f, v));
        Assert.Equal("Optim4RL", opt.Name);
        Assert.Equal(0.01f, opt.LearningRate);
        Assert.Equal(1f, opt.GradClip);
    }

    [Fact]
    public void Update_clips_then_steps_the_kernel()
    {
        var kernel = new Optim4RLOptimizer();
        var phi = RandomPhi(kernel, 2);
        const int p = 50;
        const float clip = 0.5f, alpha = 0.003f;
        var opt = new LearnedOptimizer(kernel, phi, alpha, clip);
        var st = opt.Init(p);
        var refState = new float[16 * p];
        var upd = new float[p];
        var refUpd = new float[p];
        for (int s = 0; s < 4; s++)
        {
            var g = RandomGrads(p, 10 + (ulong)s);
            opt.Update(g, st, upd);
            var clipped = g.Select(x => Math.Clamp(x, -clip, clip)).ToArray();
            Assert.Equal(clipped, st.Buffers[1]);
            kernel.Step(phi, refState, clipped, refUpd, alpha);
            Assert.Equal(refUpd, upd);
            Assert.Equal(refState, st.Buffers[0]);
        }
        Assert.Equal(4, st.Count);

        // Gradients beyond the clip give exactly the update of ±clip.
        var st1 = opt.Init(2);
        var st2 = opt.Init(2);
        var u1 = new float[2];
        var u2 = new float[2];
        opt.Update([1000f, -7f], st1, u1);
        opt.Update([clip, -clip], st2, u2);
        Assert.Equal(u2, u1);
    }

    [Fact]
    public void No_clipping_when_clip_is_not_positive_and_updates_may_alias_grads()
    {
        var kernel = new Optim4RLOptimizer();
        var phi = RandomPhi(kernel, 3);
        const int p = 33;
        var g = RandomGrads(p, 4);
        foreach (float clip in new[] { 0f, -1f })
        {
            var opt = new LearnedOptimizer(kernel, phi, 0.01f, clip);
            var st = opt.Init(p);
            var upd = new float[p];
            opt.Update(g, st, upd);
            var refState = new float[16 * p];
            var refUpd = new float[p];
            kernel.Step(phi, refState, g, refUpd, 0.01f);
            Assert.Equal(refUpd, upd);
            Assert.All(st.Buffers[1], v => Assert.Equal(0f, v)); // untouched when not clipping

            var st2 = opt.Init(p);
            var buf = (float[])g.Clone();
            opt.Update(buf, st2, buf); // aliasing
            Assert.Equal(refUpd, buf);
        }
    }

    [Fact]
    public void Meta_parameters_are_copied_and_validated()
    {
        var kernel = new Optim4RLOptimizer();
        var phi = RandomPhi(kernel, 5);
        var opt = new LearnedOptimizer(kernel, phi, 0.01f);
        float before = opt.MetaParams[0];
        phi[0] += 1;
        Assert.Equal(before, opt.MetaParams[0]);
        Assert.Throws<ArgumentException>(() => new LearnedOptimizer(kernel, new float[10], 0.01f));
        Assert.Throws<ArgumentNullException>(() => new LearnedOptimizer(kernel, null!, 0.01f));
        var st = opt.Init(4);
        Assert.Throws<ArgumentException>(() => opt.Update(new float[3], st, new float[4]));
        Assert.Throws<ArgumentException>(() => opt.Update(new float[4], st, new float[5]));
        Assert.Throws<ArgumentException>(() => opt.Update(new float[4], new OptimizerState(4, ["x"], [new float[4]]), new float[4]));
    }

    [Theory]
    [InlineData("Optim4RL")]
    [InlineData("LinearOptim")]
    [InlineData("L2LGD2")]
    [InlineData("STAR")]
    public void Config_factory_chains_the_clip_in_front_with_the_same_numbers_as_the_clip_inside(string name)
    {
        // Optax.FromConfig puts the one clipping transform before a learned optimizer as before a hand-designed one;
        // clip-then-step through the chain must give the learned optimizer's own clip-then-step bit for bit.
        using var dir = new Optim4RL.Tests.Analysis.TempDir("o4rl-factory-");
        var kernel = LearnedOptimizers.Create(name);
        var phi = RandomPhi(kernel, 6);
        string path = dir["param.json"];
        MetaParamsFile.Save(path, kernel.Name, kernel.HiddenSize, kernel.Layout, phi);
        const int p = 300;
        const double clip = 0.05, alpha = 3e-3;
        var chained = Assert.IsType<Chain>(Optax.FromConfig(name.ToLowerInvariant(), alpha, gradClip: clip, paramLoadPath: path, threads: 1));
        Assert.Equal($"chain(clip(0.05), {kernel.Name})", chained.Name);
        var inside = new LearnedOptimizer(LearnedOptimizers.Create(name), phi, (float)alpha, (float)clip);
        var cs = chained.Init(p);
        var ins = inside.Init(p);
        for (int s = 0; s < 5; s++)
        {
            var g = RandomGrads(p, 40 + (ulong)s);
            var u1 = new float[p];
            var u2 = new float[p];
            chained.Update(g, cs, u1);
            inside.Update(g, ins, u2);
            Assert.Equal(u2.Select(BitConverter.SingleToInt32Bits), u1.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Equal(ins.Buffers[0].Select(BitConverter.SingleToInt32Bits), cs.Children[1].Buffers[0].Select(BitConverter.SingleToInt32Bits));
        Assert.IsType<LearnedOptimizer>(Optax.FromConfig(name, alpha, paramLoadPath: path));
        Assert.Throws<ArgumentException>(() => Optax.FromConfig(name, alpha));
    }

    [Fact]
    public void Factory_creates_by_name_case_insensitively()
    {
        Assert.IsType<Optim4RLOptimizer>(LearnedOptimizers.Create("Optim4RL"));
        Assert.IsType<Optim4RLOptimizer>(LearnedOptimizers.Create("optim4rl"));
        Assert.Contains("Optim4RL", LearnedOptimizers.Names);
        var ex = Assert.Throws<ArgumentException>(() => LearnedOptimizers.Create("VeLO"));
        Assert.Contains("Optim4RL", ex.Message);
        Assert.Contains("VeLO", ex.Message);
    }
}
