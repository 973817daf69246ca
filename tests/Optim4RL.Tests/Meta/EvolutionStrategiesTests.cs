using Optim4RL.Agents;
using Optim4RL.Meta;
using Optim4RL.Optimizers;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Meta;

/// <summary>
/// A one-agent inner problem whose "reward collected" is the concave quadratic
/// −Σ_k a_k (φ_k − c_k)²: ES's estimate of the meta-gradient can be checked against the exact one,
/// 2a(φ − c), and an optimizer of φ must reach c. Its population state is the number of unrolls.
/// </summary>
internal sealed class QuadraticProblem(double[] a, double[] c, bool constant = false) : IInnerProblem
{
    /// <summary>Unrolls since the last restore: the population's state.</summary>
    public long Unrolls { get; private set; }

    /// <summary>Every unroll ever (not part of the state).</summary>
    public long Calls { get; private set; }

    public string TaskName => "quadratic";
    public int Agents => 1;
    public int InnerUpdates => 1;
    public PipelineSchedule Schedule { get; } = new(1, 1, enabled: false);
    public long StepsPerIteration => 1;
    public long EnvStepsPerIteration => 1;
    public long StepsPerInnerUpdate => 1;
    public bool CanRestartPopulation => true;
    public int? MaxDegreeOfParallelism { set { } }

    public double Loss(ReadOnlySpan<float> phi)
    {
        double loss = 0;
        for (int k = 0; k < a.Length; k++) loss += a[k] * (phi[k] - c[k]) * (phi[k] - c[k]);
        return loss;
    }

    public double[] Gradient(float[] phi) => [.. Enumerable.Range(0, a.Length).Select(k => 2 * a[k] * (phi[k] - c[k]))];

    public void ResetAgent(int agent) { }

    public double Unroll(ReadOnlySpan<float> phi, int updates, bool record, long iteration)
    {
        Unrolls++;
        Calls++;
        return constant ? 1.0 : -Loss(phi);
    }

    public double MetaLoss(long iteration, ref A2CLossTerms terms, double termsWeight) => throw new NotSupportedException();
    public void AccumulateMetaGradient(Span<float> sum) => throw new NotSupportedException();
    public (double Sum, int Count) DrainReturns() => (0, 0);
    public void Save(BinaryWriter writer) => writer.Write(Unrolls);
    public void Load(BinaryReader reader, bool convertState) => Unrolls = reader.ReadInt64();
}

public class EvolutionStrategiesTests
{
    private static double Cosine(ReadOnlySpan<float> x, double[] y)
    {
        double dot = 0, nx = 0, ny = 0;
        for (int i = 0; i < y.Length; i++)
        {
            dot += x[i] * y[i];
            nx += x[i] * (double)x[i];
            ny += y[i] * y[i];
        }
        return dot / Math.Sqrt(nx * ny);
    }

    private static (QuadraticProblem Problem, float[] Phi) Quadratic(int d, int seed, bool constant = false)
    {
        var rng = new Random(seed);
        var a = Enumerable.Range(0, d).Select(_ => 0.5 + rng.NextDouble()).ToArray();
        var c = Enumerable.Range(0, d).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var phi = Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        return (new QuadraticProblem(a, c, constant), phi);
    }

    [Fact]
    public void Without_shaping_the_estimate_points_along_the_true_gradient_of_a_quadratic()
    {
        // 16 dimensions, N = 4000 (2000 antithetic pairs), σ = 0.05, seed 7. For a quadratic the pair difference is
        // exactly 2σ εᵀ∇F, so the estimate is the sample second moment of ε times the gradient: its relative
        // error is about √((d + 1)/pairs) ≈ 0.09, a cosine of about 0.996.
        var (problem, phi) = Quadratic(16, seed: 1);
        var es = new EvolutionStrategies(new EsSettings(4000, 0.05, FitnessShaping.None), seed: 7);
        var g = new float[phi.Length];
        var terms = default(A2CLossTerms);
        var estimate = es.Estimate(problem, phi, 1, 0, g, ref terms, 1);
        double cosine = Cosine(g, problem.Gradient(phi));
        Assert.True(cosine > 0.99, $"cosine(ES, true gradient) = {cosine}");
        Assert.Equal(4001, problem.Calls); // every member, then φ itself
        Assert.Equal(1, problem.Unrolls); // of which only φ's is kept
        Assert.Equal(-es.LastFitness.Average(), estimate.MetaLoss, 12);
        // Unshaped, the estimate is also unbiased in scale: its norm is within 15 % of the gradient's.
        double ratio = Math.Sqrt(g.Sum(x => (double)x * x)) / Math.Sqrt(problem.Gradient(phi).Sum(x => x * x));
        Assert.InRange(ratio, 0.85, 1.15);
    }

    [Theory]
    [InlineData(FitnessShaping.None)]
    [InlineData(FitnessShaping.CenteredRanks)]
    public void A_constant_fitness_gives_exactly_zero(FitnessShaping shaping)
    {
        var (problem, phi) = Quadratic(8, seed: 2, constant: true);
        var es = new EvolutionStrategies(new EsSettings(16, 0.1, shaping), seed: 3);
        var g = Enumerable.Repeat(1f, phi.Length).ToArray();
        var terms = default(A2CLossTerms);
        es.Estimate(problem, phi, 1, 0, g, ref terms, 1);
        Assert.All(g, x => Assert.Equal(0, BitConverter.SingleToInt32Bits(x)));
    }

    [Fact]
    public void Centered_ranks_span_minus_half_to_half_and_ties_share_their_average_rank()
    {
        Assert.Equal([-0.5, 0, 0, 0.5], EvolutionStrategies.Shape([1.0, 3.0, 3.0, 5.0], FitnessShaping.CenteredRanks));
        Assert.Equal([0.5, -0.5, 0, 0, 0], EvolutionStrategies.Shape([9.0, -2.0, 4.0, 4.0, 4.0], FitnessShaping.CenteredRanks));
        Assert.Equal([0.0, 0.0, 0.0], EvolutionStrategies.Shape([2.0, 2.0, 2.0], FitnessShaping.CenteredRanks));
        Assert.Equal([9.0, -2.0], EvolutionStrategies.Shape([9.0, -2.0], FitnessShaping.None));
    }

    [Fact]
    public void Antithetic_pairs_are_exact_negatives_and_directions_differ_between_pairs_iterations_and_tasks()
    {
        var es = new EvolutionStrategies(new EsSettings(8, 0.02), seed: 11);
        float[] Delta(long t, int task, int m)
        {
            var d = new float[300];
            es.Perturbation(t, task, m, d);
            return d;
        }

        for (int i = 0; i < 4; i++)
        {
            var plus = Delta(5, 1, 2 * i);
            var minus = Delta(5, 1, 2 * i + 1);
            Assert.Equal(plus.Select(x => -x), minus);
            Assert.InRange(Math.Sqrt(plus.Sum(x => (double)x * x) / plus.Length), 0.02 * 0.85, 0.02 * 1.15); // σ·N(0, 1)
        }
        Assert.NotEqual(Delta(5, 1, 0), Delta(5, 1, 2));
        Assert.NotEqual(Delta(5, 1, 0), Delta(6, 1, 0));
        Assert.NotEqual(Delta(5, 1, 0), Delta(5, 0, 0));
        var again = new EvolutionStrategies(new EsSettings(8, 0.02), seed: 11);
        var d0 = new float[300];
        again.Perturbation(5, 1, 0, d0);
        Assert.Equal(Delta(5, 1, 0), d0); // a function of seed, iteration, task and pair only
    }

    [Fact]
    public void Invalid_settings_are_refused()
    {
        Assert.Contains("even", Assert.Throws<ArgumentException>(() => new EvolutionStrategies(new EsSettings(7), 1)).Message);
        Assert.Contains("sigma", Assert.Throws<ArgumentException>(() => new EvolutionStrategies(new EsSettings(8, 0), 1)).Message);
        Assert.Contains("inner_steps", Assert.Throws<ArgumentException>(() => new EvolutionStrategies(new EsSettings(8, 0.1, InnerSteps: -1), 1)).Message);
    }

    [Fact]
    public void Meta_training_by_ES_drives_the_quadratic_to_its_optimum()
    {
        // The whole trainer (ES with centred ranks, Adam on φ) on a quadratic over LinearOptim's φ.
        var lopt = LearnedOptimizers.Create("LinearOptim");
        int d = lopt.Layout.Count;
        var rng = new Random(4);
        var a = Enumerable.Range(0, d).Select(_ => 0.5 + rng.NextDouble()).ToArray();
        var c = Enumerable.Range(0, d).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var problem = new QuadraticProblem(a, c);
        var trainer = new MetaTrainer([problem], lopt, Optax.Adam(0.02), new EvolutionStrategies(new EsSettings(32, 0.05), seed: 5),
            new MetaTrainerSettings(300, -1, 9, new CheckpointLayout(1, 1, "test", null, false)));
        double start = problem.Loss(trainer.Phi);
        Assert.Equal(300 / 33, trainer.Iterations); // (N + 1) unrolls per meta-iteration
        for (int i = 0; i < 150; i++) trainer.Step();
        double end = problem.Loss(trainer.Phi);
        Assert.True(end < 0.05 * start, $"quadratic loss {start} → {end}");
    }
}

/// <summary>ES on real populations: A2C agents on a gridworld, and a run from the CLI's runner.</summary>
public sealed class EsMetaTrainingTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "o4rl-es-" + Guid.NewGuid().ToString("N"));

    public EsMetaTrainingTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static MetaA2C Make(IMetaGradientEstimator? estimator, int? threads = null) =>
        new(new MetaA2CConfig([new MetaTaskConfig("catch", 4, 3e-2f, 1f, 3)], 100_000, 4, true, 1.0, -1, new A2CConfig(), 5),
            LearnedOptimizers.Create("Optim4RL"), Optax.Adam(1e-3), null, estimator)
        { MaxDegreeOfParallelism = threads };

    [Fact]
    public void Truncated_ES_leaves_the_population_as_phi_alone_would_and_is_thread_independent()
    {
        // The members run from snapshots and are rolled back: afterwards the agents are exactly where K
        // inner updates with φ itself take them.
        var es = Make(new EvolutionStrategies(new EsSettings(4, 0.5), seed: 5));
        var plain = Make(null);
        var g = new float[es.Phi.Length];
        var terms = default(A2CLossTerms);
        es.Estimator.Estimate(es.Tasks[0], es.Phi, 1, 0, g, ref terms, 1);
        plain.Tasks[0].Unroll(plain.Phi, 4, record: false, 1);
        Assert.Equal(plain.Tasks[0].Theta, es.Tasks[0].Theta);
        Assert.Equal(plain.Tasks[0].State.Span.ToFloat32(), es.Tasks[0].State.Span.ToFloat32());
        Assert.True(g.Any(x => x != 0), string.Join(",", ((EvolutionStrategies)es.Estimator).LastFitness));

        var one = Make(new EvolutionStrategies(new EsSettings(4, 0.01), seed: 5), threads: 1);
        var two = Make(new EvolutionStrategies(new EsSettings(4, 0.01), seed: 5), threads: 2);
        for (int i = 0; i < 2; i++) Assert.Equal(one.Step(), two.Step());
        Assert.Equal(one.Phi, two.Phi);
        Assert.Equal(4 + 1L, one.Estimator.StepsPerIteration(one.Tasks[0]) / (4 * 4 * 20)); // (N + 1) · K · B · T
    }

    [Fact]
    public void ES_runs_from_the_runner_on_catch_and_resumes_exactly()
    {
        string json = """
            {
              "env": [{"name": [["catch"]], "num_envs": [4], "train_steps": [2400]}],
              "agent": [{"name": ["MetaA2C"], "inner_updates": [2], "rollout_steps": [10], "reset_interval": [4]}],
              "agent_optim": [{"name": ["Optim4RL"], "kwargs": [{"learning_rate": [1e-3]}]}],
              "meta_optim": [{"name": ["Adam"], "kwargs": [{"learning_rate": [1e-3]}]}],
              "meta_estimator": [{"name": ["ES"], "population": [4], "sigma": [0.01], "fitness_shaping": ["centered_ranks"], "inner_steps": [0, 3]}],
              "seed": [3]
            }
            """;
        string path = Path.Combine(_root, "tiny_es.json");
        File.WriteAllText(path, json);
        var sweep = Optim4RL.Experiments.SweepConfig.Load(path);
        Assert.Equal(2, sweep.Total); // truncated and full runs
        string logs = Path.Combine(_root, "logs");
        for (int k = 1; k <= 2; k++)
        {
            var outcome = Optim4RL.Experiments.ExperimentRunner.Run(sweep, k, new Optim4RL.Experiments.RunOptions(logs, Threads: 2, CheckpointEvery: 2));
            Assert.True(outcome.Completed);
            var rows = File.ReadAllLines(Path.Combine(outcome.Directory, "meta_train.csv"));
            // Truncated: (4 + 1) · 2 updates · 4 agents · 10 steps = 400 per iteration; full: (4 + 1) · 3 · 40 = 600.
            Assert.Equal(k == 1 ? 6 : 4, rows.Length - 1);
            Assert.True(File.Exists(Path.Combine(outcome.Directory, "param.json")));
        }

        // Killed after its checkpoint at iteration 2 and resumed, the truncated run writes the same φ.
        string dir = Path.Combine(logs, "tiny_es", "1");
        string phi = File.ReadAllText(Path.Combine(dir, "param.json"));
        File.Copy(Path.Combine(dir, "checkpoint.prev.bin"), Path.Combine(dir, "checkpoint.bin"), overwrite: true);
        Optim4RL.Experiments.ExperimentRunner.Run(sweep, 1, new Optim4RL.Experiments.RunOptions(logs, Resume: true, Threads: 1, CheckpointEvery: 2));
        Assert.Equal(phi, File.ReadAllText(Path.Combine(dir, "param.json")));

        var bad = json.Replace("\"population\": [4]", "\"population\": [5]");
        File.WriteAllText(path, bad);
        var e = Assert.Throws<Optim4RL.Experiments.ConfigException>(() => Optim4RL.Experiments.ExperimentRunner.Run(Optim4RL.Experiments.SweepConfig.Load(path), 1,
            new Optim4RL.Experiments.RunOptions(Path.Combine(_root, "logs2"))));
        Assert.Contains("meta_estimator.population", e.Message);
    }
}
