using Optim4RL.Agents;
using Optim4RL.Meta;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Meta;

public class MetaA2CTests
{
    private static MetaA2C Make(bool pipeline = true, int? threads = null, ulong seed = 5, string env = "small_sparse_short",
        StateDtype dtype = StateDtype.Float32, double gradClip = 1.0, string lopt = "Optim4RL", int envsPerAgent = 1) =>
        new(new MetaA2CConfig([new MetaTaskConfig(env, 4, 3e-3f, 1f, 3, envsPerAgent)], 4 * 20 * 5 * 100, 4, pipeline, gradClip, -1, new A2CConfig(), seed,
                StateDtype: dtype),
            LearnedOptimizers.Create(lopt), Optax.FromConfig("Adam", 1e-3, gradClip: 1.0))
        { MaxDegreeOfParallelism = threads };

    [Theory]
    [InlineData("Optim4RL", StateDtype.Float32, 1.0)]
    [InlineData("Optim4RL", StateDtype.Float32, -1.0)]
    [InlineData("Optim4RL", StateDtype.BFloat16, 1.0)]
    [InlineData("LinearOptim", StateDtype.BFloat16, 1.0)]
    [InlineData("STAR", StateDtype.Float32, 1.0)]
    public void Double_buffer_and_fused_updates_give_the_phi_of_the_snapshot_copy_path(string lopt, StateDtype dtype, double clip)
    {
        // The reference runs meta-training as it was done before: copy h_0, then per inner update clip,
        // step in place and θ += Δ through the public kernel calls. Resets (R = 3) happen on the way.
        var reference = Make(dtype: dtype, gradClip: clip, lopt: lopt);
        reference.UpdateMode = InnerUpdateMode.SnapshotCopy;
        var buffered = Make(dtype: dtype, gradClip: clip, lopt: lopt);
        buffered.UpdateMode = InnerUpdateMode.DoubleBuffer;
        var fused = Make(dtype: dtype, gradClip: clip, lopt: lopt);
        Assert.Equal(InnerUpdateMode.Fused, fused.UpdateMode); // the default
        for (int i = 0; i < 5; i++)
        {
            var l = reference.Step();
            Assert.Equal(l, buffered.Step());
            Assert.Equal(l, fused.Step());
        }
        Assert.Equal(reference.Phi, buffered.Phi);
        Assert.Equal(reference.Phi, fused.Phi);
        Assert.Equal(reference.Tasks[0].Theta, fused.Tasks[0].Theta);
        Assert.Equal(reference.Tasks[0].State.Span.ToFloat32(), fused.Tasks[0].State.Span.ToFloat32());
    }

    [Theory]
    [InlineData("small_sparse_short", 1)]
    [InlineData("small_sparse_short", 2)]
    [InlineData("catch", 2)]
    public void Graphs_pooled_per_thread_give_the_bits_of_one_graph_per_agent(string env, int threads)
    {
        // The reference builds one A2C loss per agent at its own offset, as before the pool (at one thread);
        // the pool moves each worker's loss from agent to agent. Resets (R = 3) happen on the way.
        var reference = Make(threads: 1, env: env);
        reference.LossPerAgent = true;
        var pooled = Make(threads: threads, env: env);
        Assert.False(pooled.LossPerAgent); // the default
        for (int i = 0; i < 5; i++) Assert.Equal(reference.Step(), pooled.Step());
        Assert.Equal(reference.Phi, pooled.Phi);
        var (r, q) = (reference.Tasks[0], pooled.Tasks[0]);
        Assert.Equal(r.Theta, q.Theta);
        Assert.Equal(r.Grad, q.Grad);
        Assert.Equal(r.Grads, q.Grads);
        Assert.Equal(r.State.Span.ToFloat32(), q.State.Span.ToFloat32());
        Assert.Equal(0, r.PooledLosses);
        // Fewer graphs than the 4 agents: one per worker that ran at once (a single one at one thread).
        Assert.InRange(q.PooledLosses, 1, threads);
    }

    [Fact]
    public void Bfloat16_state_runs_are_thread_independent_resumable_and_checkpoint_two_bytes_per_value()
    {
        var a = Make(threads: 1, dtype: StateDtype.BFloat16);
        var b = Make(threads: 2, dtype: StateDtype.BFloat16);
        for (int i = 0; i < 3; i++) Assert.Equal(a.Step(), b.Step());
        Assert.Equal(a.Phi, b.Phi);
        Assert.Equal(StateDtype.BFloat16, a.Tasks[0].State.Dtype);
        var f32 = Make();
        for (int i = 0; i < 3; i++) f32.Step();
        Assert.NotEqual(a.Phi, f32.Phi); // the rounding changes the run

        using var ms16 = new MemoryStream();
        a.SaveCheckpoint(ms16);
        using var ms32 = new MemoryStream();
        f32.SaveCheckpoint(ms32);
        var task = a.Tasks[0];
        Assert.Equal((long)task.StateSize * task.N * 2, ms32.Length - ms16.Length);

        ms16.Position = 0;
        var resumed = Make(dtype: StateDtype.BFloat16);
        resumed.LoadCheckpoint(ms16);
        for (int i = 0; i < 2; i++) Assert.Equal(a.Step(), resumed.Step());
        Assert.Equal(a.Phi, resumed.Phi);

        // A checkpoint of the other storage type is refused, naming the key.
        ms32.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => Make(dtype: StateDtype.BFloat16).LoadCheckpoint(ms32));
        Assert.Contains("state_dtype", e.Message);
    }

    [Fact]
    public void A_learned_optimizer_without_bfloat16_state_is_refused()
    {
        var e = Assert.Throws<NotSupportedException>(() => Make(dtype: StateDtype.BFloat16, lopt: "STAR"));
        Assert.Contains("state_dtype", e.Message);
    }

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
    public void Agents_with_several_environments_step_them_all_and_stay_thread_independent_and_resumable()
    {
        // 4 agents × 3 catch environments: every inner update and meta-loss rollout steps all 12.
        var a = Make(env: "catch", envsPerAgent: 3, threads: 1);
        var task = a.Tasks[0];
        Assert.All(task.Envs, e => Assert.Equal(3, e.NumEnvs));
        Assert.Equal(4 * 3 * 20 * 5, task.StepsPerIteration);
        int finished = 0;
        for (int i = 0; i < 4; i++)
        {
            var log = a.Step();
            Assert.Equal(1200, log.EnvSteps);
            finished += log.Episodes;
        }
        // Catch episodes last 9 steps, so 4 iterations × 100 steps finish 44 episodes per environment, 12 environments in all:
        // far more than one environment per agent could (4 × 44).
        Assert.Equal(12 * 44, finished);

        var b = Make(env: "catch", envsPerAgent: 3, threads: 2);
        for (int i = 0; i < 4; i++) b.Step();
        Assert.Equal(a.Phi, b.Phi);

        var first = Make(env: "catch", envsPerAgent: 3);
        for (int i = 0; i < 2; i++) first.Step();
        using var ms = new MemoryStream();
        first.SaveCheckpoint(ms);
        ms.Position = 0;
        var resumed = Make(env: "catch", envsPerAgent: 3);
        resumed.LoadCheckpoint(ms);
        for (int i = 0; i < 2; i++) resumed.Step();
        Assert.Equal(a.Phi, resumed.Phi);

        var one = Make(env: "catch");
        for (int i = 0; i < 4; i++) one.Step();
        Assert.NotEqual(a.Phi, one.Phi);
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
