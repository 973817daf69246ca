using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Optim4RL.Tensors;
using static Optim4RL.Optimizers.Learned.LearnedSimd;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// The Optim4RL learned optimizer (Lan et al., RLC 2024; docs/algorithms.md, "Learned optimizers"): per coordinate, two GRU
/// cells (flax convention, hidden size 8, input size 1) with Dense(8→1) heads. Cell 1 reads g
/// and gives o1, m = sign(g)·exp(o1); cell 2 reads g² and gives o2, v = exp(o2); the update is
/// Δθ = −α · m / √(v + 10⁻⁸).
/// </summary>
/// <remarks>
/// <para><b>φ layout</b> (514 floats; <see cref="Layout"/> names every array): for c = 1, 2 in
/// turn, <c>cellc.W_ir</c>, <c>cellc.W_iz</c>, <c>cellc.W_in</c> [1, 8];
/// <c>cellc.W_hr</c>, <c>cellc.W_hz</c>, <c>cellc.W_hn</c> [8, 8]; <c>cellc.b_r</c>,
/// <c>cellc.b_z</c>, <c>cellc.b_in</c>, <c>cellc.b_hn</c> [8]; then <c>headc.kernel</c> [8, 1]
/// and <c>headc.bias</c> [1]. Kernels are flax Dense kernels, shape [in, out], row-major, so
/// the recurrent term of unit j is Σᵢ h[i]·W[i, j]. The GRU cell is
/// r = σ(W_ir x + W_hr h + b_r), z = σ(W_iz x + W_hz h + b_z),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.</para>
/// <para><b>State</b>: [16, N] structure-of-arrays; units 0–7 are cell 1's h, 8–15 cell 2's.</para>
/// <para><b>Kernel</b>: run by <see cref="LearnedKernelDriver"/> over chunks of at most 4096
/// coordinates that never straddle two parameter vectors, in parallel; inside a chunk, one SIMD
/// vector of coordinates (16 with AVX-512) at a time runs the fused cells with the weights
/// broadcast from φ. A trailing partial vector is zero-padded and run through the same code, so
/// every coordinate sees identical arithmetic. tanh is a rational approximation clamped to ±9
/// (|error| ≤ 3.1·10⁻⁷), σ(x) = ½ + ½·tanh(x/2), exp is the runtime's vectorised exp; the
/// backward pass uses the derivatives of exactly these values (tanh' = 1 − tanh², σ' = σ(1 − σ)).</para>
/// <para><b>Meta-gradient</b> (docs/algorithms.md, "The meta-gradient without second-order derivatives"):
/// per vector of coordinates, the K forward steps are recomputed from state0 with their
/// intermediates kept in a small per-thread scratch (L1/L2-resident), then a reverse sweep
/// k = K−1 … 0 applies the output adjoint λ at every step, carries the adjoint of (h1, h2)
/// backwards, and leaves the pre-activation adjoints in the scratch; ∂L/∂φ is then summed over
/// the K steps in registers (recurrent kernels in a 4-row × 4-step register tile) into per-lane
/// accumulators. Per-chunk sums are reduced in chunk order, in double, after the parallel loop,
/// so the result is bitwise identical for any thread count (it differs in the last bits between
/// SIMD widths, whose lane sums differ; Step's outputs do not).</para>
/// <para>One instance may serve several threads at once: a call keeps its state in locals, and
/// <see cref="MaxDegreeOfParallelism"/> caps the threads each call uses.</para>
/// </remarks>
public sealed unsafe class Optim4RLOptimizer : ILearnedOptimizer
{
    private const int H = 8;

    // Offsets inside one "net" (a GRU cell followed by its head), 257 floats.
    private const int OffWir = 0, OffWiz = 8, OffWin = 16;
    private const int OffWhr = 24, OffWhz = 88, OffWhn = 152;
    private const int OffBr = 216, OffBz = 224, OffBin = 232, OffBhn = 240;
    private const int OffK = 248, OffC = 256;
    private const int NetSize = 257;
    private const int ParamCount = 2 * NetSize;

    /// <summary>The ε inside √(v + ε).</summary>
    public const float Epsilon = 1e-8f;

    // flax's variance_scaling "truncated_normal": the stddev of a standard normal truncated to [−2, 2].
    private const double TruncatedNormalStd = 0.87962566103423978;

    private readonly MetaParamLayout _layout;

    /// <summary>Creates the kernel; it holds no φ (φ is an argument of every call).</summary>
    public Optim4RLOptimizer()
    {
        _layout = new MetaParamLayout();
        for (int c = 1; c <= 2; c++)
        {
            _layout.Add($"cell{c}.W_ir", 1, H);
            _layout.Add($"cell{c}.W_iz", 1, H);
            _layout.Add($"cell{c}.W_in", 1, H);
            _layout.Add($"cell{c}.W_hr", H, H);
            _layout.Add($"cell{c}.W_hz", H, H);
            _layout.Add($"cell{c}.W_hn", H, H);
            _layout.Add($"cell{c}.b_r", H);
            _layout.Add($"cell{c}.b_z", H);
            _layout.Add($"cell{c}.b_in", H);
            _layout.Add($"cell{c}.b_hn", H);
            _layout.Add($"head{c}.kernel", H, 1);
            _layout.Add($"head{c}.bias", 1);
        }
        if (_layout.Count != ParamCount) throw new InvalidOperationException("Optim4RL layout size mismatch.");
    }

    /// <inheritdoc />
    public string Name => "Optim4RL";

    /// <inheritdoc />
    public int HiddenSize => H;

    /// <inheritdoc />
    public int StateSize => 2 * H;

    /// <inheritdoc />
    public MetaParamLayout Layout => _layout;

    /// <inheritdoc />
    public int? MaxDegreeOfParallelism { get => Execution.MaxDegreeOfParallelism; set => Execution.MaxDegreeOfParallelism = value; }

    /// <summary>The thread cap and SIMD width every call reads at its start.</summary>
    internal KernelExecution Execution { get; } = new();

    /// <summary>
    /// Fills φ as flax initialises the modules: input kernels and head kernels LeCun-normal
    /// (truncated normal, variance 1/fan_in; fan_in 1 and 8), recurrent kernels orthogonal
    /// (Gram–Schmidt QR of a standard normal 8×8 matrix, signs fixed so that diag(R) &gt; 0),
    /// all biases zero.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="phi"/> is not <c>Layout.Count</c> long.</exception>
    public void InitMetaParams(ref Rng rng, Span<float> phi)
    {
        if (phi.Length != ParamCount) throw new ArgumentException($"φ must have {ParamCount} elements, got {phi.Length}.", nameof(phi));
        phi.Clear();
        Span<double> m = stackalloc double[H * H];
        for (int c = 0; c < 2; c++)
        {
            Span<float> net = phi.Slice(c * NetSize, NetSize);
            double inputStd = Math.Sqrt(1.0 / 1) / TruncatedNormalStd;
            foreach (int off in (ReadOnlySpan<int>)[OffWir, OffWiz, OffWin])
                for (int j = 0; j < H; j++) net[off + j] = (float)(rng.NextTruncatedNormal() * inputStd);
            foreach (int off in (ReadOnlySpan<int>)[OffWhr, OffWhz, OffWhn])
            {
                Orthogonal(ref rng, m);
                for (int i = 0; i < H * H; i++) net[off + i] = (float)m[i];
            }
            double headStd = Math.Sqrt(1.0 / H) / TruncatedNormalStd;
            for (int j = 0; j < H; j++) net[OffK + j] = (float)(rng.NextTruncatedNormal() * headStd);
        }
    }

    /// <summary>An orthogonal 8×8 matrix (row-major): modified Gram–Schmidt on the columns of a normal matrix.</summary>
    private static void Orthogonal(ref Rng rng, Span<double> a)
    {
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextNormal();
        for (int j = 0; j < H; j++)
        {
            for (int p = 0; p < j; p++)
            {
                double dot = 0;
                for (int i = 0; i < H; i++) dot += a[i * H + p] * a[i * H + j];
                for (int i = 0; i < H; i++) a[i * H + j] -= dot * a[i * H + p];
            }
            double norm = 0;
            for (int i = 0; i < H; i++) norm += a[i * H + j] * a[i * H + j];
            norm = Math.Sqrt(norm); // > 0 with probability 1; R's diagonal is this norm, so Q needs no sign fix
            for (int i = 0; i < H; i++) a[i * H + j] /= norm;
        }
    }

    /// <summary>
    /// One Optim4RL step over N = <c>grads.Length</c> coordinates, taken as one parameter
    /// vector. <paramref name="updates"/> may alias <paramref name="grads"/>.
    /// </summary>
    /// <param name="phi">φ, length 514.</param>
    /// <param name="state">Recurrent state [16, N], updated in place.</param>
    /// <param name="grads">Gradients [N], already clipped by the caller.</param>
    /// <param name="updates">Receives Δθ [N].</param>
    /// <param name="learningRate">α.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Step(ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads, Span<float> updates, float learningRate) =>
        StepGrouped(phi, state, grads, updates, learningRate, Math.Max(grads.Length, 1));

    /// <summary>As <see cref="Step"/>, with N / <paramref name="groupSize"/> parameter vectors; see <see cref="ILearnedOptimizer.StepGrouped(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, Span{float}, float, int)"/>.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or N is not a multiple of a positive <paramref name="groupSize"/>.</exception>
    public void StepGrouped(ReadOnlySpan<float> phi, Span<float> state, ReadOnlySpan<float> grads, Span<float> updates, float learningRate, int groupSize) =>
        LearnedKernelDriver.Step<Blocks>(Execution, phi, new StateSpan(state), new StateSpan(state), grads, updates, learningRate, groupSize);

    /// <summary>Float32 and bfloat16 states are both supported.</summary>
    public bool Supports(StateDtype dtype) => dtype is StateDtype.Float32 or StateDtype.BFloat16;

    /// <inheritdoc />
    public void StepGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates, float learningRate, int groupSize) =>
        LearnedKernelDriver.Step<Blocks>(Execution, phi, from, to, grads, updates, learningRate, groupSize);

    /// <inheritdoc />
    public void UpdateGrouped(ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, float gradClip, Span<float> clippedGrads,
        Span<float> theta, float learningRate, int groupSize) =>
        LearnedKernelDriver.Update<Blocks>(Execution, phi, from, to, grads, gradClip, clippedGrads, theta, learningRate, groupSize);

    /// <summary>
    /// Accumulates Σₖ (∂Δₖ/∂φ)ᵀ λ over K = <paramref name="steps"/> consecutive steps into
    /// <paramref name="metaGrad"/> (added to). See <see cref="ILearnedOptimizer.MetaGradient"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or <paramref name="steps"/> is negative.</exception>
    public void MetaGradient(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad) =>
        MetaGradientGrouped(phi, state0, grads, steps, adjoint, learningRate, metaGrad, Math.Max(adjoint.Length, 1));

    /// <summary>As <see cref="MetaGradient"/>, with N / <paramref name="groupSize"/> parameter vectors; see <see cref="ILearnedOptimizer.MetaGradientGrouped(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, int, ReadOnlySpan{float}, float, Span{float}, int)"/>.</summary>
    /// <exception cref="ArgumentException">As <see cref="MetaGradient"/>, or N is not a multiple of a positive <paramref name="groupSize"/>.</exception>
    public void MetaGradientGrouped(ReadOnlySpan<float> phi, ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize) =>
        LearnedKernelDriver.MetaGradient<Blocks>(Execution, phi, StateSpan.ReadOnly(state0), grads, steps, adjoint, learningRate, metaGrad, groupSize);

    /// <inheritdoc />
    public void MetaGradientGrouped(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize) =>
        LearnedKernelDriver.MetaGradient<Blocks>(Execution, phi, state0, grads, steps, adjoint, learningRate, metaGrad, groupSize);

    /// <inheritdoc />
    public bool HasChunkPartials => true;

    /// <inheritdoc />
    public void MetaGradientPartials(ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<double> partials, int groupSize) =>
        LearnedKernelDriver.MetaGradientPartials<Blocks>(Execution, phi, state0, grads, steps, adjoint, learningRate, partials, groupSize);

    /// <summary>The per-vector code, for <see cref="LearnedKernelDriver"/>.</summary>
    private struct Blocks : ICoordinatewiseBlocks
    {
        public static int ParamCount => Optim4RLOptimizer.ParamCount;

        public static int StateUnits => 2 * H;

        // ---------------------------------------------------------------------------------------------
        // Work area of MetaBlock, in vectors of W floats (W = lanes):
        //   hs1   [(K+1)·8]        cell-1 states h_0 … h_K of the current vector of coordinates
        //   hs2   [(K+1)·8]        cell-2 states
        //   sv1   [K·32]           cell-1 gates r, z, n and u = W_hn h + b_hn of every step, replaced
        //                          in the reverse sweep by their pre-activation adjoints
        //   sv2   [K·32]           cell-2 gates, likewise
        //   dv    [K·2]            Δ_k and v/(v + ε) of every step, replaced by the head adjoints
        //   adj1, adj2 [8 each]    carried adjoints of h1, h2
        // ---------------------------------------------------------------------------------------------
        public static int MetaWorkVectors(int k) => 2 * (k + 1) * H + 2 * k * 4 * H + 2 * k + 2 * H;

        /// <summary>One Optim4RL step for one vector of coordinates; state stride <paramref name="stride"/>.</summary>
        [MethodImpl(Kernel)]
        public static void StepBlock<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float alpha) where TV : struct
        {
            TV g = Load<TV>(grads);
            TV o1 = CellForward<TV, NoSave>(phi, g, state, stride, state, stride, null);
            TV o2 = CellForward<TV, NoSave>(phi + NetSize, Mul(g, g), state + H * stride, stride, state + H * stride, stride, null);
            Store(updates, Update(g, o1, o2, alpha, out _));
        }

        /// <summary>
        /// Recomputes K steps for one vector of coordinates, runs the reverse sweep, then adds the
        /// per-lane ∂L/∂φ of the K steps to <paramref name="acc"/>.
        /// </summary>
        [MethodImpl(Kernel)]
        public static void MetaBlock<TV>(float* phi, float* state0, nint stride, float* grads, int k, float* adjoint, float alpha,
            float* work, float* acc) where TV : struct
        {
            int w = Count<TV>();
            int hv = H * w; // floats per stored hidden state
            float* hs1 = work, hs2 = hs1 + (k + 1) * hv;
            float* sv1 = hs2 + (k + 1) * hv, sv2 = sv1 + k * 4 * hv;
            float* dv = sv2 + k * 4 * hv;
            float* adj1 = dv + 2 * k * w, adj2 = adj1 + hv;

            for (int j = 0; j < H; j++)
            {
                Store(hs1 + j * w, Load<TV>(state0 + j * stride));
                Store(hs2 + j * w, Load<TV>(state0 + (H + j) * stride));
            }
            for (int s = 0; s < k; s++)
            {
                TV g = Load<TV>(grads + s * stride);
                TV o1 = CellForward<TV, Save>(phi, g, hs1 + s * hv, w, hs1 + (s + 1) * hv, w, sv1 + s * 4 * hv);
                TV o2 = CellForward<TV, Save>(phi + NetSize, Mul(g, g), hs2 + s * hv, w, hs2 + (s + 1) * hv, w, sv2 + s * 4 * hv);
                TV delta = Update(g, o1, o2, alpha, out TV vRatio);
                Store(dv + 2 * s * w, delta);
                Store(dv + (2 * s + 1) * w, vRatio);
            }

            TV lambda = Load<TV>(adjoint);
            TV zero = Bcast<TV>(0f);
            for (int j = 0; j < H; j++) { Store(adj1 + j * w, zero); Store(adj2 + j * w, zero); }
            for (int s = k - 1; s >= 0; s--)
            {
                // ∂Δ/∂o1 = Δ;  ∂Δ/∂o2 = −½·Δ·v/(v + ε). The head adjoints replace Δ and v/(v + ε) in dv.
                TV ob1 = Mul(lambda, Load<TV>(dv + 2 * s * w));
                TV ob2 = Mul(Mul(Bcast<TV>(-0.5f), ob1), Load<TV>(dv + (2 * s + 1) * w));
                Store(dv + 2 * s * w, ob1);
                Store(dv + (2 * s + 1) * w, ob2);
                CellBackward(phi, hs1 + s * hv, sv1 + s * 4 * hv, adj1, ob1);
                CellBackward(phi + NetSize, hs2 + s * hv, sv2 + s * 4 * hv, adj2, ob2);
            }

            AccumulateNet<TV>(acc, grads, stride, k, false, hs1, sv1, dv);
            AccumulateNet<TV>(acc + NetSize * w, grads, stride, k, true, hs2, sv2, dv + w);
        }
    }

    // The block and cell methods are compiled separately and fully optimised at once: each is small
    // enough for the JIT to inline every SIMD helper (one huge method would exceed its inlining budget).
    private const MethodImplOptions Kernel = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;

    /// <summary>Δ = −α·sign(g)·exp(o1)/√(exp(o2) + ε); also returns v/(v + ε) for the backward pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Update<TV>(TV g, TV o1, TV o2, float alpha, out TV vRatio) where TV : struct
    {
        TV m = Mul(Sign(g), Exp(o1));
        TV v = Exp(o2);
        TV ve = Add(v, Bcast<TV>(Epsilon));
        vRatio = Div(v, ve);
        return Div(Mul(Bcast<TV>(-alpha), m), Sqrt(ve));
    }

    private interface ISaveMode { }
    private struct Save : ISaveMode { }
    private struct NoSave : ISaveMode { }

    /// <summary>
    /// One GRU cell plus head for one vector of coordinates. Reads h from
    /// <paramref name="hIn"/> (unit j at hIn + j·inStride), writes h' to <paramref name="hOut"/>
    /// (may equal hIn), returns the head output o. With <typeparamref name="TSave"/> = Save it
    /// stores r, z, n, u of unit j at save + (4j + {0,1,2,3})·W.
    /// </summary>
    [MethodImpl(Kernel)]
    private static TV CellForward<TV, TSave>(float* net, TV x, float* hIn, nint inStride, float* hOut, nint outStride, float* save)
        where TV : struct where TSave : struct, ISaveMode
    {
        int w = Count<TV>();
        TV h0 = Load<TV>(hIn), h1 = Load<TV>(hIn + inStride), h2 = Load<TV>(hIn + 2 * inStride), h3 = Load<TV>(hIn + 3 * inStride);
        TV h4 = Load<TV>(hIn + 4 * inStride), h5 = Load<TV>(hIn + 5 * inStride), h6 = Load<TV>(hIn + 6 * inStride), h7 = Load<TV>(hIn + 7 * inStride);
        TV o = Bcast<TV>(net[OffC]);
        for (int j = 0; j < H; j++)
        {
            TV ar = Fma(x, Bcast<TV>(net[OffWir + j]), Bcast<TV>(net[OffBr + j]));
            TV az = Fma(x, Bcast<TV>(net[OffWiz + j]), Bcast<TV>(net[OffBz + j]));
            TV u = Bcast<TV>(net[OffBhn + j]);
            float* wr = net + OffWhr + j, wz = net + OffWhz + j, wn = net + OffWhn + j;
            ar = Fma(h0, Bcast<TV>(wr[0 * H]), ar); az = Fma(h0, Bcast<TV>(wz[0 * H]), az); u = Fma(h0, Bcast<TV>(wn[0 * H]), u);
            ar = Fma(h1, Bcast<TV>(wr[1 * H]), ar); az = Fma(h1, Bcast<TV>(wz[1 * H]), az); u = Fma(h1, Bcast<TV>(wn[1 * H]), u);
            ar = Fma(h2, Bcast<TV>(wr[2 * H]), ar); az = Fma(h2, Bcast<TV>(wz[2 * H]), az); u = Fma(h2, Bcast<TV>(wn[2 * H]), u);
            ar = Fma(h3, Bcast<TV>(wr[3 * H]), ar); az = Fma(h3, Bcast<TV>(wz[3 * H]), az); u = Fma(h3, Bcast<TV>(wn[3 * H]), u);
            ar = Fma(h4, Bcast<TV>(wr[4 * H]), ar); az = Fma(h4, Bcast<TV>(wz[4 * H]), az); u = Fma(h4, Bcast<TV>(wn[4 * H]), u);
            ar = Fma(h5, Bcast<TV>(wr[5 * H]), ar); az = Fma(h5, Bcast<TV>(wz[5 * H]), az); u = Fma(h5, Bcast<TV>(wn[5 * H]), u);
            ar = Fma(h6, Bcast<TV>(wr[6 * H]), ar); az = Fma(h6, Bcast<TV>(wz[6 * H]), az); u = Fma(h6, Bcast<TV>(wn[6 * H]), u);
            ar = Fma(h7, Bcast<TV>(wr[7 * H]), ar); az = Fma(h7, Bcast<TV>(wz[7 * H]), az); u = Fma(h7, Bcast<TV>(wn[7 * H]), u);
            TV r = Sigmoid(ar);
            TV z = Sigmoid(az);
            TV nn = Tanh(Fma(r, u, Fma(x, Bcast<TV>(net[OffWin + j]), Bcast<TV>(net[OffBin + j]))));
            TV hj = Load<TV>(hIn + j * inStride); // not yet overwritten when hOut == hIn
            TV hNew = Fma(z, Sub(hj, nn), nn);    // (1 − z)·n + z·h
            Store(hOut + j * outStride, hNew);
            o = Fma(hNew, Bcast<TV>(net[OffK + j]), o);
            if (typeof(TSave) == typeof(Save))
            {
                float* s = save + 4 * j * w;
                Store(s, r);
                Store(s + w, z);
                Store(s + 2 * w, nn);
                Store(s + 3 * w, u);
            }
        }
        return o;
    }

    /// <summary>
    /// Backward of one cell-plus-head step for one vector of coordinates. <paramref name="adj"/>
    /// holds the adjoint of h' (from later steps) on entry and the adjoint of h on exit;
    /// <paramref name="ob"/> is the adjoint of the head output. The step's saved gates
    /// (r, z, n, u of unit j at save + (4j + 0…3)·W) are replaced by the pre-activation adjoints
    /// (∂a_r, ∂a_z, ∂u, ∂a_n), from which <see cref="AccumulateNet{TV}"/> forms ∂L/∂φ.
    /// </summary>
    [MethodImpl(Kernel)]
    private static void CellBackward<TV>(float* net, float* hPrev, float* save, float* adj, TV ob)
        where TV : struct
    {
        nint w = Count<TV>();
        TV one = Bcast<TV>(1f);
        TV h0 = Load<TV>(hPrev), h1 = Load<TV>(hPrev + w), h2 = Load<TV>(hPrev + 2 * w), h3 = Load<TV>(hPrev + 3 * w);
        TV h4 = Load<TV>(hPrev + 4 * w), h5 = Load<TV>(hPrev + 5 * w), h6 = Load<TV>(hPrev + 6 * w), h7 = Load<TV>(hPrev + 7 * w);
        TV d0 = Bcast<TV>(0f), d1 = d0, d2 = d0, d3 = d0, d4 = d0, d5 = d0, d6 = d0, d7 = d0;
        for (nint j = 0; j < H; j++)
        {
            TV hb = Fma(ob, Bcast<TV>(net[OffK + j]), Load<TV>(adj + j * w)); // ∂L/∂h'_j
            float* s = save + 4 * j * w;
            TV r = Load<TV>(s), z = Load<TV>(s + w), nn = Load<TV>(s + 2 * w), u = Load<TV>(s + 3 * w);
            TV hj = Load<TV>(hPrev + j * w);
            TV dz = Mul(hb, Sub(hj, nn));                        // ∂h'/∂z = h − n
            TV dn = Fnma(hb, z, hb);                             // ∂h'/∂n = 1 − z
            Store(adj + j * w, Mul(hb, z));                      // ∂h'/∂h (direct path)
            TV dan = Fnma(Mul(dn, nn), nn, dn);                  // tanh' = 1 − n²
            TV dar = Mul(Mul(dan, u), Mul(r, Sub(one, r)));     // σ' = σ(1 − σ)
            TV du = Mul(dan, r);
            TV daz = Mul(dz, Mul(z, Sub(one, z)));
            Store(s, dar);
            Store(s + w, daz);
            Store(s + 2 * w, du);
            Store(s + 3 * w, dan);

            float* wr = net + OffWhr + j, wz = net + OffWhz + j, wn = net + OffWhn + j;
            d0 = Fma(dar, Bcast<TV>(wr[0 * H]), Fma(daz, Bcast<TV>(wz[0 * H]), Fma(du, Bcast<TV>(wn[0 * H]), d0)));
            d1 = Fma(dar, Bcast<TV>(wr[1 * H]), Fma(daz, Bcast<TV>(wz[1 * H]), Fma(du, Bcast<TV>(wn[1 * H]), d1)));
            d2 = Fma(dar, Bcast<TV>(wr[2 * H]), Fma(daz, Bcast<TV>(wz[2 * H]), Fma(du, Bcast<TV>(wn[2 * H]), d2)));
            d3 = Fma(dar, Bcast<TV>(wr[3 * H]), Fma(daz, Bcast<TV>(wz[3 * H]), Fma(du, Bcast<TV>(wn[3 * H]), d3)));
            d4 = Fma(dar, Bcast<TV>(wr[4 * H]), Fma(daz, Bcast<TV>(wz[4 * H]), Fma(du, Bcast<TV>(wn[4 * H]), d4)));
            d5 = Fma(dar, Bcast<TV>(wr[5 * H]), Fma(daz, Bcast<TV>(wz[5 * H]), Fma(du, Bcast<TV>(wn[5 * H]), d5)));
            d6 = Fma(dar, Bcast<TV>(wr[6 * H]), Fma(daz, Bcast<TV>(wz[6 * H]), Fma(du, Bcast<TV>(wn[6 * H]), d6)));
            d7 = Fma(dar, Bcast<TV>(wr[7 * H]), Fma(daz, Bcast<TV>(wz[7 * H]), Fma(du, Bcast<TV>(wn[7 * H]), d7)));
        }
        AddTo(adj, d0); AddTo(adj + w, d1); AddTo(adj + 2 * w, d2); AddTo(adj + 3 * w, d3);
        AddTo(adj + 4 * w, d4); AddTo(adj + 5 * w, d5); AddTo(adj + 6 * w, d6); AddTo(adj + 7 * w, d7);
    }

    /// <summary>
    /// Adds one net's per-lane ∂L/∂φ over the K steps of one vector of coordinates to
    /// <paramref name="acc"/>, from the states h_0…h_K (<paramref name="hs"/>), the
    /// pre-activation adjoints left in <paramref name="da"/> by <see cref="CellBackward{TV}"/>
    /// and the head adjoints (step s at <paramref name="ob"/> + 2s·W). Summing over the steps in
    /// registers first touches each accumulator once per vector of coordinates, not once per step.
    /// </summary>
    [MethodImpl(Kernel)]
    private static void AccumulateNet<TV>(float* acc, float* grads, nint stride, int k, bool square, float* hs, float* da, float* ob)
        where TV : struct
    {
        nint w = Count<TV>();
        nint hv = H * w;

        // Head: ∂kernel_j = Σ_s ob_s·h_{s+1}[j], ∂bias = Σ_s ob_s.
        TV c = Load<TV>(acc + OffC * w);
        for (nint s = 0; s < k; s++) c = Add(c, Load<TV>(ob + 2 * s * w));
        Store(acc + OffC * w, c);
        for (nint j = 0; j < H; j++)
        {
            TV a = Load<TV>(acc + (OffK + j) * w);
            for (nint s = 0; s < k; s++) a = Fma(Load<TV>(ob + 2 * s * w), Load<TV>(hs + (s + 1) * hv + j * w), a);
            Store(acc + (OffK + j) * w, a);
        }

        // Input kernels and biases: ∂W_i·[j] = Σ_s ∂a·[j]·x_s, ∂b·[j] = Σ_s ∂a·[j].
        for (nint j = 0; j < H; j++)
        {
            TV wir = Load<TV>(acc + (OffWir + j) * w), wiz = Load<TV>(acc + (OffWiz + j) * w), win = Load<TV>(acc + (OffWin + j) * w);
            TV br = Load<TV>(acc + (OffBr + j) * w), bz = Load<TV>(acc + (OffBz + j) * w);
            TV bin = Load<TV>(acc + (OffBin + j) * w), bhn = Load<TV>(acc + (OffBhn + j) * w);
            for (nint s = 0; s < k; s++)
            {
                TV x = Load<TV>(grads + s * stride);
                if (square) x = Mul(x, x);
                float* d = da + s * 4 * hv + 4 * j * w;
                TV dar = Load<TV>(d), daz = Load<TV>(d + w), du = Load<TV>(d + 2 * w), dan = Load<TV>(d + 3 * w);
                wir = Fma(dar, x, wir); br = Add(br, dar);
                wiz = Fma(daz, x, wiz); bz = Add(bz, daz);
                win = Fma(dan, x, win); bin = Add(bin, dan);
                bhn = Add(bhn, du);
            }
            Store(acc + (OffWir + j) * w, wir); Store(acc + (OffWiz + j) * w, wiz); Store(acc + (OffWin + j) * w, win);
            Store(acc + (OffBr + j) * w, br); Store(acc + (OffBz + j) * w, bz);
            Store(acc + (OffBin + j) * w, bin); Store(acc + (OffBhn + j) * w, bhn);
        }

        // Recurrent kernels: ∂W_h·[i, j] = Σ_s h_s[i]·∂(a_r, a_z, u)[j]. Register tile of four rows i
        // by four steps s: 16 h values stay in registers while each ∂a vector is loaded once per tile.
        for (nint i = 0; i < H; i += 4)
        {
            nint s = 0;
            for (; s + 4 <= k; s += 4)
            {
                float* h = hs + s * hv + i * w;
                TV h00 = Load<TV>(h), h01 = Load<TV>(h + hv), h02 = Load<TV>(h + 2 * hv), h03 = Load<TV>(h + 3 * hv);
                TV h10 = Load<TV>(h + w), h11 = Load<TV>(h + w + hv), h12 = Load<TV>(h + w + 2 * hv), h13 = Load<TV>(h + w + 3 * hv);
                TV h20 = Load<TV>(h + 2 * w), h21 = Load<TV>(h + 2 * w + hv), h22 = Load<TV>(h + 2 * w + 2 * hv), h23 = Load<TV>(h + 2 * w + 3 * hv);
                TV h30 = Load<TV>(h + 3 * w), h31 = Load<TV>(h + 3 * w + hv), h32 = Load<TV>(h + 3 * w + 2 * hv), h33 = Load<TV>(h + 3 * w + 3 * hv);
                float* d = da + s * 4 * hv;
                for (nint g = 0; g < 3; g++)
                {
                    float* a = acc + (OffWhr + g * H * H + i * H) * w;
                    for (nint j = 0; j < H; j++)
                    {
                        float* dj = d + (4 * j + g) * w;
                        TV e0 = Load<TV>(dj), e1 = Load<TV>(dj + 4 * hv), e2 = Load<TV>(dj + 8 * hv), e3 = Load<TV>(dj + 12 * hv);
                        float* a0 = a + j * w;
                        Store(a0, Fma(h03, e3, Fma(h02, e2, Fma(h01, e1, Fma(h00, e0, Load<TV>(a0))))));
                        float* a1 = a0 + hv;
                        Store(a1, Fma(h13, e3, Fma(h12, e2, Fma(h11, e1, Fma(h10, e0, Load<TV>(a1))))));
                        float* a2 = a1 + hv;
                        Store(a2, Fma(h23, e3, Fma(h22, e2, Fma(h21, e1, Fma(h20, e0, Load<TV>(a2))))));
                        float* a3 = a2 + hv;
                        Store(a3, Fma(h33, e3, Fma(h32, e2, Fma(h31, e1, Fma(h30, e0, Load<TV>(a3))))));
                    }
                }
            }
            for (; s < k; s++)
            {
                float* h = hs + s * hv + i * w;
                TV hi0 = Load<TV>(h), hi1 = Load<TV>(h + w), hi2 = Load<TV>(h + 2 * w), hi3 = Load<TV>(h + 3 * w);
                float* d = da + s * 4 * hv;
                for (nint g = 0; g < 3; g++)
                {
                    float* a = acc + (OffWhr + g * H * H + i * H) * w;
                    for (nint j = 0; j < H; j++)
                    {
                        TV e = Load<TV>(d + (4 * j + g) * w);
                        float* a0 = a + j * w;
                        FmaTo(a0, hi0, e);
                        FmaTo(a0 + hv, hi1, e);
                        FmaTo(a0 + 2 * hv, hi2, e);
                        FmaTo(a0 + 3 * hv, hi3, e);
                    }
                }
            }
        }
    }
}
