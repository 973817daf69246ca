using System.Diagnostics;
using Optim4RL.Optimizers.Learned;
using Xunit.Abstractions;
using static Optim4RL.Tests.Optimizers.Learned.LearnedTestData;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>
/// A Stopwatch measurement, not a test: runs only with OPTIM4RL_BENCH=1, e.g.
/// <c>OPTIM4RL_BENCH=1 dotnet test -c Release --filter "FullyQualifiedName~Optim4RLThroughput" --logger "console;verbosity=detailed"</c>.
/// </summary>
public class Optim4RLThroughput(ITestOutputHelper output)
{
    [Fact]
    public void Measure()
    {
        if (Environment.GetEnvironmentVariable("OPTIM4RL_BENCH") != "1") return;
        const int n = 1_000_000, k = 4;
        var opt = new Optim4RLOptimizer();
        var phi = RandomPhi(opt, 1);
        var state = RandomState(16 * n, 2);
        var grads = RandomGrads(k * n, 3);
        for (int i = 0; i < grads.Length; i++) grads[i] = Math.Clamp(grads[i], -1f, 1f);
        var lambda = RandomNormal(n, 4);
        var upd = new float[n];
        var mg = new float[opt.Layout.Count];
        output.WriteLine($"N = {n:N0}, SIMD width {opt.Execution.VectorWidth}, {Environment.ProcessorCount} logical CPUs");
        double bestStep = 0, bestMeta = 0;
        for (int rep = 0; rep < 6; rep++)
        {
            var sw = Stopwatch.StartNew();
            for (int s = 0; s < k; s++) opt.Step(phi, state, grads.AsSpan(s * n, n), upd, 0.01f);
            double tStep = sw.Elapsed.TotalSeconds;
            sw.Restart();
            opt.MetaGradient(phi, state, grads, k, lambda, 0.01f, mg);
            double tMeta = sw.Elapsed.TotalSeconds;
            bestStep = Math.Max(bestStep, k * (double)n / tStep / 1e6);
            bestMeta = Math.Max(bestMeta, k * (double)n / tMeta / 1e6);
        }
        output.WriteLine($"best of 6: Step {bestStep:F1} M coordinate-steps/s; MetaGradient (K = {k}, forward + backward) {bestMeta:F1} M coordinate-steps/s");
    }
}
