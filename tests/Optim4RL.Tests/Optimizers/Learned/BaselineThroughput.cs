using System.Diagnostics;
using Xunit.Abstractions;
using static Optim4RL.Tests.Optimizers.Learned.BaselineTestData;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>
/// A Stopwatch measurement of the baseline kernels, not a test: runs only with OPTIM4RL_BENCH=1, e.g.
/// <c>OPTIM4RL_BENCH=1 dotnet test -c Release --filter "FullyQualifiedName~BaselineThroughput" --logger "console;verbosity=detailed"</c>.
/// N = 1M coordinates as 64 parameter vectors of 15,625 (STAR normalises per vector; the GRU
/// baselines ignore the grouping), K = 4.
/// </summary>
public class BaselineThroughput(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(BaselineTestData.Names), MemberType = typeof(BaselineTestData))]
    public void Measure(string name)
    {
        if (Environment.GetEnvironmentVariable("OPTIM4RL_BENCH") != "1") return;
        const int n = 1_000_000, k = 4, group = n / 64;
        var opt = Create(name);
        var phi = Phi(opt, 1);
        var state = State(opt, n, 2, group);
        var grads = Grads(k * n, 3);
        var lambda = LearnedTestData.RandomNormal(n, 4);
        var upd = new float[n];
        var mg = new float[opt.Layout.Count];
        output.WriteLine($"{name}: N = {n:N0}, SIMD width {Width(opt)}, {Environment.ProcessorCount} logical CPUs");
        double bestStep = 0, bestMeta = 0;
        for (int rep = 0; rep < 6; rep++)
        {
            var sw = Stopwatch.StartNew();
            for (int s = 0; s < k; s++) opt.StepGrouped(phi, state, grads.AsSpan(s * n, n), upd, 0.01f, group);
            double tStep = sw.Elapsed.TotalSeconds;
            sw.Restart();
            opt.MetaGradientGrouped(phi, state, grads, k, lambda, 0.01f, mg, group);
            double tMeta = sw.Elapsed.TotalSeconds;
            bestStep = Math.Max(bestStep, k * (double)n / tStep / 1e6);
            bestMeta = Math.Max(bestMeta, k * (double)n / tMeta / 1e6);
        }
        output.WriteLine($"{name} best of 6: Step {bestStep:F1} M coordinate-steps/s; MetaGradient (K = {k}, forward + backward) {bestMeta:F1} M coordinate-steps/s");
    }
}
