using Optim4RL.Agents;
using Optim4RL.Meta;
using Optim4RL.Optimizers;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Ppo;

public class MetaPpoTests
{
    internal static readonly PpoConfig Agent = new()
    {
        UnrollLength = 5,
        BatchSize = 8, // global: 4 segments per agent
        NumMinibatches = 2,
        UpdateEpochs = 2,
        RewardScaling = 1,
        Discount = 0.95,
        PolicyHiddenSizes = [16, 16],
        ValueHiddenSizes = [16, 16],
    };

    private static MetaPpo Make(bool pipeline = true, int? threads = null, ulong seed = 5, int agents = 2) =>
        new(new MetaPpoConfig(PointMass.TaskName, 8, agents, 10_000, 2, pipeline, 2, 3e-3f, 1.0, -1, Agent, seed),
            "Optim4RL", Optax.FromConfig("Adam", 1e-3, gradClip: 1.0), (n, r) => new PointMass(n, r))
        { MaxDegreeOfParallelism = threads };

    [Fact]
    public void Steps_and_iterations_follow_the_reference_accounting()
    {
        var m = Make();
        // batch_size × rollout × num_minibatches × inner_updates = 8 × 5 × 2 × 2.
        Assert.Equal(160, m.Config.StepsPerIteration);
        Assert.Equal(62, m.Iterations);
        Assert.Equal(2 * 2 * 2, m.Config.StepsPerMetaIteration);
        Assert.Equal(4, m.Config.AgentConfig.BatchSize);
        Assert.Equal(4, m.Config.EnvsPerAgent);
    }

    [Fact]
    public void Same_seed_gives_the_same_phi_for_any_thread_count()
    {
        var a = Make(threads: 1);
        var b = Make(threads: 2);
        for (int i = 0; i < 3; i++)
        {
            var la = a.Step();
            var lb = b.Step();
            Assert.Equal(la.MetaLoss, lb.MetaLoss);
            Assert.Equal(la.MetaGradNorm, lb.MetaGradNorm);
            Assert.True(double.IsFinite(la.MetaLoss));
            Assert.True(la.MetaGradNorm > 0);
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
        for (int i = 0; i < 4; i++) full.Step();

        var first = Make();
        for (int i = 0; i < 2; i++) first.Step();
        using var ms = new MemoryStream();
        first.SaveCheckpoint(ms);
        ms.Position = 0;
        var resumed = Make();
        resumed.LoadCheckpoint(ms);
        Assert.Equal(2, resumed.Iteration);
        for (int i = 0; i < 2; i++) resumed.Step();
        Assert.Equal(full.Phi, resumed.Phi);

        var bytes = ms.ToArray();
        Assert.Throws<InvalidDataException>(() => Make().LoadCheckpoint(new MemoryStream(bytes[..(bytes.Length / 2)])));
        Assert.Throws<InvalidDataException>(() => Make(agents: 1).LoadCheckpoint(new MemoryStream(bytes)));
    }

    [Fact]
    public void Pipeline_resets_agents_and_the_ablation_does_not()
    {
        var pipe = Make(pipeline: true);
        var nop = Make(pipeline: false);
        Assert.Equal([0, 1], pipe.Schedule.ResetIndex);
        var phi0 = (float[])pipe.Phi.Clone();
        pipe.Step();
        nop.Step();
        // Iteration 2: agent 1 (reset index 1) starts over in the pipeline run only.
        var before = pipe.Agents[1].Theta.ToArray();
        pipe.Step();
        nop.Step();
        Assert.Equal(2, pipe.Agents[1].Iteration); // inner_updates training steps since its reset
        Assert.Equal(2 * 2, nop.Agents[1].Iteration);
        Assert.NotEqual(before, pipe.Agents[1].Theta);
        Assert.NotEqual(phi0, pipe.Phi);
        Assert.NotEqual(pipe.Phi, nop.Phi);
    }
}
