using Optim4RL.Agents;
using Optim4RL.Optimizers;
using Optim4RL.Tensors;
using Xunit.Abstractions;

namespace Optim4RL.Tests.Ppo;

public class PpoLearningTests(ITestOutputHelper output)
{
    internal static PpoConfig ToyConfig => new()
    {
        UnrollLength = 10,
        BatchSize = 32,
        NumMinibatches = 4,
        UpdateEpochs = 4,
        Discount = 0.95,
        RewardScaling = 1,
        EntropyCost = 1e-3,
        PolicyHiddenSizes = [32, 32],
        ValueHiddenSizes = [32, 32],
    };

    internal static Optim4RL.Agents.Ppo MakeToyPpo(ulong seed, PpoConfig? cfg = null, IOptimizer? optimizer = null, int numEnvs = 16)
    {
        cfg ??= ToyConfig;
        var rng = new Rng(seed);
        var env = new PointMass(numEnvs, rng.Split(0));
        var nets = PpoNetworks.For(env.ObservationSize, env.ActionSize, cfg);
        return new Optim4RL.Agents.Ppo(nets, env, optimizer ?? Optax.FromConfig("Adam", 3e-3, gradClip: 1), cfg, rng.Split(1));
    }

    [Fact]
    public void Ppo_learns_the_point_mass_task_over_seeds()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var finals = new List<double>();
        var initials = new List<double>();
        foreach (ulong seed in new ulong[] { 1, 2, 3, 4, 5 })
        {
            var ppo = MakeToyPpo(seed);
            var eval = new PpoEvaluator(ppo.Agent, new PointMass(32, new Rng(seed + 100)), new Rng(seed + 200));
            initials.Add(eval.Evaluate(deterministic: true).MeanReturn);
            for (int i = 0; i < 40; i++) ppo.TrainingStep();
            double det = eval.Evaluate(deterministic: true).MeanReturn;
            double sto = eval.Evaluate(deterministic: false).MeanReturn;
            output.WriteLine($"seed {seed}: initial {initials[^1]:F1}, deterministic {det:F1}, stochastic {sto:F1} after {ppo.Iteration * ppo.StepsPerIteration} steps");
            finals.Add(det);
        }
        output.WriteLine($"{sw.Elapsed.TotalSeconds:F1} s");
        for (int i = 0; i < finals.Count; i++)
            Assert.True(finals[i] > 40 && finals[i] > initials[i] + 10, $"seed {i + 1}: final deterministic return {finals[i]:F1}, initial {initials[i]:F1}");
    }

    [Theory]
    [InlineData("RMSProp")]
    [InlineData("Optim4RL")]
    public void Ppo_trains_with_other_optimizers(string name)
    {
        IOptimizer opt = name == "RMSProp"
            ? Optax.FromConfig("RMSProp", 1e-3, gradClip: 1)
            : UntrainedOptim4RL(1e-3f);
        var ppo = MakeToyPpo(11, optimizer: opt);
        var eval = new PpoEvaluator(ppo.Agent, new PointMass(32, new Rng(111)), new Rng(211));
        double initial = eval.Evaluate(deterministic: true).MeanReturn;
        for (int i = 0; i < 40; i++) ppo.TrainingStep();
        double final = eval.Evaluate(deterministic: true).MeanReturn;
        output.WriteLine($"{name}: initial {initial:F1}, final {final:F1}");
        Assert.True(final > 40, $"{name}: final deterministic return {final:F1} (initial {initial:F1})");
    }

    private static IOptimizer UntrainedOptim4RL(float alpha)
    {
        var kernel = Optim4RL.Optimizers.Learned.LearnedOptimizers.Create("Optim4RL");
        var phi = new float[kernel.Layout.Count];
        var rng = new Rng(7);
        kernel.InitMetaParams(ref rng, phi);
        return new Optim4RL.Optimizers.Learned.LearnedOptimizer(kernel, phi, alpha, gradClip: 1);
    }
}
