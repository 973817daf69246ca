using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Optim4RL.Agents;

/// <summary>The phases of a meta-iteration that <see cref="PhaseClock"/> times on the calling thread (wall and process CPU time).</summary>
internal enum MetaPhase
{
    /// <summary>Pipeline resets: fresh θ, zero state, fresh episode for the agents whose stage ends.</summary>
    Resets,

    /// <summary>The K inner updates' rollouts and A2C gradients, all agents in parallel.</summary>
    InnerRollouts,

    /// <summary>The K learned-optimizer steps over all B·P coordinates (clip, step, θ += Δ).</summary>
    InnerKernel,

    /// <summary>The meta-loss: one more rollout and A2C gradient (the adjoint λ) of every agent, and the loss folded over agents.</summary>
    MetaLossRollout,

    /// <summary>The meta-gradient kernel: the K steps recomputed from h_0 and swept backwards, summed over agents.</summary>
    MetaGradientKernel,

    /// <summary>The meta-optimizer's step on φ (norms, Adam, the finite check).</summary>
    MetaUpdate,
}

/// <summary>Which parallel region an agent's <see cref="AgentPhase"/> time belongs to.</summary>
internal enum PhaseRegion
{
    /// <summary>The rollouts and gradients of the K inner updates.</summary>
    Inner,

    /// <summary>The meta-loss rollout and gradient.</summary>
    MetaLoss,
}

/// <summary>The parts of one agent's rollout and A2C gradient that <see cref="PhaseClock"/> times (thread time, summed over threads).</summary>
internal enum AgentPhase
{
    /// <summary>Writing the environment's observation into the network's input.</summary>
    Observe,

    /// <summary>The network's forward pass for one time step while acting.</summary>
    NetForward,

    /// <summary>Sampling the actions from the logits.</summary>
    Sample,

    /// <summary>Stepping the environment and recording rewards, dones and episode returns.</summary>
    EnvStep,

    /// <summary>λ-return targets, the loss ops' forward pass, clearing the agent's gradient slice.</summary>
    LossForward,

    /// <summary>The backward pass through the loss and the network (∇θ).</summary>
    Backward,
}

/// <summary>
/// Where a meta-iteration's time goes, for measurements (<c>MetaScaleMeasurements.Phase_shares_at_paper_scale</c>):
/// the trainer's phases on the calling thread (<see cref="MetaPhase"/>, wall and process CPU time) and the
/// parts of every agent's rollout (<see cref="AgentPhase"/>, thread time summed over threads, per
/// <see cref="PhaseRegion"/>).
/// </summary>
/// <remarks>
/// Off unless the process starts with <c>OPTIM4RL_PHASES=1</c>. <see cref="Enabled"/> is a static readonly
/// field, which the JIT treats as a constant once the class is initialised, so when it is false every hook
/// compiles to nothing and the product code runs as it would without them. Timing never changes a result.
/// </remarks>
internal static class PhaseClock
{
    /// <summary>Whether the hooks record (the process's <c>OPTIM4RL_PHASES</c> is "1").</summary>
    internal static readonly bool Enabled = Environment.GetEnvironmentVariable("OPTIM4RL_PHASES") == "1";

    private static readonly int PhaseCount = Enum.GetValues<MetaPhase>().Length;
    private static readonly int AgentPhaseCount = Enum.GetValues<AgentPhase>().Length;
    private static readonly int RegionCount = Enum.GetValues<PhaseRegion>().Length;

    private static readonly long[] WallTicks = new long[PhaseCount];
    private static readonly long[] CpuTicks = new long[PhaseCount]; // TimeSpan ticks
    private static readonly ConcurrentBag<long[]> ThreadTicks = [];

    [ThreadStatic]
    private static long[]? t_ticks;

    /// <summary>The region the agents' times go to (set by the trainer's thread before a parallel region).</summary>
    private static int s_region;

    /// <summary>A start of a <see cref="MetaPhase"/>: wall timestamp and process CPU time.</summary>
    internal readonly record struct Mark(long Wall, TimeSpan Cpu);

    /// <summary>Starts a trainer phase (default when off).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Mark Begin() => Enabled ? new Mark(Stopwatch.GetTimestamp(), Environment.CpuUsage.TotalTime) : default;

    /// <summary>Starts a trainer phase whose agents' times go to <paramref name="region"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Mark Begin(PhaseRegion region)
    {
        if (!Enabled) return default;
        s_region = (int)region;
        return Begin();
    }

    /// <summary>Adds the time since <paramref name="start"/> to <paramref name="phase"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void End(MetaPhase phase, Mark start)
    {
        if (!Enabled) return;
        WallTicks[(int)phase] += Stopwatch.GetTimestamp() - start.Wall;
        CpuTicks[(int)phase] += (Environment.CpuUsage.TotalTime - start.Cpu).Ticks;
    }

    /// <summary>A timestamp for <see cref="Lap"/> (0 when off).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Now() => Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Adds the time since <paramref name="since"/> to this thread's <paramref name="phase"/> of the current region; returns now.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Lap(AgentPhase phase, long since)
    {
        if (!Enabled) return 0;
        long now = Stopwatch.GetTimestamp();
        var ticks = t_ticks ?? Register();
        ticks[s_region * AgentPhaseCount + (int)phase] += now - since;
        return now;
    }

    private static long[] Register()
    {
        var ticks = new long[RegionCount * AgentPhaseCount];
        ThreadTicks.Add(ticks);
        return t_ticks = ticks;
    }

    /// <summary>Clears every total (call while nothing is being timed).</summary>
    internal static void Reset()
    {
        Array.Clear(WallTicks);
        Array.Clear(CpuTicks);
        foreach (var t in ThreadTicks) Array.Clear(t);
    }

    /// <summary>Wall seconds of <paramref name="phase"/> since the last <see cref="Reset"/>.</summary>
    internal static double WallSeconds(MetaPhase phase) => WallTicks[(int)phase] / (double)Stopwatch.Frequency;

    /// <summary>Process CPU seconds (all threads) during <paramref name="phase"/> since the last <see cref="Reset"/>.</summary>
    internal static double CpuSeconds(MetaPhase phase) => TimeSpan.FromTicks(CpuTicks[(int)phase]).TotalSeconds;

    /// <summary>Thread seconds, summed over threads, of the agents' <paramref name="phase"/> in <paramref name="region"/> since the last <see cref="Reset"/>.</summary>
    internal static double AgentSeconds(PhaseRegion region, AgentPhase phase) =>
        ThreadTicks.Sum(t => t[(int)region * AgentPhaseCount + (int)phase]) / (double)Stopwatch.Frequency;
}
