using Optim4RL.Envs;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Envs;

public class GridworldTests
{
    private sealed class Buffers(int n)
    {
        public readonly int[] Actions = new int[n];
        public readonly float[] Rewards = new float[n];
        public readonly bool[] Terminated = new bool[n];
        public readonly bool[] Truncated = new bool[n];
        public void Step(IDiscreteVectorEnv env) => env.Step(Actions, Rewards, Terminated, Truncated);
    }

    private static readonly (int R, int C) Absent = (-1, -1);

    /// <summary>A 7×8 map (5×6 interior) with the given objects; nothing random unless a probability says so.</summary>
    private static GridworldConfig Custom(int maxSteps, params GridObject[] objects) =>
        new("custom", 7, 8, objects, maxSteps);

    private static GridworldConfig ByName(string name) => GridworldConfig.All.Single(c => c.Name == name);

    [Fact]
    public void Config_table_matches_spec()
    {
        var sparse2 = new[] { new GridObject(1f, 0.0, 0.05), new GridObject(-1f, 0.5, 0.05) };
        var dense2 = new[] { new GridObject(1f, 0.0, 0.5), new GridObject(-1f, 0.5, 0.5) };
        var sparse4 = new[] { sparse2[0], sparse2[0], sparse2[1], sparse2[1] };
        var dense4 = new[] { dense2[0], dense2[0], dense2[1], dense2[1] };
        (string, int, int, GridObject[], int)[] expected =
        [
            ("small_sparse_short", 5, 10, sparse2, 50),
            ("small_sparse_long", 10, 5, sparse2, 500),
            ("small_dense_short", 6, 8, dense2, 50),
            ("small_dense_long", 8, 6, dense2, 500),
            ("big_sparse_short", 12, 14, sparse4, 50),
            ("big_sparse_long", 14, 12, sparse4, 500),
            ("big_dense_short", 11, 15, dense4, 50),
            ("big_dense_long", 15, 11, dense4, 500),
        ];
        Assert.Equal(8, GridworldConfig.All.Count);
        for (int k = 0; k < 8; k++)
        {
            var c = GridworldConfig.All[k];
            var (name, rows, cols, objs, max) = expected[k];
            Assert.Equal(name, c.Name);
            Assert.Equal(rows, c.Rows);
            Assert.Equal(cols, c.Cols);
            Assert.Equal(objs, c.Objects.ToArray());
            Assert.Equal(max, c.MaxSteps);
            var env = new Gridworld(c, 2, new Rng(1));
            Assert.Equal(new[] { rows, cols, objs.Length + 1 }, env.ObservationShape);
            Assert.Equal(rows * cols * (objs.Length + 1), env.ObservationSize);
            Assert.Equal(9, env.ActionCount);
            Assert.Equal(name, env.Name);
        }
    }

    [Fact]
    public void Each_action_moves_by_its_delta_in_spec_order()
    {
        (int dr, int dc)[] deltas = [(0, 0), (-1, 0), (0, 1), (1, 0), (0, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)];
        var env = new Gridworld(Custom(100, new GridObject(1f, 0, 0)), 9, new Rng(2));
        var b = new Buffers(9);
        for (int a = 0; a < 9; a++)
        {
            env.SetState(a, (3, 3), [Absent], 0);
            b.Actions[a] = a;
        }
        b.Step(env);
        for (int a = 0; a < 9; a++)
        {
            Assert.Equal((3 + deltas[a].dr, 3 + deltas[a].dc), env.AgentPosition(a));
            Assert.False(b.Terminated[a] || b.Truncated[a]);
            Assert.Equal(0f, b.Rewards[a]);
        }
    }

    [Fact]
    public void Walls_block_moves_and_the_agent_stays_put()
    {
        // Map 7×8: interior rows 1..5, cols 1..6.
        var env = new Gridworld(Custom(100, new GridObject(1f, 0, 0)), 1, new Rng(3));
        var b = new Buffers(1);
        ((int, int) from, int action, (int, int) to)[] cases =
        [
            ((1, 3), 1, (1, 3)),  // up into the top wall
            ((5, 3), 3, (5, 3)),  // down into the bottom wall
            ((3, 1), 4, (3, 1)),  // left into the left wall
            ((3, 6), 2, (3, 6)),  // right into the right wall
            ((1, 1), 8, (1, 1)),  // up-left into the corner
            ((1, 3), 7, (1, 3)),  // up-right: target is a wall (row 0) → stays, no sliding
            ((5, 6), 6, (5, 6)),  // down-right into the corner
            ((5, 1), 5, (5, 1)),  // down-left into the corner
            ((3, 1), 5, (3, 1)),  // down-left: column 0 is a wall → stays
            ((1, 2), 4, (1, 1)),  // left along the top row: free
            ((2, 1), 8, (2, 1)),  // up-left from column 1 → wall
            ((2, 2), 8, (1, 1)),  // up-left to the interior corner: free
        ];
        foreach (var (from, action, to) in cases)
        {
            env.SetState(0, from, [Absent], 0);
            b.Actions[0] = action;
            b.Step(env);
            Assert.Equal(to, env.AgentPosition(0));
        }
    }

    [Fact]
    public void Moves_off_the_map_are_clamped_without_error()
    {
        // Borders are walls, so a clamped target is always a wall; put the agent on the border
        // (test hook) to exercise the clamp: it must not index off the map and the agent stays.
        var env = new Gridworld(Custom(100, new GridObject(1f, 0, 0)), 1, new Rng(4));
        var b = new Buffers(1);
        var obs = new float[env.ObservationSize];
        foreach (var (from, action) in new[] { ((0, 0), 8), ((0, 3), 1), ((6, 7), 6), ((6, 0), 5), ((3, 0), 4), ((3, 7), 2), ((0, 7), 7) })
        {
            env.SetState(0, from, [Absent], 0);
            b.Actions[0] = action;
            b.Step(env);
            Assert.Equal(from, env.AgentPosition(0));
            env.Observe(obs);
            Assert.Equal(1f, obs[(from.Item1 * 8 + from.Item2) * 2 + 1]);
        }
    }

    [Fact]
    public void Pickup_gives_reward_and_removes_the_object()
    {
        var cfg = Custom(100, new GridObject(1f, 0, 0), new GridObject(-1f, 0, 0), new GridObject(0.5f, 0, 0));
        var env = new Gridworld(cfg, 3, new Rng(5));
        var b = new Buffers(3);
        env.SetState(0, (2, 2), [(2, 3), (4, 4), (5, 5)], 0); b.Actions[0] = 2; // onto object 0
        env.SetState(1, (2, 2), [(2, 3), (3, 3), (5, 5)], 0); b.Actions[1] = 6; // onto object 1
        env.SetState(2, (2, 2), [(1, 1), (4, 4), (2, 2)], 0); b.Actions[2] = 0; // stays on object 2
        b.Step(env);
        Assert.Equal(new[] { 1f, -1f, 0.5f }, b.Rewards);
        Assert.Equal(new bool[3], b.Terminated);
        Assert.Equal(new bool[3], b.Truncated);
        Assert.Null(env.ObjectPosition(0, 0));
        Assert.Equal((4, 4), env.ObjectPosition(0, 1));
        Assert.Equal((5, 5), env.ObjectPosition(0, 2));
        Assert.Equal((2, 3), env.ObjectPosition(1, 0));
        Assert.Null(env.ObjectPosition(1, 1));
        Assert.Null(env.ObjectPosition(2, 2));
        Assert.Equal(1, env.Time(0));

        // Staying on an emptied cell gives nothing more.
        Array.Fill(b.Actions, 0);
        b.Step(env);
        Assert.Equal(new float[3], b.Rewards);
    }

    [Fact]
    public void Several_objects_on_one_cell_are_all_picked_up_in_one_step()
    {
        var cfg = Custom(100, new GridObject(1f, 0, 0), new GridObject(2f, 0, 0));
        var env = new Gridworld(cfg, 1, new Rng(6));
        env.SetState(0, (3, 3), [(3, 4), (3, 4)], 0);
        var b = new Buffers(1);
        b.Actions[0] = 2;
        b.Step(env);
        Assert.Equal(3f, b.Rewards[0]);
        Assert.Null(env.ObjectPosition(0, 0));
        Assert.Null(env.ObjectPosition(0, 1));
    }

    [Fact]
    public void Reward_scaling_multiplies_rewards()
    {
        var cfg = Custom(100, new GridObject(-1f, 0, 0));
        var env = new Gridworld(cfg, 1, new Rng(7), rewardScaling: 2.5f);
        env.SetState(0, (3, 3), [(3, 4)], 0);
        var b = new Buffers(1);
        b.Actions[0] = 2;
        b.Step(env);
        Assert.Equal(-2.5f, b.Rewards[0]);
    }

    [Fact]
    public void Pickup_terminates_with_the_objects_probability()
    {
        // p_term = 0.5 over n pickups: mean 0.5, standard error 0.5/√n.
        const int n = 20000;
        var env = new Gridworld(Custom(100, new GridObject(1f, 0.5, 0), new GridObject(1f, 0.0, 0)), n, new Rng(8));
        var b = new Buffers(n);
        for (int i = 0; i < n; i++)
        {
            env.SetState(i, (3, 3), [(3, 4), (1, 1)], 5);
            b.Actions[i] = 2;
        }
        b.Step(env);
        int terminated = 0;
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(1f, b.Rewards[i]);
            Assert.False(b.Truncated[i]);
            if (b.Terminated[i])
            {
                terminated++;
                Assert.Equal(0, env.Time(i)); // auto-reset
            }
            else Assert.Equal(6, env.Time(i));
        }
        double se = 0.5 / Math.Sqrt(n);
        Assert.InRange(terminated / (double)n, 0.5 - 5 * se, 0.5 + 5 * se);

        // p_term = 0 never terminates.
        for (int i = 0; i < n; i++) env.SetState(i, (3, 3), [Absent, (3, 4)], 5);
        b.Step(env);
        Assert.DoesNotContain(true, b.Terminated);
        Assert.All(b.Rewards, r => Assert.Equal(1f, r));
    }

    [Fact]
    public void Absent_objects_respawn_with_the_objects_probability_on_a_uniform_interior_cell()
    {
        // p_respawn = 0.3; objects absent (one picked up this very step, one absent before):
        // both may respawn in the same step.
        const int n = 20000;
        const double p = 0.3;
        var cfg = Custom(100, new GridObject(1f, 0, p), new GridObject(1f, 0, p), new GridObject(1f, 0, 0));
        var env = new Gridworld(cfg, n, new Rng(9));
        var b = new Buffers(n);
        for (int i = 0; i < n; i++)
        {
            env.SetState(i, (3, 3), [(3, 4), Absent, Absent], 0);
            b.Actions[i] = 2;
        }
        b.Step(env);
        int[] respawned = new int[2];
        var cellCounts = new int[7 * 8];
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(1f, b.Rewards[i]);
            Assert.Null(env.ObjectPosition(i, 2)); // p_respawn = 0 never respawns
            for (int j = 0; j < 2; j++)
            {
                if (env.ObjectPosition(i, j) is { } pos)
                {
                    respawned[j]++;
                    Assert.InRange(pos.Row, 1, 5);
                    Assert.InRange(pos.Col, 1, 6);
                    cellCounts[pos.Row * 8 + pos.Col]++;
                }
            }
        }
        double se = Math.Sqrt(p * (1 - p) / n);
        foreach (int r in respawned) Assert.InRange(r / (double)n, p - 5 * se, p + 5 * se);

        // Uniform over all 30 interior cells (the agent's cell included).
        int total = respawned[0] + respawned[1];
        double expected = total / 30.0, sd = Math.Sqrt(expected);
        for (int r = 1; r <= 5; r++)
        for (int c = 1; c <= 6; c++)
            Assert.InRange(cellCounts[r * 8 + c], expected - 6 * sd, expected + 6 * sd);
    }

    [Fact]
    public void Episode_is_truncated_at_exactly_max_steps()
    {
        const int max = 7;
        var env = new Gridworld(Custom(max, new GridObject(1f, 0, 0)), 2, new Rng(10));
        var b = new Buffers(2);
        env.SetState(0, (3, 3), [Absent], 0);
        env.SetState(1, (3, 3), [Absent], 0);
        for (int t = 1; t <= max; t++)
        {
            b.Step(env); // stay
            Assert.Equal(new[] { t == max, t == max }, b.Truncated);
            Assert.Equal(new bool[2], b.Terminated);
            Assert.Equal(t == max ? 0 : t, env.Time(0));
        }
        // After the reset, the next episode is truncated after max steps again.
        for (int t = 1; t <= max; t++)
        {
            Array.Fill(b.Actions, 0);
            b.Step(env);
            Assert.Equal(t == max, b.Truncated[0]);
        }
    }

    [Fact]
    public void Real_maps_truncate_at_their_max_steps()
    {
        foreach (var cfg in GridworldConfig.All)
        {
            var env = new Gridworld(cfg, 1, new Rng(11));
            var b = new Buffers(1);
            var absent = Enumerable.Repeat(Absent, cfg.Objects.Count).ToArray();
            // Objects absent before the step cannot be picked up in it, so nothing can terminate.
            env.SetState(0, (1, 1), absent, cfg.MaxSteps - 2);
            b.Step(env);
            Assert.False(b.Truncated[0]);
            Assert.Equal(cfg.MaxSteps - 1, env.Time(0));
            env.SetState(0, (1, 1), absent, cfg.MaxSteps - 1);
            b.Step(env);
            Assert.True(b.Truncated[0]);
            Assert.False(b.Terminated[0]);
            Assert.Equal(0, env.Time(0));
        }
    }

    [Fact]
    public void Termination_on_the_last_step_is_terminated_not_truncated()
    {
        var env = new Gridworld(Custom(5, new GridObject(1f, 1.0, 0)), 1, new Rng(12));
        var b = new Buffers(1);
        env.SetState(0, (3, 3), [(3, 3)], 4);
        b.Step(env);
        Assert.True(b.Terminated[0]);
        Assert.False(b.Truncated[0]);
        Assert.Equal(1f, b.Rewards[0]);
        Assert.Equal(0, env.Time(0));
    }

    [Fact]
    public void Observation_is_channels_last_with_object_maps_then_agent_and_no_walls()
    {
        var cfg = Custom(100, new GridObject(1f, 0, 0), new GridObject(-1f, 0, 0), new GridObject(1f, 0, 0));
        var env = new Gridworld(cfg, 2, new Rng(13));
        env.SetState(0, (1, 6), [(5, 1), Absent, (2, 3)], 0);
        env.SetState(1, (4, 4), [(4, 4), (1, 1), Absent], 0); // object on the agent's cell (test hook)
        int size = 7 * 8 * 4;
        var obs = new float[2 * size];
        Array.Fill(obs, 7f);
        env.Observe(obs);
        var expected = new float[2 * size];
        void One(int e, int r, int c, int ch) => expected[e * size + (r * 8 + c) * 4 + ch] = 1f;
        One(0, 5, 1, 0); One(0, 2, 3, 2); One(0, 1, 6, 3);
        One(1, 4, 4, 0); One(1, 1, 1, 1); One(1, 4, 4, 3);
        Assert.Equal(expected, obs);
        Assert.Throws<ArgumentException>(() => env.Observe(new float[2 * size - 1]));
    }

    [Fact]
    public void Reset_places_agent_and_objects_on_distinct_uniform_interior_cells()
    {
        const int n = 12000;
        var cfg = ByName("small_sparse_short"); // 3×8 = 24 interior cells, 3 entities
        var env = new Gridworld(cfg, n, new Rng(14));
        var agentCounts = new int[5 * 10];
        var objCounts = new int[5 * 10];
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(0, env.Time(i));
            var cells = new List<(int, int)> { env.AgentPosition(i) };
            for (int j = 0; j < 2; j++) cells.Add(env.ObjectPosition(i, j) ?? throw new Xunit.Sdk.XunitException("object absent after reset"));
            Assert.Equal(3, cells.Distinct().Count());
            foreach (var (r, c) in cells)
            {
                Assert.InRange(r, 1, 3);
                Assert.InRange(c, 1, 8);
            }
            agentCounts[cells[0].Item1 * 10 + cells[0].Item2]++;
            objCounts[cells[2].Item1 * 10 + cells[2].Item2]++;
        }
        double expected = n / 24.0, sd = Math.Sqrt(expected);
        for (int r = 1; r <= 3; r++)
        for (int c = 1; c <= 8; c++)
        {
            Assert.InRange(agentCounts[r * 10 + c], expected - 6 * sd, expected + 6 * sd);
            Assert.InRange(objCounts[r * 10 + c], expected - 6 * sd, expected + 6 * sd);
        }
    }

    [Fact]
    public void Auto_reset_after_done_starts_a_fresh_episode()
    {
        var cfg = ByName("big_dense_long");
        var env = new Gridworld(cfg, 1, new Rng(15));
        var b = new Buffers(1);
        var obs = new float[env.ObservationSize];
        // Pick up object 2 (−1, p_term 0.5) until a pickup terminates the episode.
        bool done = false;
        for (int attempt = 0; attempt < 200 && !done; attempt++)
        {
            env.SetState(0, (5, 5), [Absent, Absent, (5, 6), Absent], 123);
            b.Actions[0] = 2;
            b.Step(env);
            done = b.Terminated[0];
        }
        Assert.True(done);
        Assert.Equal(-1f, b.Rewards[0]);
        Assert.Equal(0, env.Time(0));
        env.Observe(obs);
        // A fresh episode: every object present once, agent once, all on distinct cells.
        var ones = new List<int>();
        for (int ch = 0; ch < 5; ch++)
        {
            int count = 0;
            for (int cell = 0; cell < 15 * 11; cell++)
            {
                if (obs[cell * 5 + ch] == 1f) { count++; ones.Add(cell); }
            }
            Assert.Equal(1, count);
        }
        Assert.Equal(5, ones.Distinct().Count());
        Assert.Equal(5f, obs.Sum());

        // Truncation also resets.
        env.SetState(0, (5, 5), [Absent, Absent, Absent, Absent], cfg.MaxSteps - 1);
        b.Actions[0] = 0;
        b.Step(env);
        Assert.True(b.Truncated[0]);
        Assert.Equal(0, env.Time(0));
        for (int j = 0; j < 4; j++) Assert.NotNull(env.ObjectPosition(0, j));
    }

    [Fact]
    public void Reset_of_one_env_leaves_the_others_alone()
    {
        var env = new Gridworld(ByName("small_dense_short"), 3, new Rng(16));
        env.SetState(0, (2, 2), [Absent, Absent], 10);
        env.SetState(1, (2, 2), [Absent, Absent], 10);
        env.SetState(2, (2, 2), [Absent, Absent], 10);
        env.Reset(1);
        Assert.Equal(10, env.Time(0));
        Assert.Equal(0, env.Time(1));
        Assert.NotNull(env.ObjectPosition(1, 0));
        Assert.Equal(10, env.Time(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => env.Reset(3));
    }

    [Fact]
    public void Invalid_actions_throw_and_change_nothing()
    {
        var env = new Gridworld(ByName("small_dense_short"), 2, new Rng(17));
        var before = (env.AgentPosition(0), env.AgentPosition(1), env.Time(0), env.GetRng(0).Counter);
        var b = new Buffers(2);
        b.Actions[0] = 1;
        b.Actions[1] = 9;
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Step(env));
        b.Actions[1] = -1;
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Step(env));
        Assert.Equal(before, (env.AgentPosition(0), env.AgentPosition(1), env.Time(0), env.GetRng(0).Counter));
        Assert.Throws<ArgumentException>(() => env.Step(new int[2], new float[1], new bool[2], new bool[2]));
    }

    [Fact]
    public void Invalid_configs_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new Gridworld(new GridworldConfig("x", 2, 5, [], 10), 1, new Rng(1)));
        Assert.Throws<ArgumentException>(() => new Gridworld(new GridworldConfig("x", 3, 3, [new GridObject(1, 0, 0)], 10), 1, new Rng(1)));
        Assert.Throws<ArgumentException>(() => new Gridworld(new GridworldConfig("x", 5, 5, [new GridObject(1, 1.5, 0)], 10), 1, new Rng(1)));
        Assert.Throws<ArgumentException>(() => new Gridworld(new GridworldConfig("x", 5, 5, [], 0), 1, new Rng(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Gridworld(GridworldConfig.All[0], 0, new Rng(1)));
    }

    private static (float[] Obs, float[] Rewards, bool[] Term, bool[] Trunc) Rollout(Gridworld env, int steps, ulong actionSeed, int envs)
    {
        var b = new Buffers(env.NumEnvs);
        var act = new Rng(actionSeed);
        var obs = new float[env.NumEnvs * env.ObservationSize];
        var allObs = new List<float>();
        var rewards = new List<float>();
        var term = new List<bool>();
        var trunc = new List<bool>();
        for (int t = 0; t < steps; t++)
        {
            // Actions depend only on (t, env index), so batches of different sizes see the same actions.
            for (int i = 0; i < env.NumEnvs; i++) b.Actions[i] = (int)(act.Split((ulong)(t * 1000 + i)).NextInt(9));
            b.Step(env);
            env.Observe(obs);
            allObs.AddRange(obs.AsSpan(0, envs * env.ObservationSize).ToArray());
            rewards.AddRange(b.Rewards.AsSpan(0, envs).ToArray());
            term.AddRange(b.Terminated.AsSpan(0, envs).ToArray());
            trunc.AddRange(b.Truncated.AsSpan(0, envs).ToArray());
        }
        return (allObs.ToArray(), rewards.ToArray(), term.ToArray(), trunc.ToArray());
    }

    [Fact]
    public void Same_seed_gives_same_trajectories_independent_of_batch_size()
    {
        var cfg = ByName("small_dense_short"); // 50-step episodes, dense respawns: exercises every draw
        var a = Rollout(new Gridworld(cfg, 8, new Rng(18)), 120, 5, 8);
        var b = Rollout(new Gridworld(cfg, 8, new Rng(18)), 120, 5, 8);
        var small = Rollout(new Gridworld(cfg, 3, new Rng(18)), 120, 5, 3);
        Assert.Equal(a.Obs, b.Obs);
        Assert.Equal(a.Rewards, b.Rewards);
        Assert.Equal(a.Term, b.Term);
        Assert.Equal(a.Trunc, b.Trunc);
        Assert.Contains(true, a.Term);
        Assert.Contains(true, a.Trunc);
        Assert.Contains(1f, a.Rewards);
        // Env i's trajectory does not depend on how many envs share the batch.
        int size = cfg.Rows * cfg.Cols * 3;
        for (int t = 0; t < 120; t++)
            Assert.Equal(a.Obs.AsSpan(t * 8 * size, 3 * size).ToArray(), small.Obs.AsSpan(t * 3 * size, 3 * size).ToArray());

        var other = Rollout(new Gridworld(cfg, 8, new Rng(19)), 120, 5, 8);
        Assert.NotEqual(a.Obs, other.Obs);
    }

    [Fact]
    public void Different_env_indices_use_different_streams()
    {
        var root = new Rng(20);
        var env = new Gridworld(ByName("big_dense_long"), 16, root);
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(root.Split((ulong)i).Key, env.GetRng(i).Key);
        }
        var starts = Enumerable.Range(0, 16).Select(i => (env.AgentPosition(i), env.ObjectPosition(i, 0), env.ObjectPosition(i, 3))).Distinct().Count();
        Assert.True(starts > 12);
    }

    [Fact]
    public void Save_and_load_continue_identically_and_validate()
    {
        var cfg = ByName("big_dense_short");
        const int n = 6;
        var env = new Gridworld(cfg, n, new Rng(21));
        var b = new Buffers(n);
        var act = new Rng(22);
        for (int t = 0; t < 37; t++)
        {
            for (int i = 0; i < n; i++) b.Actions[i] = act.NextInt(9);
            b.Step(env);
        }
        var ms = new MemoryStream();
        env.SaveState(new BinaryWriter(ms));
        var restored = new Gridworld(cfg, n, new Rng(777));
        ms.Position = 0;
        restored.LoadState(new BinaryReader(ms));
        for (int i = 0; i < n; i++) Assert.Equal(env.Time(i), restored.Time(i));

        var b2 = new Buffers(n);
        var o1 = new float[n * env.ObservationSize];
        var o2 = new float[n * env.ObservationSize];
        bool sawDone = false;
        for (int t = 0; t < 150; t++)
        {
            for (int i = 0; i < n; i++) b.Actions[i] = b2.Actions[i] = act.NextInt(9);
            b.Step(env);
            b2.Step(restored);
            env.Observe(o1);
            restored.Observe(o2);
            Assert.Equal(o1, o2);
            Assert.Equal(b.Rewards, b2.Rewards);
            Assert.Equal(b.Terminated, b2.Terminated);
            Assert.Equal(b.Truncated, b2.Truncated);
            sawDone |= b.Terminated.Contains(true) || b.Truncated.Contains(true);
        }
        Assert.True(sawDone);

        // Another map, another batch size, another task, truncated data.
        ms.Position = 0;
        Assert.Throws<InvalidDataException>(() => new Gridworld(ByName("big_dense_long"), n, new Rng(1)).LoadState(new BinaryReader(ms)));
        ms.Position = 0;
        Assert.Throws<InvalidDataException>(() => new Gridworld(cfg, n - 1, new Rng(1)).LoadState(new BinaryReader(ms)));
        var cms = new MemoryStream();
        new Catch(n, new Rng(1)).SaveState(new BinaryWriter(cms));
        cms.Position = 0;
        Assert.Throws<InvalidDataException>(() => new Gridworld(cfg, n, new Rng(1)).LoadState(new BinaryReader(cms)));
        var cut = new MemoryStream(ms.ToArray()[..^5]);
        var victim = new Gridworld(cfg, n, new Rng(1));
        var beforeRng = victim.GetRng(0);
        Assert.Throws<InvalidDataException>(() => victim.LoadState(new BinaryReader(cut)));
        Assert.Equal(beforeRng.Key, victim.GetRng(0).Key); // unchanged on failure
    }
}
