using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Optim4RL.Tensors;
using static Optim4RL.Optimizers.Learned.LearnedSimd;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// The STAR learned optimizer (Harrison, Metz and Sohl-Dickstein 2022, "A Closer Look at Learned
/// Optimization: Stability, Robustness, and Inductive Biases"; docs/algorithms.md): learned_optimization's
/// <c>MLPNomLOpt</c> as the reference configures it — an MLP (2 hidden layers of 4, ReLU) over
/// Adam/AggMo/Adafactor-style accumulator features and a training-step embedding, whose output
/// step is added to a nominal AdamAggMo step of size 10⁻³.
/// </summary>
/// <remarks>
/// <para><b>Per coordinate, per step</b> (g already clipped by the caller; β from φ, see below):
/// momenta mᵢ ← βmᵢ·mᵢ + (1 − βmᵢ)·g (i = 1..3), second moment r ← βr·r + (1 − βr)·g²,
/// Adafactor-style second moments vᵢ ← βvᵢ·vᵢ + (1 − βvᵢ)·(g² + 10⁻³⁰) (the unfactored/vector form:
/// θ is a flat vector, so MLPNomLOpt's factored row/column statistics do not apply and it uses
/// v itself in their place). With ρ = (r + 10⁻⁶)^−½ the 27 features are, in MLPNomLOpt's order:
/// g; m₁..₃; r; mᵢρ (Adam); ρ; g·(vᵢ + 10⁻⁹)^−½ (Adafactor-preconditioned g); vᵢ; vᵢ (again, for
/// the row feature); (vᵢ + 10⁻⁸)^−½; the same again (column); mᵢ·(vᵢ + 10⁻⁶)^−½. Each feature is
/// divided by its root mean square over the coordinates of its parameter vector (+10⁻⁵ inside the
/// root; MLPNomLOpt's <c>second_moment_normalizer</c>); then the 11 training-step features
/// tanh(t/τ − 1), τ ∈ {1, 3, 10, …, 10⁵}, t the number of earlier steps, are appended
/// unnormalised. The MLP 38 → 4 → 4 → 4 gives direction d = out₀ and magnitude μ = out₁ (out₂,
/// out₃ are unused, as without MLPNomLOpt's controllers), and
/// Δθ = −α·d·exp(10⁻³·μ) − 10⁻³·exp(10⁻³)·mean₁..₃(mᵢρ).
/// α (the config's learning_rate, the reference's <c>step_mult</c>) scales the MLP step only.</para>
/// <para><b>Differences from MLPNomLOpt</b>, all forced by the optimizer interface or the flat θ:
/// (1) the parameter value θ itself is not a feature (<see cref="IOptimizer"/> and
/// <see cref="ILearnedOptimizer"/> pass only g), so the first layer has 38 inputs, not 39;
/// (2) the normaliser's statistics run over one parameter vector (one agent's θ, the
/// <c>groupSize</c> of <see cref="LearnedOptimizerBase.StepGrouped(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, Span{float}, float, int)"/>) instead of over each parameter tensor (each layer's
/// kernel and bias); (3) the Adafactor accumulators use the unfactored form for every coordinate
/// (a flat vector has no row/column structure); (4) g is a constant with respect to φ (as for every learned optimizer here), so
/// no second-order terms of the RL loss enter the meta-gradient (the reference's JAX version
/// differentiates through the agent gradient too). The reference's <c>train_steps</c> kwarg only
/// sets MLPNomLOpt's <c>num_steps</c>, which none of its computations read; it has no counterpart
/// here.</para>
/// <para><b>φ layout</b> (203 floats, MLPNomLOpt's names): <c>momentum_decays</c> [3],
/// <c>rms_decays</c> [1], <c>adafactor_decays</c> [3] (all zero at init), then <c>nn.w0</c> [38, 4],
/// <c>nn.b0</c> [4], <c>nn.w1</c> [4, 4], <c>nn.b1</c> [4], <c>nn.w2</c> [4, 4], <c>nn.b2</c> [4].
/// A decay is β = 1 − (1 − β₀)·exp(10·φ) with β₀ = (0.9, 0.99, 0.999) for the momenta, 0.999 for
/// r, (0.9, 0.99, 0.999) for v; βr and βv are clipped to [0, 1]. The decays are meta-learned, so
/// the accumulators — the recurrent state — depend on φ.</para>
/// <para><b>State</b>: [8, N]: units 0–2 the momenta, 3 r, 4–6 v, 7 the step count t (equal over
/// one agent's coordinates; zero at init and after a pipeline reset).</para>
/// <para><b>Kernel</b>: a step is two passes of <see cref="LearnedKernelDriver"/> over chunks of at
/// most 4096 coordinates that never straddle two parameter vectors, under Parallel.For — (1)
/// update the accumulators and sum the squared features per chunk, (2) normalise, run the MLP and
/// write Δ — with each vector's per-chunk partial sums reduced in chunk order in double, so results
/// are bitwise identical for any thread count (they differ in the last bits between SIMD widths,
/// whose lane sums differ).</para>
/// <para><b>Meta-gradient</b>: θ does not feed back into the optimizer, so with the output adjoint λ
/// on every step L = Σₖ Σₙ λₙ·Δₖ,ₙ. The MLP weights get ordinary per-coordinate back-propagation.
/// The decays act through the accumulators and the normaliser; their gradient is taken in forward
/// mode (one tangent per accumulator with respect to its own decay, carried through the K steps),
/// and the normaliser's cross-coordinate term needs only per-vector sums: with x̂ = s·x,
/// s = (10⁻⁵ + mean x²)^−½, Σₙ x̄̂·dx̂/dβ = s·Σ x̄̂·ẋ − (s³/G)·(Σ x̄̂·x)·(Σ x·ẋ). So MetaGradient
/// is two passes: the normaliser statistics of the K steps, then forward, backward and those sums.</para>
/// <para>One instance may serve several threads at once: a call keeps its state in locals and
/// pooled buffers, and <see cref="LearnedOptimizerBase.MaxDegreeOfParallelism"/> caps the threads each call uses.</para>
/// </remarks>
public sealed unsafe class StarOptimizer : LearnedOptimizerBase
{
    /// <summary>Hidden width of the MLP (MLPNomLOpt's hidden_size).</summary>
    public const int Hidden = 4;

    /// <summary>Normalised accumulator features per coordinate.</summary>
    public const int FeatureCount = 27;

    /// <summary>Training-step features (tanh embedding over 11 timescales).</summary>
    public const int StepFeatureCount = 11;

    /// <summary>MLP inputs: <see cref="FeatureCount"/> + <see cref="StepFeatureCount"/>.</summary>
    public const int InputCount = FeatureCount + StepFeatureCount;

    /// <summary>The nominal step size (the reference's StarWrapper default).</summary>
    public const double NominalStepSize = 1e-3;

    /// <summary>MLPNomLOpt's exp_mult: the scale of the magnitude output inside exp, and of the (constant) nominal magnitude.</summary>
    public const double ExpMult = 1e-3;

    /// <summary>The ε of the feature normaliser, 1/√(ε + mean x²).</summary>
    public const double NormalizerEpsilon = 1e-5;

    private const int Outs = 4;
    private const int OffMom = 0, OffRms = 3, OffFac = 4;
    private const int OffW0 = 7, OffB0 = OffW0 + InputCount * Hidden, OffW1 = OffB0 + Hidden, OffB1 = OffW1 + Hidden * Hidden;
    private const int OffW2 = OffB1 + Hidden, OffB2 = OffW2 + Hidden * Outs, ParamCount = OffB2 + Outs;
    private const int Units = 8, UnitT = 7;
    private const int Decays = 7;

    // The feature/decay pairs (f, d) with a nonzero ∂x_f/∂β_d; decays d: 0–2 momenta, 3 r, 4–6 v.
    private const int Pairs = 32;
    private static readonly int[] PairFeature =
        [1, 2, 3, 4, 5, 6, 7, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 24, 25, 26];
    private static readonly int[] PairDecay =
        [0, 1, 2, 3, 0, 1, 2, 3, 3, 3, 3, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 6, 0, 1, 2, 4, 5, 6];

    // Per (vector, step) sums of the meta pass: B_f = Σ x̄̂_f·x_f (27), then C_p = Σ x_f·ẋ_p (32).
    private const int SumsPerStep = FeatureCount + Pairs;

    /// <summary>The initial decays β₀ (MLPNomLOpt's defaults), in φ order: momenta, r, v.</summary>
    public static IReadOnlyList<double> InitialDecays { get; } = [0.9, 0.99, 0.999, 0.999, 0.9, 0.99, 0.999];

    /// <summary>The timescales τ of the training-step features tanh(t/τ − 1).</summary>
    public static IReadOnlyList<float> Timescales { get; } = [1f, 3f, 10f, 30f, 100f, 300f, 1000f, 3000f, 10000f, 30000f, 100000f];

    // Per-call constants: [0,7) β, [7,14) 1 − β, [14,25) 1/τ, 25 the nominal coefficient 10⁻³·e^{10⁻³}.
    private const int CoefBeta = 0, CoefOneMinus = 7, CoefInvTau = 14, CoefNominal = 25, CoefCount = 26;

    private readonly MetaParamLayout _layout;

    /// <summary>Creates the kernel; it holds no φ (φ is an argument of every call).</summary>
    public StarOptimizer()
    {
        _layout = new MetaParamLayout();
        _layout.Add("momentum_decays", 3);
        _layout.Add("rms_decays", 1);
        _layout.Add("adafactor_decays", 3);
        _layout.Add("nn.w0", InputCount, Hidden);
        _layout.Add("nn.b0", Hidden);
        _layout.Add("nn.w1", Hidden, Hidden);
        _layout.Add("nn.b1", Hidden);
        _layout.Add("nn.w2", Hidden, Outs);
        _layout.Add("nn.b2", Outs);
        if (_layout.Count != ParamCount) throw new InvalidOperationException("STAR layout size mismatch.");
    }

    /// <inheritdoc />
    public override string Name => "STAR";

    /// <summary>The MLP's hidden width, 4 (STAR has no recurrent cell).</summary>
    public override int HiddenSize => Hidden;

    /// <summary>8 floats per coordinate: 3 momenta, r, 3 Adafactor moments, the step count.</summary>
    public override int StateSize => Units;

    /// <inheritdoc />
    public override MetaParamLayout Layout => _layout;

    /// <summary>
    /// MLPNomLOpt's initialisation: decays zero (β = β₀); every MLP weight matrix haiku
    /// TruncatedNormal with stddev 1/√fan_in (fan_in 38, 4, 4; truncated at ±2 stddev); biases zero.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="phi"/> is not <c>Layout.Count</c> long.</exception>
    public override void InitMetaParams(ref Rng rng, Span<float> phi)
    {
        if (phi.Length != ParamCount) throw new ArgumentException($"φ must have {ParamCount} elements, got {phi.Length}.", nameof(phi));
        phi.Clear();
        FlaxInit.HaikuTruncatedNormal(ref rng, phi.Slice(OffW0, InputCount * Hidden), 1 / Math.Sqrt(InputCount));
        FlaxInit.HaikuTruncatedNormal(ref rng, phi.Slice(OffW1, Hidden * Hidden), 1 / Math.Sqrt(Hidden));
        FlaxInit.HaikuTruncatedNormal(ref rng, phi.Slice(OffW2, Hidden * Outs), 1 / Math.Sqrt(Hidden));
    }

    /// <summary>
    /// The decay β of each accumulator for φ (momenta, r, v), and dβ/dφ (0 where clipped):
    /// β = 1 − (1 − β₀)·exp(10·φ), clipped to [0, 1] for r and v.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="phi"/> is not <c>Layout.Count</c> long.</exception>
    public static double[] DecaysOf(ReadOnlySpan<float> phi)
    {
        if (phi.Length != ParamCount) throw new ArgumentException($"φ must have {ParamCount} elements, got {phi.Length}.", nameof(phi));
        var beta = new double[Decays];
        ComputeDecays(phi, beta, new double[Decays]);
        return beta;
    }

    private static void ComputeDecays(ReadOnlySpan<float> phi, Span<double> beta, Span<double> dBeta)
    {
        for (int d = 0; d < Decays; d++)
        {
            // MLPNomLOpt: param_to_decay(decay_to_param(β₀) + φ) with decay_to_param(x) = ln(1 − x)/10.
            double e = Math.Exp(10 * (Math.Log(1 - InitialDecays[d]) / 10 + phi[d]));
            double b = 1 - e;
            double db = -10 * e;
            if (d >= OffRms && (b < 0 || b > 1))
            {
                b = Math.Clamp(b, 0, 1);
                db = 0;
            }
            beta[d] = b;
            dBeta[d] = db;
        }
    }

    /// <summary>
    /// One STAR step over N = <c>grads.Length</c> coordinates that form N / <paramref name="groupSize"/>
    /// parameter vectors (the features are normalised per vector), from state <paramref name="from"/> [8, N]
    /// to state <paramref name="to"/> (the same state, or one that does not overlap it); α scales the MLP step
    /// (MLPNomLOpt's step_mult). <paramref name="updates"/> may alias <paramref name="grads"/>; allocates nothing
    /// in the steady state. STAR keeps a float32 state only: its step runs two passes over the state, so a
    /// bfloat16 state would be rounded between them.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length, the grouping does not fit, or the states partly overlap.</exception>
    /// <exception cref="NotSupportedException">A bfloat16 state.</exception>
    public override void StepGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates, float learningRate, int groupSize)
    {
        RequireFloat32(from.Dtype);
        LearnedKernelDriver.CheckStep(ParamCount, Units, phi, from, to, grads, updates, groupSize);
        int n = grads.Length;
        if (n == 0) return;
        var run = Execution.Snapshot();
        var plan = new ChunkPlan(n, groupSize);
        float* coef = stackalloc float[CoefCount];
        Coefficients(phi, coef, stackalloc double[Decays]);
        double[] partials = LearnedKernelDriver.RentPartials(plan.Count, FeatureCount);
        float[] scales = ArrayPool<float>.Shared.Rent(plan.Groups * FeatureCount);
        try
        {
            fixed (float* pPhi = phi, pGrads = grads, pUpd = updates, pScales = scales)
            fixed (byte* pFrom = from, pTo = to)
            fixed (double* pp = partials)
            {
                // The statistics pass moves the state from → to; the apply pass then works on it in place.
                var stats = new StatsPass(1, true, coef);
                LearnedKernelDriver.Run(in stats, run, plan, pPhi, new StateRef(pFrom, pTo, StateDtype.Float32), pGrads, null, null, pp);
                ReduceScales(plan, 1, pp, pScales);
                var apply = new ApplyPass(coef, pScales, learningRate);
                LearnedKernelDriver.Run(in apply, run, plan, pPhi, StateRef.InPlace((float*)pTo), pGrads, pUpd, null, null);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
            ArrayPool<float>.Shared.Return(scales);
        }
    }

    /// <summary>
    /// Accumulates Σₖ (∂Δₖ/∂φ)ᵀ λ over K = <paramref name="steps"/> consecutive steps from
    /// <paramref name="state0"/> [8, N] into <paramref name="metaGrad"/> (added to), through the MLP, the
    /// normaliser and the φ-dependent accumulators (see the class remarks). STAR keeps a float32 state only.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length, <paramref name="steps"/> is negative, or N is not a multiple of a positive <paramref name="groupSize"/>.</exception>
    /// <exception cref="NotSupportedException">A bfloat16 state.</exception>
    public override void MetaGradientGrouped(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize)
    {
        RequireFloat32(state0.Dtype);
        LearnedKernelDriver.CheckMeta(ParamCount, Units, phi, state0, grads, steps, adjoint, metaGrad, groupSize);
        int n = adjoint.Length;
        if (n == 0 || steps == 0) return;
        var run = Execution.Snapshot();
        var plan = new ChunkPlan(n, groupSize);
        float* coef = stackalloc float[CoefCount];
        Span<double> dBeta = stackalloc double[Decays];
        Coefficients(phi, coef, dBeta);
        int sums = ParamCount + steps * SumsPerStep; // ≥ steps·27, so the statistics pass fits too
        double[] partials = LearnedKernelDriver.RentPartials(plan.Count, sums);
        float[] scales = ArrayPool<float>.Shared.Rent(plan.Groups * steps * FeatureCount);
        try
        {
            fixed (float* pPhi = phi, pGrads = grads, pAdj = adjoint, pScales = scales)
            fixed (byte* pState0 = state0)
            fixed (double* pp = partials)
            {
                var pState = StateRef.InPlace((float*)pState0);
                var stats = new StatsPass(steps, false, coef);
                LearnedKernelDriver.Run(in stats, run, plan, pPhi, pState, pGrads, null, null, pp);
                ReduceScales(plan, steps, pp, pScales);
                var meta = new MetaPass(steps, coef, pScales, learningRate);
                LearnedKernelDriver.Run(in meta, run, plan, pPhi, pState, pGrads, null, pAdj, pp);
                ReduceMetaGradient(plan, steps, pp, pScales, dBeta, metaGrad);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
            ArrayPool<float>.Shared.Return(scales);
        }
    }

    private static void RequireFloat32(StateDtype dtype)
    {
        if (dtype != StateDtype.Float32)
            throw new NotSupportedException($"STAR keeps its state in float32 only, not {dtype.Name()} (its step reads the state in two passes); use state_dtype float32, or Optim4RL, LinearOptim or L2LGD2.");
    }

    /// <summary>The call's constants (β, 1 − β, 1/τ, the nominal coefficient) into <paramref name="coef"/>, and dβ/dφ.</summary>
    private static void Coefficients(ReadOnlySpan<float> phi, float* coef, Span<double> dBeta)
    {
        Span<double> beta = stackalloc double[Decays];
        ComputeDecays(phi, beta, dBeta);
        for (int d = 0; d < Decays; d++)
        {
            coef[CoefBeta + d] = (float)beta[d];
            coef[CoefOneMinus + d] = 1f - (float)beta[d];
        }
        for (int j = 0; j < StepFeatureCount; j++) coef[CoefInvTau + j] = 1f / Timescales[j];
        coef[CoefNominal] = (float)(NominalStepSize * Math.Exp(ExpMult));
    }

    /// <summary>
    /// Turns the per-chunk sums of squared features (<paramref name="k"/>·27 per chunk) into each
    /// vector's scales s = (ε + mean x²)^−½, scales[(vector·K + step)·27 + f].
    /// </summary>
    private static void ReduceScales(ChunkPlan plan, int k, double* partials, float* scales)
    {
        int q = k * FeatureCount;
        double inv = 1.0 / plan.GroupSize;
        for (int gi = 0; gi < plan.Groups; gi++)
        {
            int first = gi * plan.ChunksPerGroup, end = first + plan.ChunksPerGroup;
            for (int i = 0; i < q; i++)
            {
                double s = LearnedKernelDriver.SumChunks(partials, q, first, end, i);
                scales[(long)gi * q + i] = (float)(1 / Math.Sqrt(NormalizerEpsilon + s * inv));
            }
        }
    }

    /// <summary>
    /// Adds the meta-gradient to <paramref name="metaGrad"/> from the meta pass's per-chunk sums
    /// (∂L/∂φ with the decays' local terms, then B_f and C_p of every step): the MLP weights in chunk
    /// order; the decays minus the normaliser's per-vector terms (s³/G)·B_f·C_p, times dβ/dφ.
    /// </summary>
    private static void ReduceMetaGradient(ChunkPlan plan, int steps, double* partials, float* scales, ReadOnlySpan<double> dBeta, Span<float> metaGrad)
    {
        int sums = ParamCount + steps * SumsPerStep;
        LearnedKernelDriver.AddChunkSums(partials, sums, 0, plan.Count, OffW0, ParamCount, metaGrad[OffW0..]);
        Span<double> dec = stackalloc double[Decays];
        for (int d = 0; d < Decays; d++) dec[d] = LearnedKernelDriver.SumChunks(partials, sums, 0, plan.Count, d);
        Span<double> vec = stackalloc double[SumsPerStep];
        for (int gi = 0; gi < plan.Groups; gi++)
        {
            int first = gi * plan.ChunksPerGroup, end = first + plan.ChunksPerGroup;
            for (int k = 0; k < steps; k++)
            {
                for (int i = 0; i < SumsPerStep; i++) vec[i] = LearnedKernelDriver.SumChunks(partials, sums, first, end, ParamCount + k * SumsPerStep + i);
                for (int p = 0; p < Pairs; p++)
                {
                    int f = PairFeature[p];
                    double s = scales[((long)gi * steps + k) * FeatureCount + f];
                    dec[PairDecay[p]] -= s * s * s / plan.GroupSize * vec[f] * vec[FeatureCount + p];
                }
            }
        }
        for (int d = 0; d < Decays; d++) metaGrad[d] += (float)(dBeta[d] * dec[d]);
    }

    // ---------------------------------------------------------------------------------------------
    // The passes, for LearnedKernelDriver. Their work areas, in vectors of W floats (W = lanes):
    //   x    [27 + 6]       the features of one step, then (v + 10⁻⁹)^−½ and (v + 10⁻⁶)^−½
    //   xd   [32]           the feature tangents ẋ_p (meta pass)
    //   z    [38]           the MLP input (normalised features, step features)
    //   pre  [8]            the MLP's pre-activations (first and second hidden layer)
    //   xbar [27]           the adjoints of the normalised features, then of the raw ones (meta pass)
    // ---------------------------------------------------------------------------------------------

    private const int XVectors = FeatureCount + 6;

    /// <summary>
    /// The statistics pass: K accumulator updates per coordinate (written back only for a step),
    /// the masked squared features of step s summed per chunk into accumulators s·27 + f.
    /// </summary>
    private readonly struct StatsPass(int k, bool step, float* coef) : IBlockPass
    {
        public int StateUnits => Units;

        public int GradRows => k;

        public bool WritesState => step;

        public int Sums => k * FeatureCount;

        public int WorkVectors => XVectors;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Block<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float* adjoint, TV mask, int group, float* acc, float* work)
            where TV : struct => StatsBlock(state, stride, grads, k, step, coef, mask, acc, work);
    }

    /// <summary>The second pass of a step: normalised features, MLP, Δ; t ← t + 1.</summary>
    private readonly struct ApplyPass(float* coef, float* scales, float alpha) : IBlockPass
    {
        public int StateUnits => Units;

        public int GradRows => 1;

        public bool WritesState => true;

        public int Sums => 0;

        public int WorkVectors => XVectors + InputCount + 2 * Hidden;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Block<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float* adjoint, TV mask, int group, float* acc, float* work)
            where TV : struct
        {
            int w = Count<TV>();
            float* z = work + XVectors * w;
            ApplyBlock<TV>(phi, state, stride, grads, updates, coef, scales + (long)group * FeatureCount, alpha, work, z, z + InputCount * w);
        }
    }

    /// <summary>
    /// The second pass of a meta-gradient: forward, backward and the per-chunk sums; its accumulators
    /// are ∂L/∂φ (203, the decays' local terms in their slots) followed by B_f and C_p of every step (K·59).
    /// </summary>
    private readonly struct MetaPass(int k, float* coef, float* scales, float alpha) : IBlockPass
    {
        public int StateUnits => Units;

        public int GradRows => k;

        public bool WritesState => false;

        public int Sums => ParamCount + k * SumsPerStep;

        public int WorkVectors => XVectors + Pairs + InputCount + 2 * Hidden + FeatureCount;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Block<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float* adjoint, TV mask, int group, float* acc, float* work)
            where TV : struct
        {
            int w = Count<TV>();
            float* xd = work + XVectors * w, z = xd + Pairs * w, pre = z + InputCount * w, xbar = pre + 2 * Hidden * w;
            MetaBlock(phi, state, stride, grads, k, adjoint, coef, scales + (long)group * k * FeatureCount, alpha, mask, acc, acc + ParamCount * w,
                work, xd, z, pre, xbar);
        }
    }

    private const MethodImplOptions Kernel = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;

    /// <summary>One accumulator update: m, r, v in place from g (per-call β in <paramref name="coef"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateAccumulators<TV>(float* coef, TV g, TV g2, ref TV m0, ref TV m1, ref TV m2, ref TV r, ref TV v0, ref TV v1, ref TV v2)
        where TV : struct
    {
        TV g2e = Add(g2, Bcast<TV>(1e-30f));
        m0 = Fma(Bcast<TV>(coef[CoefBeta]), m0, Mul(Bcast<TV>(coef[CoefOneMinus]), g));
        m1 = Fma(Bcast<TV>(coef[CoefBeta + 1]), m1, Mul(Bcast<TV>(coef[CoefOneMinus + 1]), g));
        m2 = Fma(Bcast<TV>(coef[CoefBeta + 2]), m2, Mul(Bcast<TV>(coef[CoefOneMinus + 2]), g));
        r = Fma(Bcast<TV>(coef[CoefBeta + 3]), r, Mul(Bcast<TV>(coef[CoefOneMinus + 3]), g2));
        v0 = Fma(Bcast<TV>(coef[CoefBeta + 4]), v0, Mul(Bcast<TV>(coef[CoefOneMinus + 4]), g2e));
        v1 = Fma(Bcast<TV>(coef[CoefBeta + 5]), v1, Mul(Bcast<TV>(coef[CoefOneMinus + 5]), g2e));
        v2 = Fma(Bcast<TV>(coef[CoefBeta + 6]), v2, Mul(Bcast<TV>(coef[CoefOneMinus + 6]), g2e));
    }

    /// <summary>The 27 features into x[0..27), then (vᵢ + 10⁻⁹)^−½ into x[27..30) and (vᵢ + 10⁻⁶)^−½ into x[30..33).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Features<TV>(float* x, TV g, TV m0, TV m1, TV m2, TV r, TV v0, TV v1, TV v2) where TV : struct
    {
        int w = Count<TV>();
        TV rho = Rsqrt(Add(r, Bcast<TV>(1e-6f)));
        Store(x, g);
        Store(x + 1 * w, m0); Store(x + 2 * w, m1); Store(x + 3 * w, m2);
        Store(x + 4 * w, r);
        Store(x + 5 * w, Mul(m0, rho)); Store(x + 6 * w, Mul(m1, rho)); Store(x + 7 * w, Mul(m2, rho));
        Store(x + 8 * w, rho);
        TV w0 = Rsqrt(Add(v0, Bcast<TV>(1e-9f))), w1 = Rsqrt(Add(v1, Bcast<TV>(1e-9f))), w2 = Rsqrt(Add(v2, Bcast<TV>(1e-9f)));
        Store(x + 9 * w, Mul(g, w0)); Store(x + 10 * w, Mul(g, w1)); Store(x + 11 * w, Mul(g, w2));
        Store(x + 12 * w, v0); Store(x + 13 * w, v1); Store(x + 14 * w, v2);
        Store(x + 15 * w, v0); Store(x + 16 * w, v1); Store(x + 17 * w, v2);
        TV q0 = Rsqrt(Add(v0, Bcast<TV>(1e-8f))), q1 = Rsqrt(Add(v1, Bcast<TV>(1e-8f))), q2 = Rsqrt(Add(v2, Bcast<TV>(1e-8f)));
        Store(x + 18 * w, q0); Store(x + 19 * w, q1); Store(x + 20 * w, q2);
        Store(x + 21 * w, q0); Store(x + 22 * w, q1); Store(x + 23 * w, q2);
        TV u0 = Rsqrt(Add(v0, Bcast<TV>(1e-6f))), u1 = Rsqrt(Add(v1, Bcast<TV>(1e-6f))), u2 = Rsqrt(Add(v2, Bcast<TV>(1e-6f)));
        Store(x + 24 * w, Mul(m0, u0)); Store(x + 25 * w, Mul(m1, u1)); Store(x + 26 * w, Mul(m2, u2));
        Store(x + 27 * w, w0); Store(x + 28 * w, w1); Store(x + 29 * w, w2);
        Store(x + 30 * w, u0); Store(x + 31 * w, u1); Store(x + 32 * w, u2);
    }

    /// <summary>z = (s ⊙ x, tanh(t/τ − 1)) for the MLP.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MlpInput<TV>(float* z, float* x, float* scales, float* coef, TV t) where TV : struct
    {
        int w = Count<TV>();
        for (int f = 0; f < FeatureCount; f++) Store(z + f * w, Mul(Load<TV>(x + f * w), Bcast<TV>(scales[f])));
        float t0 = First(t);
        if (AllEqual(t, t0))
        {
            // The usual case (one agent's coordinates share t): the scalar twin of Tanh gives the same bits once per vector.
            for (int j = 0; j < StepFeatureCount; j++)
                Store(z + (FeatureCount + j) * w, Bcast<TV>(TanhScalar(t0 * coef[CoefInvTau + j] - 1f)));
            return;
        }
        TV one = Bcast<TV>(1f);
        for (int j = 0; j < StepFeatureCount; j++)
            Store(z + (FeatureCount + j) * w, Tanh(Fms(t, Bcast<TV>(coef[CoefInvTau + j]), one)));
    }

    /// <summary>a·b − c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Fms<TV>(TV a, TV b, TV c) where TV : struct => Sub(Mul(a, b), c);

    /// <summary>The MLP on z: pre-activations a0, a1 (4 each, stored at <paramref name="pre"/>), direction o0 and magnitude o1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mlp<TV>(float* phi, float* z, float* pre, out TV o0, out TV o1) where TV : struct
    {
        int w = Count<TV>();
        TV a0 = Bcast<TV>(phi[OffB0]), a1 = Bcast<TV>(phi[OffB0 + 1]), a2 = Bcast<TV>(phi[OffB0 + 2]), a3 = Bcast<TV>(phi[OffB0 + 3]);
        for (int f = 0; f < InputCount; f++)
        {
            TV zf = Load<TV>(z + f * w);
            float* wf = phi + OffW0 + f * Hidden;
            a0 = Fma(zf, Bcast<TV>(wf[0]), a0);
            a1 = Fma(zf, Bcast<TV>(wf[1]), a1);
            a2 = Fma(zf, Bcast<TV>(wf[2]), a2);
            a3 = Fma(zf, Bcast<TV>(wf[3]), a3);
        }
        Store(pre, a0); Store(pre + w, a1); Store(pre + 2 * w, a2); Store(pre + 3 * w, a3);
        TV h0 = Relu(a0), h1 = Relu(a1), h2 = Relu(a2), h3 = Relu(a3);
        float* w1 = phi + OffW1;
        TV b0 = Bcast<TV>(phi[OffB1]), b1 = Bcast<TV>(phi[OffB1 + 1]), b2 = Bcast<TV>(phi[OffB1 + 2]), b3 = Bcast<TV>(phi[OffB1 + 3]);
        b0 = Fma(h0, Bcast<TV>(w1[0]), b0); b1 = Fma(h0, Bcast<TV>(w1[1]), b1); b2 = Fma(h0, Bcast<TV>(w1[2]), b2); b3 = Fma(h0, Bcast<TV>(w1[3]), b3);
        b0 = Fma(h1, Bcast<TV>(w1[4]), b0); b1 = Fma(h1, Bcast<TV>(w1[5]), b1); b2 = Fma(h1, Bcast<TV>(w1[6]), b2); b3 = Fma(h1, Bcast<TV>(w1[7]), b3);
        b0 = Fma(h2, Bcast<TV>(w1[8]), b0); b1 = Fma(h2, Bcast<TV>(w1[9]), b1); b2 = Fma(h2, Bcast<TV>(w1[10]), b2); b3 = Fma(h2, Bcast<TV>(w1[11]), b3);
        b0 = Fma(h3, Bcast<TV>(w1[12]), b0); b1 = Fma(h3, Bcast<TV>(w1[13]), b1); b2 = Fma(h3, Bcast<TV>(w1[14]), b2); b3 = Fma(h3, Bcast<TV>(w1[15]), b3);
        Store(pre + 4 * w, b0); Store(pre + 5 * w, b1); Store(pre + 6 * w, b2); Store(pre + 7 * w, b3);
        TV k0 = Relu(b0), k1 = Relu(b1), k2 = Relu(b2), k3 = Relu(b3);
        float* w2 = phi + OffW2;
        o0 = Bcast<TV>(phi[OffB2]);
        o1 = Bcast<TV>(phi[OffB2 + 1]);
        o0 = Fma(k0, Bcast<TV>(w2[0 * Outs]), o0); o1 = Fma(k0, Bcast<TV>(w2[0 * Outs + 1]), o1);
        o0 = Fma(k1, Bcast<TV>(w2[1 * Outs]), o0); o1 = Fma(k1, Bcast<TV>(w2[1 * Outs + 1]), o1);
        o0 = Fma(k2, Bcast<TV>(w2[2 * Outs]), o0); o1 = Fma(k2, Bcast<TV>(w2[2 * Outs + 1]), o1);
        o0 = Fma(k3, Bcast<TV>(w2[3 * Outs]), o0); o1 = Fma(k3, Bcast<TV>(w2[3 * Outs + 1]), o1);
    }

    /// <summary>Δ = −α·o0·e^{10⁻³·o1} − c·mean(mᵢρ) from the MLP outputs and the unnormalised Adam features x[5..8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Update<TV>(float* x, float* coef, TV o0, TV o1, float alpha, out TV e) where TV : struct
    {
        int w = Count<TV>();
        e = Exp(Mul(o1, Bcast<TV>((float)ExpMult)));
        TV step = Mul(Mul(o0, e), Bcast<TV>(alpha));
        TV mean = Div(Add(Add(Load<TV>(x + 5 * w), Load<TV>(x + 6 * w)), Load<TV>(x + 7 * w)), Bcast<TV>(3f));
        return Sub(Bcast<TV>(0f), Fma(Bcast<TV>(coef[CoefNominal]), mean, step));
    }

    /// <summary>
    /// Runs the accumulator updates of <paramref name="k"/> steps for one vector of coordinates
    /// (writing the new state back when <paramref name="writeState"/>), adding the masked squared
    /// features of step s to acc[s·27 + f].
    /// </summary>
    [MethodImpl(Kernel)]
    private static void StatsBlock<TV>(float* state, nint stride, float* grads, int k, bool writeState, float* coef, TV mask, float* acc, float* x)
        where TV : struct
    {
        int w = Count<TV>();
        TV m0 = Load<TV>(state), m1 = Load<TV>(state + stride), m2 = Load<TV>(state + 2 * stride), r = Load<TV>(state + 3 * stride);
        TV v0 = Load<TV>(state + 4 * stride), v1 = Load<TV>(state + 5 * stride), v2 = Load<TV>(state + 6 * stride);
        for (int s = 0; s < k; s++)
        {
            TV g = Load<TV>(grads + s * stride);
            UpdateAccumulators(coef, g, Mul(g, g), ref m0, ref m1, ref m2, ref r, ref v0, ref v1, ref v2);
            Features(x, g, m0, m1, m2, r, v0, v1, v2);
            float* a = acc + s * FeatureCount * w;
            for (int f = 0; f < FeatureCount; f++)
            {
                TV xm = Mul(Load<TV>(x + f * w), mask);
                FmaTo(a + f * w, xm, xm);
            }
        }
        if (writeState)
        {
            Store(state, m0); Store(state + stride, m1); Store(state + 2 * stride, m2); Store(state + 3 * stride, r);
            Store(state + 4 * stride, v0); Store(state + 5 * stride, v1); Store(state + 6 * stride, v2);
        }
    }

    /// <summary>The second half of a step: features from the updated accumulators, normalised by the vector's scales, MLP, Δ; t ← t + 1.</summary>
    [MethodImpl(Kernel)]
    private static void ApplyBlock<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float* coef, float* scales, float alpha,
        float* x, float* z, float* pre) where TV : struct
    {
        TV g = Load<TV>(grads);
        TV t = Load<TV>(state + UnitT * stride);
        Features(x, g, Load<TV>(state), Load<TV>(state + stride), Load<TV>(state + 2 * stride), Load<TV>(state + 3 * stride),
            Load<TV>(state + 4 * stride), Load<TV>(state + 5 * stride), Load<TV>(state + 6 * stride));
        MlpInput(z, x, scales, coef, t);
        Mlp<TV>(phi, z, pre, out TV o0, out TV o1);
        Store(updates, Update<TV>(x, coef, o0, o1, alpha, out _));
        Store(state + UnitT * stride, Add(t, Bcast<TV>(1f)));
    }

    /// <summary>
    /// Forward, backward and the per-vector sums of K steps for one vector of coordinates: MLP weight
    /// adjoints and the decays' local terms into <paramref name="wacc"/>, B_f and C_p of step s into
    /// sacc[s·59 …].
    /// </summary>
    [MethodImpl(Kernel)]
    private static void MetaBlock<TV>(float* phi, float* state0, nint stride, float* grads, int k, float* adjoint, float* coef, float* scales,
        float alpha, TV mask, float* wacc, float* sacc, float* x, float* xd, float* z, float* pre, float* xbar) where TV : struct
    {
        int w = Count<TV>();
        TV half = Bcast<TV>(-0.5f);
        TV m0 = Load<TV>(state0), m1 = Load<TV>(state0 + stride), m2 = Load<TV>(state0 + 2 * stride), r = Load<TV>(state0 + 3 * stride);
        TV v0 = Load<TV>(state0 + 4 * stride), v1 = Load<TV>(state0 + 5 * stride), v2 = Load<TV>(state0 + 6 * stride);
        TV t = Load<TV>(state0 + UnitT * stride);
        TV zero = Bcast<TV>(0f);
        TV tm0 = zero, tm1 = zero, tm2 = zero, tr = zero, tv0 = zero, tv1 = zero, tv2 = zero; // d(accumulator)/d(its own β)
        TV lambda = Load<TV>(adjoint);
        for (int s = 0; s < k; s++)
        {
            TV g = Load<TV>(grads + s * stride);
            TV g2 = Mul(g, g);
            TV g2e = Add(g2, Bcast<TV>(1e-30f));
            // d/dβ [β·a + (1 − β)·b] = a − b + β·da/dβ, with the old a.
            tm0 = Fma(Bcast<TV>(coef[CoefBeta]), tm0, Sub(m0, g));
            tm1 = Fma(Bcast<TV>(coef[CoefBeta + 1]), tm1, Sub(m1, g));
            tm2 = Fma(Bcast<TV>(coef[CoefBeta + 2]), tm2, Sub(m2, g));
            tr = Fma(Bcast<TV>(coef[CoefBeta + 3]), tr, Sub(r, g2));
            tv0 = Fma(Bcast<TV>(coef[CoefBeta + 4]), tv0, Sub(v0, g2e));
            tv1 = Fma(Bcast<TV>(coef[CoefBeta + 5]), tv1, Sub(v1, g2e));
            tv2 = Fma(Bcast<TV>(coef[CoefBeta + 6]), tv2, Sub(v2, g2e));
            UpdateAccumulators(coef, g, g2, ref m0, ref m1, ref m2, ref r, ref v0, ref v1, ref v2);
            Features(x, g, m0, m1, m2, r, v0, v1, v2);

            // Feature tangents ẋ_p, in the order of PairFeature/PairDecay.
            TV rho = Load<TV>(x + 8 * w);
            TV rhoDot = Mul(Mul(half, Mul(rho, Mul(rho, rho))), tr); // ρ = (r + 10⁻⁶)^−½: ρ̇ = −½ρ³·ṙ
            Store(xd, tm0); Store(xd + w, tm1); Store(xd + 2 * w, tm2);
            Store(xd + 3 * w, tr);
            Store(xd + 4 * w, Mul(rho, tm0)); Store(xd + 5 * w, Mul(rho, tm1)); Store(xd + 6 * w, Mul(rho, tm2));
            Store(xd + 7 * w, Mul(m0, rhoDot)); Store(xd + 8 * w, Mul(m1, rhoDot)); Store(xd + 9 * w, Mul(m2, rhoDot));
            Store(xd + 10 * w, rhoDot);
            FeatureTangentsV(x, xd, half, tv0, 0);
            FeatureTangentsV(x, xd, half, tv1, 1);
            FeatureTangentsV(x, xd, half, tv2, 2);
            Store(xd + 26 * w, Mul(Load<TV>(x + 30 * w), tm0));
            Store(xd + 27 * w, Mul(Load<TV>(x + 31 * w), tm1));
            Store(xd + 28 * w, Mul(Load<TV>(x + 32 * w), tm2));

            // Forward through the MLP, then back with the output adjoint λ:
            // ∂Δ/∂o0 = −α·e, ∂Δ/∂o1 = 10⁻³·(−α·o0·e), e = exp(10⁻³·o1).
            float* sc = scales + s * FeatureCount;
            MlpInput(z, x, sc, coef, Add(t, Bcast<TV>(s)));
            Mlp<TV>(phi, z, pre, out TV o0, out TV o1);
            Update<TV>(x, coef, o0, o1, alpha, out TV e);
            TV nae = Mul(Bcast<TV>(-alpha), e);
            TV ob0 = Mul(lambda, nae);
            TV ob1 = Mul(lambda, Mul(Bcast<TV>((float)ExpMult), Mul(nae, o0)));
            MlpBackward(phi, z, pre, ob0, ob1, wacc, xbar);
            AccumulateStep(x, xd, xbar, sc, coef, lambda, mask, wacc, sacc + s * SumsPerStep * w);
        }
    }

    /// <summary>Tangents of the features of vᵢ (pairs 11+i, 14+i, 17+i, 20+i, 23+i, 29+i).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FeatureTangentsV<TV>(float* x, float* xd, TV half, TV tv, int i) where TV : struct
    {
        int w = Count<TV>();
        TV wi = Load<TV>(x + (27 + i) * w);
        TV qi = Load<TV>(x + (18 + i) * w);
        TV ui = Load<TV>(x + (30 + i) * w);
        TV ht = Mul(half, tv);
        Store(xd + (11 + i) * w, Mul(Load<TV>(x + (9 + i) * w), Mul(Mul(wi, wi), ht)));   // g·w:  −½·g·w³·v̇
        Store(xd + (14 + i) * w, tv);                                                    // v
        Store(xd + (17 + i) * w, tv);                                                    // v (row copy)
        TV qDot = Mul(Mul(qi, Mul(qi, qi)), ht);                                        // q:    −½·q³·v̇
        Store(xd + (20 + i) * w, qDot);
        Store(xd + (23 + i) * w, qDot);
        Store(xd + (29 + i) * w, Mul(Load<TV>(x + (24 + i) * w), Mul(Mul(ui, ui), ht))); // m·u:  −½·m·u³·v̇
    }

    /// <summary>
    /// Back-propagates (ō0, ō1) through the MLP of one step: adds the weight adjoints to
    /// <paramref name="wacc"/> and writes the adjoints of the normalised features x̄̂_f (f &lt; 27) to
    /// <paramref name="xbar"/>. ReLU passes the adjoint where its input is &gt; 0.
    /// </summary>
    [MethodImpl(Kernel)]
    private static void MlpBackward<TV>(float* phi, float* z, float* pre, TV ob0, TV ob1, float* wacc, float* xbar) where TV : struct
    {
        int w = Count<TV>();
        AddTo(wacc + OffB2 * w, ob0);
        AddTo(wacc + (OffB2 + 1) * w, ob1);
        float* w2 = phi + OffW2;
        TV ab1_0, ab1_1, ab1_2, ab1_3;
        {
            TV a = Load<TV>(pre + 4 * w); TV h = Relu(a);
            FmaTo(wacc + (OffW2 + 0 * Outs) * w, h, ob0); FmaTo(wacc + (OffW2 + 0 * Outs + 1) * w, h, ob1);
            ab1_0 = WherePositive(a, Fma(ob0, Bcast<TV>(w2[0 * Outs]), Mul(ob1, Bcast<TV>(w2[0 * Outs + 1]))));
        }
        {
            TV a = Load<TV>(pre + 5 * w); TV h = Relu(a);
            FmaTo(wacc + (OffW2 + 1 * Outs) * w, h, ob0); FmaTo(wacc + (OffW2 + 1 * Outs + 1) * w, h, ob1);
            ab1_1 = WherePositive(a, Fma(ob0, Bcast<TV>(w2[1 * Outs]), Mul(ob1, Bcast<TV>(w2[1 * Outs + 1]))));
        }
        {
            TV a = Load<TV>(pre + 6 * w); TV h = Relu(a);
            FmaTo(wacc + (OffW2 + 2 * Outs) * w, h, ob0); FmaTo(wacc + (OffW2 + 2 * Outs + 1) * w, h, ob1);
            ab1_2 = WherePositive(a, Fma(ob0, Bcast<TV>(w2[2 * Outs]), Mul(ob1, Bcast<TV>(w2[2 * Outs + 1]))));
        }
        {
            TV a = Load<TV>(pre + 7 * w); TV h = Relu(a);
            FmaTo(wacc + (OffW2 + 3 * Outs) * w, h, ob0); FmaTo(wacc + (OffW2 + 3 * Outs + 1) * w, h, ob1);
            ab1_3 = WherePositive(a, Fma(ob0, Bcast<TV>(w2[3 * Outs]), Mul(ob1, Bcast<TV>(w2[3 * Outs + 1]))));
        }
        AddTo(wacc + OffB1 * w, ab1_0); AddTo(wacc + (OffB1 + 1) * w, ab1_1);
        AddTo(wacc + (OffB1 + 2) * w, ab1_2); AddTo(wacc + (OffB1 + 3) * w, ab1_3);

        float* w1 = phi + OffW1;
        TV ab0_0, ab0_1, ab0_2, ab0_3;
        {
            TV a = Load<TV>(pre); TV h = Relu(a);
            float* g = wacc + (OffW1 + 0 * Hidden) * w;
            FmaTo(g, h, ab1_0); FmaTo(g + w, h, ab1_1); FmaTo(g + 2 * w, h, ab1_2); FmaTo(g + 3 * w, h, ab1_3);
            float* wr = w1 + 0 * Hidden;
            ab0_0 = WherePositive(a, Fma(ab1_3, Bcast<TV>(wr[3]), Fma(ab1_2, Bcast<TV>(wr[2]), Fma(ab1_1, Bcast<TV>(wr[1]), Mul(ab1_0, Bcast<TV>(wr[0]))))));
        }
        {
            TV a = Load<TV>(pre + w); TV h = Relu(a);
            float* g = wacc + (OffW1 + 1 * Hidden) * w;
            FmaTo(g, h, ab1_0); FmaTo(g + w, h, ab1_1); FmaTo(g + 2 * w, h, ab1_2); FmaTo(g + 3 * w, h, ab1_3);
            float* wr = w1 + 1 * Hidden;
            ab0_1 = WherePositive(a, Fma(ab1_3, Bcast<TV>(wr[3]), Fma(ab1_2, Bcast<TV>(wr[2]), Fma(ab1_1, Bcast<TV>(wr[1]), Mul(ab1_0, Bcast<TV>(wr[0]))))));
        }
        {
            TV a = Load<TV>(pre + 2 * w); TV h = Relu(a);
            float* g = wacc + (OffW1 + 2 * Hidden) * w;
            FmaTo(g, h, ab1_0); FmaTo(g + w, h, ab1_1); FmaTo(g + 2 * w, h, ab1_2); FmaTo(g + 3 * w, h, ab1_3);
            float* wr = w1 + 2 * Hidden;
            ab0_2 = WherePositive(a, Fma(ab1_3, Bcast<TV>(wr[3]), Fma(ab1_2, Bcast<TV>(wr[2]), Fma(ab1_1, Bcast<TV>(wr[1]), Mul(ab1_0, Bcast<TV>(wr[0]))))));
        }
        {
            TV a = Load<TV>(pre + 3 * w); TV h = Relu(a);
            float* g = wacc + (OffW1 + 3 * Hidden) * w;
            FmaTo(g, h, ab1_0); FmaTo(g + w, h, ab1_1); FmaTo(g + 2 * w, h, ab1_2); FmaTo(g + 3 * w, h, ab1_3);
            float* wr = w1 + 3 * Hidden;
            ab0_3 = WherePositive(a, Fma(ab1_3, Bcast<TV>(wr[3]), Fma(ab1_2, Bcast<TV>(wr[2]), Fma(ab1_1, Bcast<TV>(wr[1]), Mul(ab1_0, Bcast<TV>(wr[0]))))));
        }
        AddTo(wacc + OffB0 * w, ab0_0); AddTo(wacc + (OffB0 + 1) * w, ab0_1);
        AddTo(wacc + (OffB0 + 2) * w, ab0_2); AddTo(wacc + (OffB0 + 3) * w, ab0_3);

        for (int f = 0; f < InputCount; f++)
        {
            TV zf = Load<TV>(z + f * w);
            float* g = wacc + (OffW0 + f * Hidden) * w;
            FmaTo(g, zf, ab0_0); FmaTo(g + w, zf, ab0_1); FmaTo(g + 2 * w, zf, ab0_2); FmaTo(g + 3 * w, zf, ab0_3);
            if (f < FeatureCount)
            {
                float* wf = phi + OffW0 + f * Hidden;
                Store(xbar + f * w, Fma(ab0_3, Bcast<TV>(wf[3]), Fma(ab0_2, Bcast<TV>(wf[2]), Fma(ab0_1, Bcast<TV>(wf[1]), Mul(ab0_0, Bcast<TV>(wf[0]))))));
            }
        }
    }

    /// <summary>
    /// The decay terms of one step: B_f += x̄̂_f·x_f and C_p += x_f·ẋ_p (masked) into
    /// <paramref name="sacc"/>, and the local terms x̄_f·ẋ_p into wacc[decay of p], where
    /// x̄_f = s_f·x̄̂_f is the adjoint of the raw feature (plus λ·∂Δ/∂x_f of the nominal term for the
    /// Adam features f = 5, 6, 7).
    /// </summary>
    [MethodImpl(Kernel)]
    private static void AccumulateStep<TV>(float* x, float* xd, float* xbar, float* scales, float* coef, TV lambda, TV mask, float* wacc, float* sacc)
        where TV : struct
    {
        int w = Count<TV>();
        TV lamNom = Mul(lambda, Bcast<TV>(-coef[CoefNominal] / 3f));
        for (int f = 0; f < FeatureCount; f++)
        {
            TV xb = Load<TV>(xbar + f * w);
            FmaTo(sacc + f * w, xb, Load<TV>(x + f * w));
            TV xl = Mul(xb, Bcast<TV>(scales[f]));
            if (f is >= 5 and <= 7) xl = Add(xl, lamNom);
            Store(xbar + f * w, xl);
        }
        for (int p = 0; p < Pairs; p++)
        {
            int f = PairFeature[p];
            TV xdp = Load<TV>(xd + p * w);
            FmaTo(sacc + (FeatureCount + p) * w, Mul(Load<TV>(x + f * w), mask), xdp);
            FmaTo(wacc + PairDecay[p] * w, Load<TV>(xbar + f * w), xdp);
        }
    }
}
