using System.Numerics;
using System.Runtime.InteropServices;
using Optim4RL.Autodiff;

namespace Optim4RL.Agents;

/// <summary>The three terms of the last PPO loss computed (their sum is the loss).</summary>
/// <param name="Policy">−mean min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A).</param>
/// <param name="Value">0.25·mean((vs − v)²).</param>
/// <param name="Entropy">−entropy_cost·mean(entropy estimate).</param>
public readonly record struct PpoLossTerms(double Policy, double Value, double Entropy)
{
    /// <summary>The total loss.</summary>
    public double Total => Policy + Value + Entropy;
}

/// <summary>
/// The PPO loss of docs/algorithms.md, "PPO" (Brax's <c>compute_ppo_loss</c>) over a set of segments of a
/// <see cref="PpoBatch"/>, and its gradient ∇θ. θ and ∇θ are views into caller-owned vectors at an
/// offset, as for <see cref="A2CLoss{T}"/>.
/// </summary>
/// <remarks>
/// <para>For M segments of T steps (n = M·T rows), with values v of the current θ:</para>
/// <list type="number">
/// <item>GAE targets vs and advantages A per segment (<see cref="Gae"/>, rewards × reward_scaling),
/// held constant; A normalised over the n rows: (A − mean) / (std + 1e−8).</item>
/// <item>ρ = exp(log π_θ(u) − log π_behaviour(u)) on the stored raw actions (<see cref="TanhNormal"/>);
/// policy loss −mean(min(ρA, clip(ρ, 1 − ε, 1 + ε)A)).</item>
/// <item>value loss 0.25·mean((vs − v)²); entropy loss −c·mean(Σ_a entropy estimate) with the
/// reparameterised noise of <see cref="EntropyNoise"/>.</item>
/// </list>
/// <para>How the gradient is computed: the two networks run in a static <see cref="Graph{T}"/> (the
/// value network also on each segment's bootstrap observation). The loss head above is evaluated in
/// closed form in double together with its derivative G with respect to the network outputs, and G
/// is fed back through the graph as the adjoint of a surrogate Σ(out ⊙ G), whose θ-gradient is
/// exactly Gᵀ·∂out/∂θ. The finite-difference tests check the whole chain.</para>
/// <para>The segments are split into chunks of <see cref="ChunkSegments"/>, each with its own graph
/// and gradient buffer; chunks run in parallel and their gradients are summed in chunk order, so
/// the result does not depend on the thread count. All buffers are allocated once.</para>
/// </remarks>
/// <typeparam name="T"><c>float</c> in training, <c>double</c> in gradient tests.</typeparam>
public sealed class PpoLoss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private sealed class Chunk
    {
        public required Graph<T> Graph;
        public required Node<T> Obs, Policy, Value, AdjPolicy, AdjValue, Surrogate;
        public required int NetEnd;
        public required T[] Grad;
        public double PolicySum, ValueSum, EntropySum, KlSum;
        public int Clipped;
    }

    private readonly PpoConfig _cfg;
    private readonly int _t, _obs, _act, _offset, _p;
    private readonly T[] _grad;
    private readonly Chunk[] _chunks;
    private readonly int[] _segments;
    private readonly double[] _values, _targets, _adv, _boot;
    private readonly Action<int> _forwardChunk, _headChunk;
    private static readonly ParallelOptions DefaultParallelism = Tensors.Threads.Options(null);
    private PpoBatch? _batch;
    private int _count;

    /// <summary>Builds the chunk graphs for up to <paramref name="maxSegments"/> segments.</summary>
    /// <param name="nets">The policy and value networks.</param>
    /// <param name="cfg">Hyper-parameters (unroll length, γ, λ, ε, entropy cost, reward scaling).</param>
    /// <param name="maxSegments">The most segments one call may use (a multiple of <paramref name="chunkSegments"/>).</param>
    /// <param name="chunkSegments">Segments per chunk graph.</param>
    /// <param name="theta">The parameter vector holding this agent's θ at [offset, offset + P).</param>
    /// <param name="grad">The gradient vector; ∇θ is written (not accumulated) at the same offset.</param>
    /// <param name="offset">Start of this agent's θ.</param>
    /// <exception cref="ArgumentException">The sizes do not divide.</exception>
    public PpoLoss(PpoNetworks nets, PpoConfig cfg, int maxSegments, int chunkSegments, T[] theta, T[] grad, int offset)
    {
        if (chunkSegments < 1 || maxSegments < chunkSegments || maxSegments % chunkSegments != 0)
            throw new ArgumentException($"maxSegments ({maxSegments}) must be a positive multiple of chunkSegments ({chunkSegments}).", nameof(chunkSegments));
        _cfg = cfg;
        _t = cfg.UnrollLength;
        _obs = nets.ObservationSize;
        _act = nets.ActionSize;
        _grad = grad;
        _offset = offset;
        _p = nets.ParamCount;
        ChunkSegments = chunkSegments;
        MaxSegments = maxSegments;
        int rows = maxSegments * _t;
        _segments = new int[maxSegments];
        _values = new double[rows];
        _targets = new double[rows];
        _adv = new double[rows];
        _boot = new double[maxSegments];
        EntropyNoise = new double[rows * _act];

        _chunks = new Chunk[maxSegments / chunkSegments];
        for (int c = 0; c < _chunks.Length; c++)
        {
            var chunkGrad = new T[theta.Length];
            int steps = chunkSegments * _t;
            var g = new Graph<T>();
            var obs = g.Input(steps + chunkSegments, _obs);
            var policy = nets.BuildPolicy(g, g.SliceRows(obs, 0, steps), theta, chunkGrad, offset);
            var value = nets.BuildValue(g, obs, theta, chunkGrad, offset);
            int netEnd = g.Count;
            var adjP = g.Input(steps, 2 * _act);
            var adjV = g.Input(steps + chunkSegments, 1);
            var sur = g.Add(g.Sum(g.Mul(policy, adjP)), g.Sum(g.Mul(value, adjV)));
            _chunks[c] = new Chunk { Graph = g, Obs = obs, Policy = policy, Value = value, AdjPolicy = adjP, AdjValue = adjV, Surrogate = sur, NetEnd = netEnd, Grad = chunkGrad };
        }
        _forwardChunk = ForwardChunk;
        _headChunk = HeadChunk;
    }

    /// <summary>Segments per chunk graph.</summary>
    public int ChunkSegments { get; }

    /// <summary>The most segments one call may use.</summary>
    public int MaxSegments { get; }

    /// <summary>
    /// The entropy estimate's standard-normal noise ε, [rows, A] with row = position·T + t for the
    /// position of a segment in the call's list. The caller fills it (Brax draws it per minibatch).
    /// </summary>
    public double[] EntropyNoise { get; }

    /// <summary>Parallelism of the chunks (null: one thread per core).</summary>
    public ParallelOptions? Parallelism { get; set; }

    /// <summary>The terms of the last computed loss.</summary>
    public PpoLossTerms LastTerms { get; private set; }

    /// <summary>Mean of (ρ − 1) − log ρ over the last loss's rows: an estimate of KL(π_behaviour ‖ π_θ) in nats (0 before any update of the batch).</summary>
    public double LastApproxKl { get; private set; }

    /// <summary>Fraction of the last loss's rows whose ratio ρ lies outside [1 − ε, 1 + ε].</summary>
    public double LastClipFraction { get; private set; }

    /// <summary>Mean entropy estimate (nats, summed over action dimensions) over the last loss's rows.</summary>
    public double LastEntropy { get; private set; }

    /// <summary>
    /// Computes the loss over the listed segments of <paramref name="batch"/> (whose observations
    /// are already normalised) under the current θ, writes ∇θ (overwriting this agent's slice of the
    /// gradient vector), and returns the loss.
    /// </summary>
    /// <exception cref="ArgumentException">The segment count is not a positive multiple of <see cref="ChunkSegments"/> up to <see cref="MaxSegments"/>, or the batch does not match.</exception>
    public double LossAndGradient(PpoBatch batch, ReadOnlySpan<int> segments) => LossAndGradient(batch, segments, recomputeTargets: true);

    /// <summary>
    /// As <see cref="LossAndGradient(PpoBatch, ReadOnlySpan{int})"/>; with <paramref name="recomputeTargets"/>
    /// false the targets and normalised advantages of the previous call are kept (the same segments
    /// must be passed), so the loss is the function whose gradient the semi-gradient is (used to
    /// check it by finite differences).
    /// </summary>
    internal double LossAndGradient(PpoBatch batch, ReadOnlySpan<int> segments, bool recomputeTargets)
    {
        int count = segments.Length;
        if (count < 1 || count > MaxSegments || count % ChunkSegments != 0)
            throw new ArgumentException($"{count} segments: expected a positive multiple of {ChunkSegments} up to {MaxSegments}.", nameof(segments));
        if (batch.Unroll != _t || batch.ObservationSize != _obs || batch.ActionSize != _act)
            throw new ArgumentException("The batch's unroll length, observation size or action size does not match the loss.", nameof(batch));
        segments.CopyTo(_segments);
        _batch = batch;
        _count = count;
        int chunks = count / ChunkSegments;

        Run(chunks, _forwardChunk);
        if (recomputeTargets) ComputeTargets(batch, count);
        Run(chunks, _headChunk);

        double policy = 0, value = 0, entropy = 0, kl = 0;
        long clipped = 0;
        Span<T> dst = _grad.AsSpan(_offset, _p);
        _chunks[0].Grad.AsSpan(_offset, _p).CopyTo(dst);
        for (int c = 0; c < chunks; c++)
        {
            if (c > 0) System.Numerics.Tensors.TensorPrimitives.Add(dst, _chunks[c].Grad.AsSpan(_offset, _p), dst);
            policy += _chunks[c].PolicySum;
            value += _chunks[c].ValueSum;
            entropy += _chunks[c].EntropySum;
            kl += _chunks[c].KlSum;
            clipped += _chunks[c].Clipped;
        }
        double n = (double)count * _t;
        LastTerms = new PpoLossTerms(-policy / n, 0.25 * value / n, -_cfg.EntropyCost * entropy / n);
        LastApproxKl = kl / n;
        LastClipFraction = clipped / n;
        LastEntropy = entropy / n;
        _batch = null;
        return LastTerms.Total;
    }

    /// <summary>Value targets vs of the last call, [rows] in call order (for tests).</summary>
    internal ReadOnlySpan<double> Targets => _targets.AsSpan(0, _count * _t);

    /// <summary>Advantages (normalised when configured) of the last call, [rows] in call order (for tests).</summary>
    internal ReadOnlySpan<double> Advantages => _adv.AsSpan(0, _count * _t);

    /// <summary>Values v of the last call, [rows] in call order (for tests).</summary>
    internal ReadOnlySpan<double> Values => _values.AsSpan(0, _count * _t);

    private void Run(int chunks, Action<int> body)
    {
        if (chunks == 1 || Parallelism?.MaxDegreeOfParallelism == 1)
        {
            for (int c = 0; c < chunks; c++) body(c);
        }
        else
        {
            Parallel.For(0, chunks, Parallelism ?? DefaultParallelism, body);
        }
    }

    /// <summary>Fills chunk c's observation rows and runs its networks forward; stores values.</summary>
    private void ForwardChunk(int c)
    {
        var chunk = _chunks[c];
        var batch = _batch!;
        int cs = ChunkSegments, steps = cs * _t;
        Span<T> x = chunk.Obs.Value.Span;
        for (int s = 0; s < cs; s++)
        {
            ReadOnlySpan<float> src = batch.SegmentObservations(_segments[c * cs + s]);
            Convert(src[..(_t * _obs)], x.Slice(s * _t * _obs, _t * _obs));
            Convert(src.Slice(_t * _obs, _obs), x.Slice((steps + s) * _obs, _obs));
        }
        chunk.Graph.Forward(0, chunk.NetEnd);
        ReadOnlySpan<T> v = chunk.Value.Value.Span;
        for (int r = 0; r < steps; r++) _values[c * steps + r] = double.CreateChecked(v[r]);
        for (int s = 0; s < cs; s++) _boot[c * cs + s] = double.CreateChecked(v[steps + s]);
    }

    /// <summary>GAE per segment, then advantage normalisation over all rows (population std, as jnp.std).</summary>
    private void ComputeTargets(PpoBatch batch, int count)
    {
        int t = _t;
        for (int p = 0; p < count; p++)
        {
            int seg = _segments[p];
            Gae.Compute(batch.Rewards.AsSpan(seg * t, t), _cfg.RewardScaling, batch.Terminations.AsSpan(seg * t, t), batch.Truncations.AsSpan(seg * t, t),
                _values.AsSpan(p * t, t), _boot[p], _cfg.Discount, _cfg.GaeLambda, _targets.AsSpan(p * t, t), _adv.AsSpan(p * t, t));
        }
        if (!_cfg.NormalizeAdvantage) return;
        int n = count * t;
        double mean = 0;
        for (int i = 0; i < n; i++) mean += _adv[i];
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; i++) var += (_adv[i] - mean) * (_adv[i] - mean);
        double denom = Math.Sqrt(var / n) + 1e-8;
        for (int i = 0; i < n; i++) _adv[i] = (_adv[i] - mean) / denom;
    }

    /// <summary>Chunk c's loss terms and their derivative with respect to the network outputs, then backward.</summary>
    private void HeadChunk(int c)
    {
        var chunk = _chunks[c];
        var batch = _batch!;
        int cs = ChunkSegments, steps = cs * _t, a = _act;
        double n = (double)_count * _t;
        double eps = _cfg.ClippingEpsilon, cost = _cfg.EntropyCost;
        double entCoef = -cost / n;
        ReadOnlySpan<T> pol = chunk.Policy.Value.Span;
        Span<T> adjP = chunk.AdjPolicy.Value.Span;
        Span<T> adjV = chunk.AdjValue.Value.Span;
        double policySum = 0, valueSum = 0, entropySum = 0, klSum = 0;
        int clipped = 0;
        for (int r = 0; r < steps; r++)
        {
            int gr = c * steps + r;
            int seg = _segments[c * cs + r / _t];
            int bi = seg * _t + r % _t;
            ReadOnlySpan<T> outRow = pol.Slice(r * 2 * a, 2 * a);
            ReadOnlySpan<float> u = batch.RawActions.AsSpan(bi * a, a);
            ReadOnlySpan<double> noise = EntropyNoise.AsSpan(gr * a, a);

            double logp = 0;
            for (int i = 0; i < a; i++)
                logp += TanhNormal.LogProb(u[i], double.CreateChecked(outRow[i]), TanhNormal.Scale(double.CreateChecked(outRow[a + i])));
            double logRho = logp - batch.LogProbs[bi];
            double rho = Math.Exp(logRho);
            klSum += rho - 1 - logRho;
            if (Math.Abs(rho - 1) > eps) clipped++;
            double adv = _adv[gr];
            double s1 = rho * adv, s2 = Math.Clamp(rho, 1 - eps, 1 + eps) * adv;
            policySum += Math.Min(s1, s2);
            // d min(ρA, clip(ρ)A)/dρ: A on the unclipped branch (inside the clip range both branches agree), else 0.
            double dLogp = -(s1 <= s2 ? adv : 0) * rho / n;

            Span<T> adjRow = adjP.Slice(r * 2 * a, 2 * a);
            for (int i = 0; i < a; i++)
            {
                double loc = double.CreateChecked(outRow[i]);
                double raw = double.CreateChecked(outRow[a + i]);
                double scale = TanhNormal.Scale(raw);
                double d = u[i] - loc;
                double e = noise[i];
                double z = loc + scale * e;
                entropySum += TanhNormal.EntropyEstimate(loc, scale, e);
                double tz = Math.Tanh(z);
                double dLoc = dLogp * d / (scale * scale) + entCoef * (-2 * tz);
                double dScale = dLogp * (d * d / (scale * scale * scale) - 1 / scale) + entCoef * (1 / scale - 2 * tz * e);
                adjRow[i] = T.CreateChecked(dLoc);
                adjRow[a + i] = T.CreateChecked(dScale * TanhNormal.Sigmoid(raw));
            }

            double v = _values[gr], vs = _targets[gr];
            valueSum += (vs - v) * (vs - v);
            adjV[r] = T.CreateChecked(0.5 * (v - vs) / n);
        }
        adjV.Slice(steps, cs).Clear();
        chunk.PolicySum = policySum;
        chunk.ValueSum = valueSum;
        chunk.EntropySum = entropySum;
        chunk.KlSum = klSum;
        chunk.Clipped = clipped;

        chunk.Grad.AsSpan(_offset, _p).Clear();
        chunk.Graph.Forward(chunk.NetEnd, chunk.Graph.Count);
        chunk.Graph.Backward(chunk.Surrogate);
    }

    private static void Convert(ReadOnlySpan<float> src, Span<T> dst)
    {
        if (typeof(T) == typeof(float))
        {
            src.CopyTo(MemoryMarshal.Cast<T, float>(dst));
            return;
        }
        for (int i = 0; i < src.Length; i++) dst[i] = T.CreateChecked(src[i]);
    }
}
