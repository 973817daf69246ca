using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Optim4RL.Agents;
using Optim4RL.Envs;
using Optim4RL.Nn;
using Optim4RL.Optimizers.Learned;
using Optim4RL.Tensors;

namespace Optim4RL.Benchmarks;

/// <summary>
/// Micro-benchmarks of the hot kernels (BenchmarkDotNet). Throughput of whole workloads is
/// <c>./optim4rl bench</c>; these isolate one kernel each. Run:
/// <c>dotnet run -c Release --project bench/Optim4RL.Benchmarks -- --filter '*'</c>.
/// <c>-- grouped-overhead</c> instead prints a quick Stopwatch measurement of <see cref="GroupedOptimizerOverhead"/>.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args is ["grouped-overhead"])
        {
            GroupedOptimizerOverhead.Run();
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}

/// <summary>The Optim4RL kernel: one step, and the meta-gradient through K = 4 steps, over N coordinates.</summary>
[MemoryDiagnoser]
public class Optim4RLKernel
{
    private readonly ILearnedOptimizer _opt = LearnedOptimizers.Create("Optim4RL");
    private float[] _phi = [], _state = [], _state0 = [], _grads = [], _adj = [], _upd = [], _mg = [];

    [Params(65_536, 901_376)] // 901,376 = 64 Catch agents × 14,084 parameters
    public int N;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(1);
        _phi = new float[_opt.Layout.Count];
        _opt.InitMetaParams(ref rng, _phi);
        _state = new float[_opt.StateSize * N];
        _state0 = new float[_opt.StateSize * N];
        _grads = new float[4 * N];
        for (int i = 0; i < _grads.Length; i++) _grads[i] = (float)(1e-3 * rng.NextNormal());
        _adj = new float[N];
        for (int i = 0; i < N; i++) _adj[i] = (float)rng.NextNormal();
        _upd = new float[N];
        _mg = new float[_phi.Length];
    }

    [Benchmark]
    public void Step() => _opt.Step(_phi, _state, _grads.AsSpan(0, N), _upd, 1e-3f);

    [Benchmark]
    public void MetaGradientK4() => _opt.MetaGradient(_phi, _state0, _grads, 4, _adj, 1e-3f, _mg);
}

/// <summary>One A2C rollout of T = 20 steps plus the loss gradient, for one agent.</summary>
[MemoryDiagnoser]
public class A2CRolloutAndGradient
{
    private A2CLoss<float> _loss = null!;
    private Rng _rng = new(2);

    [Params("catch", "small_dense_long", "big_dense_long")]
    public string Task = "catch";

    [Params(1, 64)]
    public int Envs;

    [GlobalSetup]
    public void Setup()
    {
        var env = EnvRegistry.CreateDiscrete(Task, Envs, new Rng(3));
        env.Reset();
        var spec = NetworkSpec.ForTask(env.Name, env.ObservationShape.ToArray(), env.ActionCount);
        var theta = new float[spec.Layout.Count];
        var init = new Rng(4);
        spec.InitParams(theta, ref init);
        _loss = new A2CLoss<float>(spec, env, new A2CConfig(), theta, new float[theta.Length], 0);
    }

    [Benchmark]
    public double RolloutAndGradient() => _loss.RolloutAndGradient(ref _rng, null);
}

/// <summary>Stepping the vector environments (actions fixed).</summary>
public class EnvStep
{
    private IDiscreteVectorEnv _env = null!;
    private int[] _actions = [];
    private float[] _rewards = [], _obs = [];
    private bool[] _term = [], _trunc = [];

    [Params("catch", "big_dense_long")]
    public string Task = "catch";

    [GlobalSetup]
    public void Setup()
    {
        _env = EnvRegistry.CreateDiscrete(Task, 512, new Rng(5));
        _env.Reset();
        _actions = Enumerable.Range(0, 512).Select(i => i % _env.ActionCount).ToArray();
        _rewards = new float[512];
        _term = new bool[512];
        _trunc = new bool[512];
        _obs = new float[512 * _env.ObservationSize];
    }

    [Benchmark]
    public void StepAndObserve512()
    {
        _env.Step(_actions, _rewards, _term, _trunc);
        _env.Observe(_obs);
    }
}
