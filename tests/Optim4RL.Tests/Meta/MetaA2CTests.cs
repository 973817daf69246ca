using Optim4RL.Agents;
using Optim4RL.Meta;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Meta;

public class MetaA2CTests
{
    private static MetaA2C Make(bool pipeline = true, int? threads = null, ulong seed = 5, string env = "small_sparse_short") =>
        new(new MetaA2CConfig([new MetaTaskConfig(env, 4, 3e-3f, 1f, 3)], 4 * 20 * 5 * 100, 4, pipeline, 1.0, -1, new A2CConfig(), seed),
            LearnedOptimizers.Create("Optim4RL"), Optax.FromConfig("Adam", 1e-3, gradClip: 1.0))
        { MaxDegreeOfParallelism = threads };

    [Fact]
    public void Same_seed_gives_same_phi_for_any_thread_count()
    {
        var a = Make(threads: 1);
        var b = Make(threads: 2);
        for (int i = 0; i < 3; i++)
        {
            var la = a.Step();
            var lb = b.Step();
            Assert.Equal(la.MetaLoss, lb.MetaLoss);
        }
        Assert.Equal(a.Phi, b.Phi);
        var c = Make(seed: 6);
        for (int i = 0; i < 3; i++) c.Step();
        Assert.NotEqual(a.Phi, c.Phi);
    }

    [Fact]
    public void Resumed_run_equals_uninterrupted_run()
    {
        var full = Make();
        for (int i = 0; i < 5; i++) full.Step();

        var first = Make();
        for (int i = 0; i < 2; i++) first.Step();
        using var ms = new MemoryStream();
        first.SaveCheckpoint(ms);
        ms.Position = 0;
        var resumed = Make();
        resumed.LoadCheckpoint(ms);
        Assert.Equal(2, resumed.Iteration);
        for (int i = 0; i < 3; i++) resumed.Step();
        Assert.Equal(full.Phi, resumed.Phi);
    }

    [Fact]
    public void Corrupt_or_mismatched_checkpoints_are_rejected()
    {
        var a = Make();
        a.Step();
        using var ms = new MemoryStream();
        a.SaveCheckpoint(ms);
        var bytes = ms.ToArray();
        var truncated = new MemoryStream(bytes[..(bytes.Length / 2)]);
        var e1 = Assert.Throws<InvalidDataException>(() => Make().LoadCheckpoint(truncated));
        Assert.Contains("truncated", e1.Message);
        var other = Make(env: "small_dense_short");
        var e2 = Assert.Throws<InvalidDataException>(() => other.LoadCheckpoint(new MemoryStream(bytes)));
        Assert.Contains("small_sparse_short", e2.Message);
        Assert.Throws<InvalidDataException>(() => Make().LoadCheckpoint(new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8])));
    }

    [Fact]
    public void Meta_gradient_moves_phi_and_ablation_differs_from_pipeline()
    {
        var pipe = Make(pipeline: true);
        var nop = Make(pipeline: false);
        var phi0 = (float[])pipe.Phi.Clone();
        // Pipeline resets agents at R = 3 staggered iterations; the ablation never does, so after R iterations they diverge.
        for (int i = 0; i < 5; i++)
        {
            var l = pipe.Step();
            Assert.True(double.IsFinite(l.MetaLoss));
            Assert.True(l.MetaGradNorm > 0);
            nop.Step();
        }
        Assert.NotEqual(phi0, pipe.Phi);
        Assert.NotEqual(pipe.Phi, nop.Phi);
    }
}
