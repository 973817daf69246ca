using Optim4RL.Envs;
using Optim4RL.Experiments;
using Optim4RL.Tensors;
using Optim4RL.Tests.Analysis;

namespace Optim4RL.Tests.Experiments;

/// <summary>R_random: the return of a uniformly random policy, against independent computations.</summary>
public sealed class RandomBaselineTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>
    /// The exact expected return of a uniformly random Catch policy: the paddle makes 9 uniform moves
    /// in {−1, 0, +1} from column 2, clipped to [0, 4]; the ball's column is uniform and independent, so
    /// P(catch) = Σ_c P(ball = c)·P(paddle = c), computed here by propagating the paddle's distribution.
    /// </summary>
    private static (double Mean, double StdDev) ExactCatch()
    {
        var p = new double[Catch.Columns];
        p[Catch.Columns / 2] = 1;
        for (int step = 0; step < Catch.EpisodeLength; step++)
        {
            var next = new double[Catch.Columns];
            for (int c = 0; c < Catch.Columns; c++)
            {
                for (int move = -1; move <= 1; move++) next[Math.Clamp(c + move, 0, Catch.Columns - 1)] += p[c] / 3;
            }

            p = next;
        }

        double catchProbability = p.Sum(pc => pc / Catch.Columns);
        double mean = 2 * catchProbability - 1; // +1 when caught, −1 otherwise
        return (mean, Math.Sqrt(1 - mean * mean));
    }

    [Fact]
    public void Catch_matches_the_exact_expected_return_within_four_standard_errors()
    {
        var (mean, sd) = ExactCatch();
        Assert.Equal(-0.6, mean, 12); // P(catch) = 1/5 whatever the paddle does
        var r = RandomBaseline.Measure("catch", episodes: 20_000, numEnvs: 100, seed: 3);
        Assert.Equal(20_000, r.Episodes);
        Assert.Equal("catch", r.Env);
        Assert.Equal(0.8, sd, 12);
        // Returns are ±1, so the sample standard deviation follows from the mean.
        Assert.Equal(Math.Sqrt((1 - r.Mean * r.Mean) * r.Episodes / (r.Episodes - 1.0)), r.StdDev, 9);
        Assert.InRange(r.Mean, mean - 4 * sd / Math.Sqrt(r.Episodes), mean + 4 * sd / Math.Sqrt(r.Episodes));
        Assert.Contains("3 actions", r.Policy, StringComparison.Ordinal);
        // The same seed gives the same numbers.
        Assert.Equal(r, RandomBaseline.Measure("catch", episodes: 20_000, numEnvs: 100, seed: 3));
    }

    [Fact]
    public void Every_environment_contributes_the_same_number_of_whole_episodes()
    {
        var r = RandomBaseline.Measure("small_dense_short", episodes: 10, numEnvs: 4, seed: 1);
        Assert.Equal(12, r.Episodes); // ⌈10 ÷ 4⌉ = 3 per environment
        Assert.Equal(4, r.NumEnvs);
        Assert.Throws<ArgumentException>(() => RandomBaseline.Measure("no_such_task", 10));
        Assert.Throws<ArgumentException>(() => RandomBaseline.Measure("catch", 0));
    }

    [Fact]
    public void Continuous_actions_are_uniform_in_the_box()
    {
        // Reward a² per step over 5-step episodes: for a ~ U(−1, 1), E[a²] = 1/3 and Var[a²] = 1/5 − 1/9,
        // so an episode returns 5/3 on average with standard deviation √(5·4/45) = 2/3.
        var env = new SquaredActionEnv(50);
        var r = RandomBaseline.Measure(env, episodesPerEnv: 200, new Rng(5));
        Assert.Equal(10_000, r.Episodes);
        double se = 2.0 / 3 / Math.Sqrt(r.Episodes);
        Assert.InRange(r.Mean, 5.0 / 3 - 4 * se, 5.0 / 3 + 4 * se);
        Assert.InRange(env.Min, -1f, -0.99f);
        Assert.InRange(env.Max, 0.99f, 1f);
    }

    [Fact]
    public void Measurements_are_saved_merged_and_loaded()
    {
        string file = Path.Combine(_tmp.Path, "sub", "random_returns.json");
        Assert.Empty(RandomBaseline.Load(file));
        var a = new RandomReturn("catch", -0.6, 0.8, 1000, 100, 1, "uniform over the 3 actions");
        var b = new RandomReturn("ant", -55.25, 40, 128, 128, 0, "uniform in [-1, 1] per action coordinate");
        RandomBaseline.Save(file, [a]);
        RandomBaseline.Save(file, [b, a with { Mean = -0.59 }]);
        var loaded = RandomBaseline.Load(file);
        Assert.Equal(2, loaded.Count);
        Assert.Equal(a with { Mean = -0.59 }, loaded["CATCH"]);
        Assert.Equal(b, loaded["ant"]);
        File.WriteAllText(file, "[1, 2]");
        Assert.Throws<InvalidDataException>(() => RandomBaseline.Load(file));
    }

    /// <summary>A continuous task whose reward is the first action coordinate squared; episodes last 5 steps.</summary>
    private sealed class SquaredActionEnv(int numEnvs) : IContinuousVectorEnv
    {
        private readonly int[] _t = new int[numEnvs];

        public float Min { get; private set; } = float.MaxValue;

        public float Max { get; private set; } = float.MinValue;

        public string Name => "squared_action";

        public int NumEnvs => numEnvs;

        public IReadOnlyList<int> ObservationShape { get; } = [1];

        public int ObservationSize => 1;

        public int ActionSize => 2;

        public int MaxEpisodeSteps => 5;

        public void Reset() => Array.Clear(_t);

        public void Reset(int env) => _t[env] = 0;

        public void Observe(Span<float> destination) => destination[..NumEnvs].Clear();

        public void Step(ReadOnlySpan<float> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
        {
            for (int i = 0; i < actions.Length; i++)
            {
                Min = Math.Min(Min, actions[i]);
                Max = Math.Max(Max, actions[i]);
            }

            for (int i = 0; i < NumEnvs; i++)
            {
                float a = actions[i * ActionSize];
                rewards[i] = a * a;
                terminated[i] = false;
                truncated[i] = ++_t[i] == MaxEpisodeSteps;
                if (truncated[i]) _t[i] = 0;
            }
        }

        public void SaveState(BinaryWriter writer) => throw new NotSupportedException();

        public void LoadState(BinaryReader reader) => throw new NotSupportedException();
    }
}
