using Optim4RL.Envs;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Envs;

public class CatchTests
{
    private sealed class Buffers(int n)
    {
        public readonly int[] Actions = new int[n];
        public readonly float[] Rewards = new float[n];
        public readonly bool[] Terminated = new bool[n];
        public readonly bool[] Truncated = new bool[n];
        public void Step(IDiscreteVectorEnv env) => env.Step(Actions, Rewards, Terminated, Truncated);
    }

    [Fact]
    public void Shape_and_action_count()
    {
        var env = new Catch(3, new Rng(1));
        Assert.Equal("catch", env.Name);
        Assert.Equal(new[] { 10, 5 }, env.ObservationShape);
        Assert.Equal(50, env.ObservationSize);
        Assert.Equal(3, env.ActionCount);
        Assert.Equal(3, env.NumEnvs);
    }

    [Fact]
    public void Reset_puts_ball_in_row_0_and_paddle_in_column_2_with_uniform_ball_column()
    {
        const int n = 5000;
        var env = new Catch(n, new Rng(2));
        var counts = new int[5];
        for (int i = 0; i < n; i++)
        {
            var (ballRow, ballCol, paddleCol) = env.GetState(i);
            Assert.Equal(0, ballRow);
            Assert.Equal(2, paddleCol);
            counts[ballCol]++;
        }
        // Each column expected n/5 = 1000, sd ≈ 28; allow 6 sd.
        foreach (int c in counts) Assert.InRange(c, 1000 - 170, 1000 + 170);
    }

    [Fact]
    public void Every_episode_lasts_exactly_9_steps_and_is_terminated_never_truncated()
    {
        const int n = 8;
        var env = new Catch(n, new Rng(3));
        var b = new Buffers(n);
        var rng = new Rng(99);
        for (int episode = 0; episode < 5; episode++)
        {
            for (int t = 1; t <= 9; t++)
            {
                for (int i = 0; i < n; i++) b.Actions[i] = rng.NextInt(3);
                b.Step(env);
                for (int i = 0; i < n; i++)
                {
                    Assert.False(b.Truncated[i]);
                    Assert.Equal(t == 9, b.Terminated[i]);
                    if (t < 9)
                    {
                        Assert.Equal(0f, b.Rewards[i]);
                        Assert.Equal(t, env.GetState(i).BallRow);
                    }
                    else
                    {
                        Assert.True(b.Rewards[i] is 1f or -1f);
                        Assert.Equal(0, env.GetState(i).BallRow); // auto-reset
                        Assert.Equal(2, env.GetState(i).PaddleCol);
                    }
                }
            }
        }
    }

    [Fact]
    public void Reward_is_plus_one_when_caught_and_minus_one_when_missed()
    {
        const int n = 20;
        var env = new Catch(n, new Rng(4), rewardScaling: 1f);
        var b = new Buffers(n);
        var target = new int[n];
        for (int i = 0; i < n; i++)
        {
            int ballCol = env.GetState(i).BallCol;
            // Even envs chase the ball; odd envs go to the column farthest from it.
            target[i] = i % 2 == 0 ? ballCol : (ballCol <= 2 ? 4 : 0);
        }
        for (int t = 1; t <= 9; t++)
        {
            for (int i = 0; i < n; i++)
            {
                int p = env.GetState(i).PaddleCol;
                b.Actions[i] = target[i] > p ? 2 : target[i] < p ? 0 : 1;
            }
            b.Step(env);
        }
        for (int i = 0; i < n; i++)
        {
            Assert.True(b.Terminated[i]);
            Assert.Equal(i % 2 == 0 ? 1f : -1f, b.Rewards[i]);
        }
    }

    [Fact]
    public void Reward_compares_ball_with_paddle_after_the_last_move()
    {
        var env = new Catch(2, new Rng(5));
        env.SetState(0, ballRow: 8, ballCol: 3, paddleCol: 2);
        env.SetState(1, ballRow: 8, ballCol: 3, paddleCol: 3);
        var b = new Buffers(2);
        b.Actions[0] = 2; // 2 → 3: caught
        b.Actions[1] = 0; // 3 → 2: missed
        b.Step(env);
        Assert.Equal(new[] { 1f, -1f }, b.Rewards);
        Assert.Equal(new[] { true, true }, b.Terminated);
    }

    [Fact]
    public void Reward_scaling_multiplies_rewards()
    {
        var env = new Catch(2, new Rng(6), rewardScaling: 0.25f);
        env.SetState(0, 8, 1, 1);
        env.SetState(1, 8, 1, 4);
        var b = new Buffers(2);
        b.Actions[0] = 1;
        b.Actions[1] = 1;
        b.Step(env);
        Assert.Equal(new[] { 0.25f, -0.25f }, b.Rewards);
    }

    [Fact]
    public void Paddle_moves_by_action_minus_one_and_is_clipped_to_0_and_4()
    {
        var env = new Catch(1, new Rng(7));
        var b = new Buffers(1);
        int[] actions = [0, 0, 0, 2, 2, 2, 2, 2, 1];
        int[] expected = [1, 0, 0, 1, 2, 3, 4, 4, 4];
        env.SetState(0, 0, 0, 2);
        for (int t = 0; t < 8; t++)
        {
            b.Actions[0] = actions[t];
            b.Step(env);
            Assert.Equal(expected[t], env.GetState(0).PaddleCol);
        }
    }

    [Fact]
    public void Observation_has_ones_exactly_at_ball_and_paddle()
    {
        const int n = 3;
        var env = new Catch(n, new Rng(8));
        env.SetState(0, 0, 4, 0);
        env.SetState(1, 5, 1, 3);
        env.SetState(2, 8, 2, 2);
        var obs = new float[n * 50 + 7];
        Array.Fill(obs, 9f);
        env.Observe(obs);
        (int br, int bc, int pc)[] s = [(0, 4, 0), (5, 1, 3), (8, 2, 2)];
        for (int i = 0; i < n; i++)
        {
            for (int r = 0; r < 10; r++)
            for (int c = 0; c < 5; c++)
            {
                bool one = (r == s[i].br && c == s[i].bc) || (r == 9 && c == s[i].pc);
                Assert.Equal(one ? 1f : 0f, obs[i * 50 + r * 5 + c]);
            }
        }
        for (int k = n * 50; k < obs.Length; k++) Assert.Equal(9f, obs[k]); // untouched tail
        Assert.Throws<ArgumentException>(() => env.Observe(new float[n * 50 - 1]));
    }

    [Fact]
    public void Invalid_action_throws_and_changes_nothing()
    {
        var env = new Catch(2, new Rng(9));
        var before = (env.GetState(0), env.GetState(1));
        var b = new Buffers(2);
        b.Actions[0] = 1;
        b.Actions[1] = 3;
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Step(env));
        b.Actions[1] = -1;
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Step(env));
        Assert.Equal(before, (env.GetState(0), env.GetState(1)));
        Assert.Throws<ArgumentException>(() => env.Step(new int[1], new float[2], new bool[2], new bool[2]));
    }

    [Fact]
    public void Same_seed_gives_same_trajectories_and_envs_use_their_own_streams()
    {
        var root = new Rng(10);
        var a = new Catch(16, root);
        var b = new Catch(16, root);
        var small = new Catch(4, root); // env i must not depend on the batch size
        Assert.Equal(root.Split(3).NextInt(5), a.GetState(3).BallCol);
        var ba = new Buffers(16);
        var bb = new Buffers(16);
        var bs = new Buffers(4);
        var oa = new float[16 * 50];
        var ob = new float[16 * 50];
        var os = new float[4 * 50];
        var act = new Rng(11);
        var ballCols = new HashSet<string>();
        for (int t = 0; t < 60; t++)
        {
            for (int i = 0; i < 16; i++) ba.Actions[i] = bb.Actions[i] = act.NextInt(3);
            Array.Copy(ba.Actions, bs.Actions, 4);
            ba.Step(a);
            bb.Step(b);
            bs.Step(small);
            a.Observe(oa);
            b.Observe(ob);
            small.Observe(os);
            Assert.Equal(oa, ob);
            Assert.Equal(ba.Rewards, bb.Rewards);
            Assert.Equal(oa.AsSpan(0, 4 * 50).ToArray(), os);
            Assert.Equal(ba.Rewards.AsSpan(0, 4).ToArray(), bs.Rewards);
            if (t % 9 == 8) ballCols.Add(string.Join(",", Enumerable.Range(0, 16).Select(i => a.GetState(i).BallCol)));
        }
        // Different env indices draw different columns (not all 16 envs identical in any reset).
        var first = Enumerable.Range(0, 16).Select(i => a.GetState(i).BallCol).Distinct().Count();
        Assert.True(first > 1);
        Assert.True(ballCols.Count > 1);
    }

    [Fact]
    public void Save_and_load_continue_identically_and_validate()
    {
        const int n = 6;
        var env = new Catch(n, new Rng(12));
        var b = new Buffers(n);
        var act = new Rng(13);
        for (int t = 0; t < 13; t++)
        {
            for (int i = 0; i < n; i++) b.Actions[i] = act.NextInt(3);
            b.Step(env);
        }
        var ms = new MemoryStream();
        env.SaveState(new BinaryWriter(ms));
        var restored = new Catch(n, new Rng(999));
        ms.Position = 0;
        restored.LoadState(new BinaryReader(ms));

        var b2 = new Buffers(n);
        var o1 = new float[n * 50];
        var o2 = new float[n * 50];
        for (int t = 0; t < 40; t++)
        {
            for (int i = 0; i < n; i++) b.Actions[i] = b2.Actions[i] = act.NextInt(3);
            b.Step(env);
            b2.Step(restored);
            env.Observe(o1);
            restored.Observe(o2);
            Assert.Equal(o1, o2);
            Assert.Equal(b.Rewards, b2.Rewards);
            Assert.Equal(b.Terminated, b2.Terminated);
        }
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(env.GetRng(i).Key, restored.GetRng(i).Key);
            Assert.Equal(env.GetRng(i).Counter, restored.GetRng(i).Counter);
        }

        // Wrong batch size, wrong task, truncated data.
        ms.Position = 0;
        Assert.Throws<InvalidDataException>(() => new Catch(n + 1, new Rng(1)).LoadState(new BinaryReader(ms)));
        var gms = new MemoryStream();
        new Gridworld(GridworldConfig.All[0], n, new Rng(1)).SaveState(new BinaryWriter(gms));
        gms.Position = 0;
        Assert.Throws<InvalidDataException>(() => new Catch(n, new Rng(1)).LoadState(new BinaryReader(gms)));
        var cut = new MemoryStream(ms.ToArray()[..^3]);
        Assert.Throws<InvalidDataException>(() => new Catch(n, new Rng(1)).LoadState(new BinaryReader(cut)));
    }
}
