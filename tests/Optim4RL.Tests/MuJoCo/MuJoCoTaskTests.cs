using Optim4RL.Envs;
using Optim4RL.Envs.MuJoCo;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.MuJoCo;

/// <summary>The seven continuous-control tasks (docs/environments.md, "Continuous control") as vector environments.</summary>
public class MuJoCoTaskTests
{
    private sealed class Buffers(MuJoCoVectorEnv env)
    {
        public readonly float[] Actions = new float[env.NumEnvs * env.ActionSize];
        public readonly float[] Rewards = new float[env.NumEnvs];
        public readonly bool[] Terminated = new bool[env.NumEnvs];
        public readonly bool[] Truncated = new bool[env.NumEnvs];
        public readonly float[] Obs = new float[env.NumEnvs * env.ObservationSize];

        public void Step(MuJoCoVectorEnv e)
        {
            e.Step(Actions, Rewards, Terminated, Truncated);
            e.Observe(Obs);
        }

        public void Random(ref Rng rng, float scale)
        {
            for (int k = 0; k < Actions.Length; k++) Actions[k] = scale * (float)(2 * rng.NextDouble() - 1);
        }
    }

    public static TheoryData<string, int, int, int> Sizes => new()
    {
        { "ant", 27, 8, 5 },
        { "halfcheetah", 17, 6, 5 },
        { "hopper", 11, 3, 4 },
        { "walker2d", 17, 6, 4 },
        { "humanoid", 376, 17, 5 },
        { "inverted_pendulum", 4, 1, 2 },
        { "inverted_double_pendulum", 11, 1, 5 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Observation_and_action_sizes_match_Gymnasium_v4(string name, int obs, int act, int frameSkip)
    {
        using var env = MuJoCoTasks.Create(name, 2, new Rng(1));
        Assert.Equal(name, env.Name);
        Assert.Equal(obs, env.ObservationSize);
        Assert.Equal(new[] { obs }, env.ObservationShape);
        Assert.Equal(act, env.ActionSize);
        Assert.Equal(1000, env.MaxEpisodeSteps);
        Assert.Equal(frameSkip, env.Task.FrameSkip);
        Assert.Equal(env.Model.Timestep * frameSkip, env.Dt, 12);
        var b = new Buffers(env);
        b.Step(env);
        Assert.All(b.Obs, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Registry_resolves_names_and_aliases_and_rejects_others()
    {
        Assert.True(EnvRegistry.IsContinuous("Ant"));
        Assert.True(EnvRegistry.IsContinuous("HalfCheetah-v4"));
        Assert.True(EnvRegistry.TryResolveContinuous("half_cheetah", out var hc) && hc == "halfcheetah");
        Assert.True(EnvRegistry.TryResolveContinuous("InvertedDoublePendulum-v4", out var idp) && idp == "inverted_double_pendulum");
        Assert.False(EnvRegistry.IsContinuous("pendulum"));
        Assert.False(EnvRegistry.IsContinuous("catch"));
        Assert.False(EnvRegistry.IsDiscrete("ant"));
        var e = Assert.Throws<ArgumentException>(() => MuJoCoTasks.Create("antt", 1, new Rng(0)));
        Assert.Contains("inverted_double_pendulum", e.Message);
        Assert.Equal(7, EnvRegistry.ContinuousNames.Count);
        Assert.Equal(EnvRegistry.ContinuousNames.Order(), MuJoCoModels.Names);
    }

    [Fact]
    public void Registered_tasks_are_created_by_name_and_alias_through_the_library_registry()
    {
        MuJoCoTasks.Register(); // again: changes nothing
        foreach (string name in EnvRegistry.ContinuousNames) Assert.True(ContinuousEnvRegistry.IsAvailable(name));
        var env = ContinuousEnvRegistry.Create("HalfCheetah-v4", 2, new Rng(1));
        using var owned = Assert.IsType<MuJoCoVectorEnv>(env);
        Assert.Equal("halfcheetah", env.Name);
        Assert.Equal(2, env.NumEnvs);
    }

    [Fact]
    public void Without_registration_the_library_names_the_missing_package_in_one_line()
    {
        string message = ContinuousEnvRegistry.MuJoCoNotRegistered("Ant-v4");
        Assert.DoesNotContain('\n', message);
        Assert.Contains("'Ant-v4' is a MuJoCo task", message, StringComparison.Ordinal);
        Assert.Contains("Optim4RL.MuJoCo package", message, StringComparison.Ordinal);
        Assert.Contains("MuJoCoTasks.Register()", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ant_reward_terms_match_an_independent_computation()
    {
        using var env = MuJoCoTasks.Create("ant", 3, new Rng(11));
        var b = new Buffers(env);
        var rng = new Rng(12);
        int torso = env.Model.RequireId(MjObjectType.Body, "torso");
        int checkedSteps = 0;
        for (int t = 0; t < 30; t++)
        {
            b.Random(ref rng, 1.5f);
            var xBefore = Enumerable.Range(0, 3).Select(i => env.Data(i).Xpos[3 * torso]).ToArray();
            b.Step(env);
            for (int i = 0; i < 3; i++)
            {
                if (b.Terminated[i] || b.Truncated[i]) continue;
                double v = (env.Data(i).Xpos[3 * torso] - xBefore[i]) / 0.05;
                double ctrlCost = 0.5 * b.Actions.AsSpan(8 * i, 8).ToArray().Sum(a => (double)a * a);
                Assert.Equal((float)(v + 1.0 - ctrlCost), b.Rewards[i], 5);
                Assert.Equal(ctrlCost, env.LastRewardTerms(i).ControlCost, 9);
                checkedSteps++;
            }
        }

        Assert.True(checkedSteps > 50);
    }

    [Fact]
    public void Ant_with_contact_forces_observes_and_penalises_clipped_cfrc_ext()
    {
        using var env = new MuJoCoVectorEnv(new AntTask(useContactForces: true), 2, new Rng(3));
        Assert.Equal(111, env.ObservationSize);
        var b = new Buffers(env);
        var rng = new Rng(4);
        bool sawContact = false;
        for (int t = 0; t < 40; t++)
        {
            b.Random(ref rng, 1f);
            b.Step(env);
            for (int i = 0; i < 2; i++)
            {
                if (b.Terminated[i] || b.Truncated[i]) continue;
                var f = env.Data(i).CfrcExt.ToArray();
                double cost = 5e-4 * f.Sum(x => Math.Clamp(x, -1, 1) * Math.Clamp(x, -1, 1));
                Assert.Equal(cost, env.LastRewardTerms(i).ContactCost, 12);
                for (int k = 0; k < 84; k++) Assert.Equal((float)Math.Clamp(f[k], -1, 1), b.Obs[111 * i + 27 + k]);
                sawContact |= cost > 0;
            }
        }

        Assert.True(sawContact, "the ant never touched the floor");
    }

    [Fact]
    public void HalfCheetah_hopper_walker_rewards_match_qpos0_velocity_and_control_cost()
    {
        foreach (var (name, ctrlWeight, healthy, dt) in new[] { ("halfcheetah", 0.1, 0.0, 0.05), ("hopper", 1e-3, 1.0, 0.008), ("walker2d", 1e-3, 1.0, 0.008) })
        {
            using var env = MuJoCoTasks.Create(name, 2, new Rng(21));
            var b = new Buffers(env);
            var rng = new Rng(22);
            int nu = env.ActionSize, checkedSteps = 0;
            for (int t = 0; t < 25; t++)
            {
                b.Random(ref rng, 1.2f);
                var xBefore = new[] { env.Data(0).Qpos[0], env.Data(1).Qpos[0] };
                b.Step(env);
                for (int i = 0; i < 2; i++)
                {
                    if (b.Terminated[i] || b.Truncated[i]) continue;
                    double v = (env.Data(i).Qpos[0] - xBefore[i]) / dt;
                    double cost = ctrlWeight * b.Actions.AsSpan(nu * i, nu).ToArray().Sum(a => (double)a * a);
                    Assert.Equal((float)(v + healthy - cost), b.Rewards[i], 4);
                    checkedSteps++;
                }
            }

            Assert.True(checkedSteps > 20, name);
        }
    }

    [Fact]
    public void Humanoid_reward_uses_the_mass_weighted_com_and_raw_ctrl()
    {
        using var env = MuJoCoTasks.Create("humanoid", 2, new Rng(31));
        var b = new Buffers(env);
        var rng = new Rng(32);
        var mass = env.Model.BodyMass.ToArray();
        double Com(MjData d) => Enumerable.Range(0, mass.Length).Sum(k => mass[k] * d.Xipos[3 * k]) / mass.Sum();
        int checkedSteps = 0;
        for (int t = 0; t < 15; t++)
        {
            b.Random(ref rng, 1f); // beyond ±0.4: MuJoCo clamps, the cost uses the raw action
            var before = new[] { Com(env.Data(0)), Com(env.Data(1)) };
            b.Step(env);
            for (int i = 0; i < 2; i++)
            {
                if (b.Terminated[i] || b.Truncated[i]) continue;
                double v = (Com(env.Data(i)) - before[i]) / 0.015;
                double cost = 0.1 * b.Actions.AsSpan(17 * i, 17).ToArray().Sum(a => (double)a * a);
                Assert.Equal((float)(1.25 * v + 5 - cost), b.Rewards[i], 4);
                checkedSteps++;
            }
        }

        Assert.True(checkedSteps > 10);

        // The observation blocks: qpos[2:], qvel, cinert, cvel, qfrc_actuator, cfrc_ext (world rows included).
        var d0 = env.Data(0);
        var obs = b.Obs.AsSpan(0, 376);
        Assert.Equal((float)d0.Qpos[2], obs[0]);
        Assert.Equal((float)d0.Qvel[0], obs[22]);
        Assert.Equal((float)d0.Cinert[10], obs[45 + 10]);
        Assert.Equal((float)d0.Cvel[6], obs[185 + 6]);
        Assert.Equal((float)d0.QfrcActuator[6], obs[269 + 6]);
        Assert.Equal((float)d0.CfrcExt[6 + 5], obs[292 + 6 + 5]);
    }

    [Fact]
    public void Pendulum_rewards_match_the_tip_and_velocity_penalties()
    {
        using (var ip = MuJoCoTasks.Create("inverted_pendulum", 2, new Rng(41)))
        {
            var b = new Buffers(ip);
            b.Step(ip);
            Assert.All(b.Rewards, r => Assert.Equal(1f, r));
            Assert.Equal((float)ip.Data(0).Qpos[1], b.Obs[1]);
        }

        using var env = MuJoCoTasks.Create("inverted_double_pendulum", 2, new Rng(42));
        var buf = new Buffers(env);
        int tip = env.Model.RequireId(MjObjectType.Site, "tip");
        for (int t = 0; t < 3; t++)
        {
            buf.Step(env); // zero actions: the poles stay up for a few steps
            for (int i = 0; i < 2; i++)
            {
                Assert.False(buf.Terminated[i]);
                var d = env.Data(i);
                double x = d.SiteXpos[3 * tip], z = d.SiteXpos[3 * tip + 2];
                double r = 10 - (0.01 * x * x + (z - 2) * (z - 2)) - (1e-3 * d.Qvel[1] * d.Qvel[1] + 5e-3 * d.Qvel[2] * d.Qvel[2]);
                Assert.Equal((float)r, buf.Rewards[i], 5);
                var o = buf.Obs.AsSpan(11 * i, 11);
                Assert.Equal((float)d.Qpos[0], o[0]);
                Assert.Equal((float)Math.Sin(d.Qpos[1]), o[1]);
                Assert.Equal((float)Math.Cos(d.Qpos[2]), o[4]);
                Assert.Equal((float)Math.Clamp(d.QfrcConstraint[0], -10, 10), o[8]);
            }
        }
    }

    public static TheoryData<string, bool, int, double> Unhealthy => new()
    {
        // task, set qvel (else qpos), index, value that makes the state unhealthy and keeps it so for one step
        { "ant", false, 2, 1.5 },                        // torso z > 1.0 (falls ~1 cm in a step)
        { "hopper", false, 2, 0.6 },                     // |torso angle| ≥ 0.2
        { "hopper", false, 1, 0.5 },                     // z ≤ 0.7
        { "hopper", true, 3, -150 },                     // |qvel| ≥ 100
        { "walker2d", false, 1, 2.5 },                   // z ≥ 2
        { "walker2d", false, 2, 1.5 },                   // |angle| ≥ 1
        { "humanoid", false, 2, 2.5 },                   // z ≥ 2
        { "inverted_pendulum", false, 1, 0.5 },          // |angle| > 0.2
        { "inverted_double_pendulum", false, 1, 1.6 },   // tip z ≤ 1
    };

    [Theory]
    [MemberData(nameof(Unhealthy))]
    public void Unhealthy_state_terminates_pays_the_v4_bonus_and_auto_resets(string name, bool velocity, int index, double value)
    {
        using var env = MuJoCoTasks.Create(name, 2, new Rng(51));
        var b = new Buffers(env);
        b.Step(env);
        Assert.False(b.Terminated[0] || b.Terminated[1]);

        var d = env.Data(1);
        (velocity ? d.Qvel : d.Qpos)[index] = value;
        d.Forward();
        b.Step(env);
        Assert.False(b.Terminated[0]);
        Assert.True(b.Terminated[1]);
        Assert.False(b.Truncated[1]);
        Assert.True(env.LastRewardTerms(1).Healthy > 0); // v4: the bonus is paid on the terminating step too
        Assert.Equal(0, env.EpisodeStep(1));
        Assert.Equal(2, env.EpisodeStep(0));

        // Auto-reset: the observation is a fresh episode's, the final one is the unhealthy state's.
        var fin = new float[b.Obs.Length];
        env.ObserveFinal(fin);
        Assert.Equal(b.Obs.AsSpan(0, env.ObservationSize).ToArray(), fin.AsSpan(0, env.ObservationSize).ToArray());
        Assert.NotEqual(b.Obs.AsSpan(env.ObservationSize).ToArray(), fin.AsSpan(env.ObservationSize).ToArray());
        var q0 = env.Model.Qpos0;
        for (int k = 0; k < q0.Length; k++) Assert.InRange(d.Qpos[k] - q0[k], -0.11, 0.11);
    }

    [Fact]
    public void HalfCheetah_never_terminates_even_upside_down()
    {
        using var env = MuJoCoTasks.Create("halfcheetah", 1, new Rng(61));
        var b = new Buffers(env);
        env.Data(0).Qpos[2] = Math.PI;
        env.Data(0).Forward();
        for (int t = 0; t < 20; t++)
        {
            b.Step(env);
            Assert.False(b.Terminated[0]);
        }
    }

    [Fact]
    public void Episodes_are_truncated_exactly_at_the_time_limit()
    {
        using var env = MuJoCoTasks.Create("halfcheetah", 2, new Rng(71));
        var b = new Buffers(env);
        for (int t = 1; t <= 1000; t++)
        {
            b.Step(env);
            Assert.False(b.Terminated[0] || b.Terminated[1]);
            Assert.Equal(t == 1000, b.Truncated[0]);
            Assert.Equal(t == 1000, b.Truncated[1]);
        }

        Assert.Equal(0, env.EpisodeStep(0));

        using var shortEnv = MuJoCoTasks.Create("inverted_pendulum", 1, new Rng(72), new MuJoCoEnvOptions { MaxEpisodeSteps = 3 });
        var s = new Buffers(shortEnv);
        s.Step(shortEnv);
        s.Step(shortEnv);
        Assert.False(s.Truncated[0]);
        s.Step(shortEnv);
        Assert.True(s.Truncated[0]);
        Assert.False(s.Terminated[0]);
    }

    public static TheoryData<string, double, double, bool> Noise => new()
    {
        // task, position scale, velocity scale, velocity noise is normal (else uniform)
        { "ant", 0.1, 0.1, true },
        { "halfcheetah", 0.1, 0.1, true },
        { "hopper", 5e-3, 5e-3, false },
        { "walker2d", 5e-3, 5e-3, false },
        { "humanoid", 1e-2, 1e-2, false },
        { "inverted_pendulum", 1e-2, 1e-2, false },
        { "inverted_double_pendulum", 0.1, 0.1, true },
    };

    [Theory]
    [MemberData(nameof(Noise))]
    public void Reset_noise_has_the_spec_distribution(string name, double posScale, double velScale, bool normalVelocity)
    {
        using var env = MuJoCoTasks.Create(name, 4, new Rng(81), new MuJoCoEnvOptions { MaxDegreeOfParallelism = 1 });
        var q0 = env.Model.Qpos0.ToArray();
        bool freeJoint = name is "ant" or "humanoid";
        var dq = new List<double>();
        var dv = new List<double>();
        for (int r = 0; r < 150; r++)
        {
            for (int i = 0; i < 4; i++)
            {
                env.Reset(i);
                var d = env.Data(i);
                // Free-joint quaternions (Ant, Humanoid: qpos[3..6]) get noise too, but mj_forward normalises them in
                // place (MuJoCo 2.2.2), so only the other coordinates keep the raw U(±s) draw.
                for (int k = 0; k < q0.Length; k++)
                {
                    if (!(freeJoint && k >= 3 && k < 7)) dq.Add(d.Qpos[k] - q0[k]);
                }

                dv.AddRange(d.Qvel.ToArray());
            }
        }

        // Uniform U(±s): within ±s, mean 0, variance s²/3. Normal s·N: variance s².
        Assert.All(dq, x => Assert.InRange(x, -posScale, posScale));
        double SdOfMean(double var, int n) => Math.Sqrt(var / n);
        double qVar = posScale * posScale / 3;
        Assert.InRange(dq.Average(), -5 * SdOfMean(qVar, dq.Count), 5 * SdOfMean(qVar, dq.Count));
        Assert.InRange(dq.Average(x => x * x), 0.9 * qVar, 1.1 * qVar);
        double vVar = normalVelocity ? velScale * velScale : velScale * velScale / 3;
        if (!normalVelocity) Assert.All(dv, x => Assert.InRange(x, -velScale, velScale));
        else Assert.Contains(dv, x => Math.Abs(x) > velScale); // a normal exceeds 1 sd often
        Assert.InRange(dv.Average(), -5 * SdOfMean(vVar, dv.Count), 5 * SdOfMean(vVar, dv.Count));
        Assert.InRange(dv.Average(x => x * x), 0.88 * vVar, 1.12 * vVar);
    }

    [Fact]
    public void Ant_quaternion_gets_noise_which_mj_forward_normalises()
    {
        // The task adds U(±0.1) to all four quaternion entries and does not renormalise (as Gymnasium); MuJoCo 2.2.2's
        // mj_forward then normalises the free joint's quaternion in qpos itself.
        using var env = MuJoCoTasks.Create("ant", 1, new Rng(91));
        var q = env.Data(0).Qpos;
        double norm = Math.Sqrt(q[3] * q[3] + q[4] * q[4] + q[5] * q[5] + q[6] * q[6]);
        Assert.Equal(1.0, norm, 12);
        Assert.NotEqual(0.0, q[4]);
        Assert.NotEqual(0.0, q[5]);

        var task = new AntTask();
        using var model = MuJoCoModels.Load("ant");
        task.Bind(model);
        var rng = new Rng(92);
        double[] qpos = new double[15], qvel = new double[14];
        task.SampleInitialState(ref rng, qpos, qvel);
        double raw = Math.Sqrt(qpos[3] * qpos[3] + qpos[4] * qpos[4] + qpos[5] * qpos[5] + qpos[6] * qpos[6]);
        Assert.NotEqual(1.0, raw, 6);
    }

    [Fact]
    public void Same_seed_gives_identical_trajectories_whatever_the_thread_count()
    {
        float[] Run(int threads, int envs)
        {
            using var env = MuJoCoTasks.Create("hopper", envs, new Rng(101), new MuJoCoEnvOptions { MaxDegreeOfParallelism = threads });
            var b = new Buffers(env);
            var rng = new Rng(102);
            var trace = new List<float>();
            for (int t = 0; t < 60; t++)
            {
                b.Random(ref rng, 1f);
                b.Step(env);
                // Environment 0..5 only, so batches of different sizes can be compared.
                trace.AddRange(b.Obs.AsSpan(0, 6 * env.ObservationSize).ToArray());
                trace.AddRange(b.Rewards.AsSpan(0, 6).ToArray());
                for (int i = 0; i < 6; i++) trace.Add(b.Terminated[i] ? 1 : 0);
            }

            return [.. trace];
        }

        var serial = Run(1, 6);
        Assert.Equal(serial, Run(4, 6));
        Assert.Equal(serial, Run(-1, 6));
        Assert.Contains(1f, serial); // some episodes ended (random actions topple the hopper)
    }

    [Theory]
    [InlineData("hopper")]
    [InlineData("humanoid")]
    [InlineData("ant")]
    public void SaveState_then_LoadState_continues_bit_identically(string name)
    {
        var rng = new Rng(111);
        using var a = MuJoCoTasks.Create(name, 3, new Rng(112));
        var b = new Buffers(a);
        // 120 steps: the humanoid lies on the floor by then, and its PGS solver depends on the warm start.
        for (int t = 0; t < 120; t++)
        {
            b.Random(ref rng, 1f);
            b.Step(a);
        }

        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) a.SaveState(w);
        var actionRng = rng;

        var traceA = Continue(a, ref rng);
        using var c = MuJoCoTasks.Create(name, 3, new Rng(999));
        stream.Position = 0;
        using (var r = new BinaryReader(stream)) c.LoadState(r);
        var traceC = Continue(c, ref actionRng);
        Assert.Equal(traceA, traceC);

        static float[] Continue(MuJoCoVectorEnv env, ref Rng rng)
        {
            var b = new Buffers(env);
            var trace = new List<float>();
            env.Observe(b.Obs);
            trace.AddRange(b.Obs);
            for (int t = 0; t < 40; t++)
            {
                b.Random(ref rng, 1f);
                b.Step(env);
                trace.AddRange(b.Obs);
                trace.AddRange(b.Rewards);
                foreach (bool x in b.Terminated) trace.Add(x ? 1 : 0);
                foreach (bool x in b.Truncated) trace.Add(x ? 1 : 0);
            }

            return [.. trace];
        }
    }

    [Fact]
    public void LoadState_rejects_another_task_or_size()
    {
        using var a = MuJoCoTasks.Create("hopper", 2, new Rng(1));
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) a.SaveState(w);
        using var other = MuJoCoTasks.Create("walker2d", 2, new Rng(1));
        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => other.LoadState(new BinaryReader(stream)));
        using var bigger = MuJoCoTasks.Create("hopper", 3, new Rng(1));
        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => bigger.LoadState(new BinaryReader(stream)));
    }

    [Fact]
    public void Diverged_environment_is_terminated_counted_and_reset()
    {
        using var env = MuJoCoTasks.Create("halfcheetah", 2, new Rng(121));
        var b = new Buffers(env);
        b.Step(env);
        env.Data(1).Qvel[3] = 1e12; // MuJoCo: BADQVEL, resets the data mid-step
        b.Step(env);
        Assert.False(b.Terminated[0]);
        Assert.True(b.Terminated[1]); // even for a task that never terminates by its own rule
        Assert.Equal(0f, b.Rewards[1]);
        Assert.Equal(1, env.DivergenceCount);
        Assert.Equal(1, env.WarningCount(MjWarnings.BadQvel));
        Assert.Contains("qvel", env.LastWarning ?? "", StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, env.EpisodeStep(1));
        Assert.All(b.Obs, v => Assert.True(float.IsFinite(v)));

        // Huge actions are clamped by MuJoCo and do not blow the simulation up.
        Array.Fill(b.Actions, 1e6f);
        for (int t = 0; t < 20; t++) b.Step(env);
        Assert.Equal(1, env.DivergenceCount);
    }

    [Fact]
    public void Non_finite_actions_are_rejected()
    {
        using var env = MuJoCoTasks.Create("inverted_pendulum", 2, new Rng(131));
        var b = new Buffers(env);
        b.Actions[1] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => b.Step(env));
        Assert.Contains("environment 1", e.Message);
    }

    [Fact]
    public void Action_modes_raw_and_scaled_to_ctrlrange()
    {
        using var raw = MuJoCoTasks.Create("inverted_pendulum", 1, new Rng(141));
        var b = new Buffers(raw);
        b.Actions[0] = 1f;
        b.Step(raw);
        Assert.Equal(1.0, raw.Data(0).Ctrl[0]);

        using var scaled = MuJoCoTasks.Create("inverted_pendulum", 1, new Rng(141), new MuJoCoEnvOptions { ActionMode = MuJoCoActionMode.ScaleToCtrlRange });
        var s = new Buffers(scaled);
        s.Actions[0] = 1f;
        s.Step(scaled);
        Assert.Equal(3.0, scaled.Data(0).Ctrl[0]);
        s.Actions[0] = -0.5f;
        s.Step(scaled);
        Assert.Equal(-1.5, scaled.Data(0).Ctrl[0]);
    }

    [Fact]
    public void Reward_scaling_multiplies_rewards()
    {
        using var env = MuJoCoTasks.Create("inverted_pendulum", 1, new Rng(151), new MuJoCoEnvOptions { RewardScaling = 10f });
        var b = new Buffers(env);
        b.Step(env);
        Assert.Equal(10f, b.Rewards[0]);
    }
}
