using System.Diagnostics;
using Optim4RL.Tensors;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>The result of <see cref="MuJoCoThroughput.Measure"/>.</summary>
/// <param name="Task">Task name.</param>
/// <param name="NumEnvs">Environments in the batch.</param>
/// <param name="Threads">MaxDegreeOfParallelism used (−1: all cores).</param>
/// <param name="EnvStepsPerSecond">Environment steps (of frame-skip physics steps each) per wall-clock second, all environments together.</param>
/// <param name="MjStepsPerSecond">EnvStepsPerSecond × frame skip.</param>
/// <param name="Episodes">Episodes that ended during the measurement.</param>
/// <param name="EnvStepsPerCpuSecond">Environment steps per second of this process's CPU time (all threads): less
/// sensitive than the wall-clock rate to other processes competing for the cores.</param>
public readonly record struct MuJoCoThroughputResult(
    string Task, int NumEnvs, int Threads, double EnvStepsPerSecond, double MjStepsPerSecond, long Episodes, double EnvStepsPerCpuSecond);

/// <summary>
/// Physics-only throughput of the MuJoCo tasks: a <see cref="MuJoCoVectorEnv"/> stepped with uniformly random actions in
/// [−1, 1] (drawn before timing), with auto-reset, and no policy. Measures <see cref="MuJoCoVectorEnv.Step"/> plus
/// <see cref="MuJoCoVectorEnv.Observe"/> with a <see cref="Stopwatch"/>.
/// </summary>
public static class MuJoCoThroughput
{
    /// <summary>Times <paramref name="steps"/> batch steps after <paramref name="warmup"/> untimed ones.</summary>
    /// <param name="task">A task name of <see cref="EnvRegistry.ContinuousNames"/>.</param>
    /// <param name="numEnvs">Batch size (e.g. 64).</param>
    /// <param name="steps">Timed batch steps.</param>
    /// <param name="threads">MaxDegreeOfParallelism (−1: all cores).</param>
    /// <param name="warmup">Untimed batch steps first.</param>
    /// <param name="seed">Seed of the environments and the actions.</param>
    public static MuJoCoThroughputResult Measure(string task, int numEnvs = 64, int steps = 200, int threads = -1, int warmup = 10, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        using var env = MuJoCoTasks.Create(task, numEnvs, new Rng(seed), new MuJoCoEnvOptions { MaxDegreeOfParallelism = threads });
        var rng = new Rng(seed ^ 0x5EED);
        int n = numEnvs * env.ActionSize;
        var actions = new float[(warmup + steps) * n];
        for (int k = 0; k < actions.Length; k++) actions[k] = (float)(2 * rng.NextDouble() - 1);
        var rewards = new float[numEnvs];
        var terminated = new bool[numEnvs];
        var truncated = new bool[numEnvs];
        var obs = new float[numEnvs * env.ObservationSize];
        for (int t = 0; t < warmup; t++)
        {
            env.Step(actions.AsSpan(t * n, n), rewards, terminated, truncated);
            env.Observe(obs);
        }

        long episodes = 0;
        var process = Process.GetCurrentProcess();
        TimeSpan cpu0 = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        for (int t = warmup; t < warmup + steps; t++)
        {
            env.Step(actions.AsSpan(t * n, n), rewards, terminated, truncated);
            env.Observe(obs);
            for (int i = 0; i < numEnvs; i++)
            {
                if (terminated[i] || truncated[i]) episodes++;
            }
        }

        double seconds = sw.Elapsed.TotalSeconds;
        process.Refresh();
        double cpuSeconds = (process.TotalProcessorTime - cpu0).TotalSeconds;
        double envSteps = (double)steps * numEnvs / seconds;
        return new MuJoCoThroughputResult(env.Name, numEnvs, threads, envSteps, envSteps * env.Task.FrameSkip, episodes,
            (double)steps * numEnvs / Math.Max(cpuSeconds, 1e-9));
    }
}
