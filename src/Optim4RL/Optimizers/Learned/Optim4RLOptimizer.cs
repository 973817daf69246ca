using System.Runtime.CompilerServices;
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
/// <para><b>φ layout</b> (514 floats; <see cref="LearnedOptimizerBase.Layout"/> names every array): two
/// <see cref="GruCell{TShape}"/> nets, for c = 1, 2 in turn <c>cellc.W_ir</c>, <c>cellc.W_iz</c>, <c>cellc.W_in</c> [1, 8];
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
/// <see cref="LearnedOptimizerBase.MaxDegreeOfParallelism"/> caps the threads each call uses.</para>
/// </remarks>
public sealed unsafe class Optim4RLOptimizer : CoordinatewiseLearnedOptimizer
{
    private const int H = GruCell<ScalarCell>.H;
    private const int ParamCount = 514;

    /// <summary>The ε inside √(v + ε).</summary>
    public const float Epsilon = 1e-8f;

    private readonly MetaParamLayout _layout = new();

    /// <summary>Creates the kernel; it holds no φ (φ is an argument of every call).</summary>
    public Optim4RLOptimizer()
        : base(CoordinatewiseDriver<Blocks>.Instance)
    {
        for (int c = 1; c <= 2; c++) GruCell<ScalarCell>.AddLayout(_layout, $"cell{c}", $"head{c}");
        if (_layout.Count != ParamCount) throw new InvalidOperationException("Optim4RL layout size mismatch.");
    }

    // One net: a GRU cell over one feature (g, or g² for the second) with a Dense(8 → 1) head, 257 floats.
    private static int NetSize => GruCell<ScalarCell>.ParamCount;

    /// <inheritdoc />
    public override string Name => "Optim4RL";

    /// <inheritdoc />
    public override int HiddenSize => H;

    /// <summary>16 floats per coordinate: both cells' h.</summary>
    public override int StateSize => 2 * H;

    /// <inheritdoc />
    public override MetaParamLayout Layout => _layout;

    /// <summary>
    /// Fills φ as flax initialises the modules (<see cref="GruCell{TShape}"/>'s initialisers for each net): input
    /// kernels and head kernels LeCun-normal (truncated normal, variance 1/fan_in; fan_in 1 and 8), recurrent
    /// kernels orthogonal (Gram–Schmidt QR of a standard normal 8×8 matrix, signs fixed so that diag(R) &gt; 0),
    /// all biases zero.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="phi"/> is not <c>Layout.Count</c> long.</exception>
    public override void InitMetaParams(ref Rng rng, Span<float> phi)
    {
        LearnedKernelDriver.CheckPhi(ParamCount, phi);
        for (int c = 0; c < 2; c++) GruCell<ScalarCell>.Init(ref rng, phi.Slice(c * NetSize, NetSize));
    }

    /// <summary>The shape of both nets: one input feature, one head output.</summary>
    private struct ScalarCell : IGruShape
    {
        public static int InputSize => 1;

        public static int Outputs => 1;
    }

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
        //   xs    [K·2]            the cells' inputs g and g² of every step
        //   dv    [K·2]            Δ_k and v/(v + ε) of every step, replaced by the head adjoints
        //   adj1, adj2 [8 each]    carried adjoints of h1, h2
        // ---------------------------------------------------------------------------------------------
        public static int MetaWorkVectors(int k) => 2 * (k + 1) * H + 2 * k * 4 * H + 2 * k + 2 * k + 2 * H;

        /// <summary>One Optim4RL step for one vector of coordinates; state stride <paramref name="stride"/>.</summary>
        [MethodImpl(Kernel)]
        public static void StepBlock<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float alpha) where TV : struct
        {
            TV g = Load<TV>(grads);
            GruCell<ScalarCell>.Forward<TV, GruNoSave>(phi, g, default, state, stride, state, stride, null, out TV o1, out _, out _);
            GruCell<ScalarCell>.Forward<TV, GruNoSave>(phi + NetSize, Mul(g, g), default, state + H * stride, stride, state + H * stride, stride, null,
                out TV o2, out _, out _);
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
            float* xs = sv2 + k * 4 * hv;
            float* dv = xs + 2 * k * w;
            float* adj1 = dv + 2 * k * w, adj2 = adj1 + hv;

            for (int j = 0; j < H; j++)
            {
                Store(hs1 + j * w, Load<TV>(state0 + j * stride));
                Store(hs2 + j * w, Load<TV>(state0 + (H + j) * stride));
            }
            for (int s = 0; s < k; s++)
            {
                TV g = Load<TV>(grads + s * stride);
                TV gg = Mul(g, g);
                Store(xs + 2 * s * w, g);
                Store(xs + (2 * s + 1) * w, gg);
                GruCell<ScalarCell>.Forward<TV, GruSave>(phi, g, default, hs1 + s * hv, w, hs1 + (s + 1) * hv, w, sv1 + s * 4 * hv, out TV o1, out _, out _);
                GruCell<ScalarCell>.Forward<TV, GruSave>(phi + NetSize, gg, default, hs2 + s * hv, w, hs2 + (s + 1) * hv, w, sv2 + s * 4 * hv, out TV o2, out _, out _);
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
                GruCell<ScalarCell>.Backward(phi, hs1 + s * hv, sv1 + s * 4 * hv, adj1, ob1, zero, zero);
                GruCell<ScalarCell>.Backward(phi + NetSize, hs2 + s * hv, sv2 + s * 4 * hv, adj2, ob2, zero, zero);
            }

            GruCell<ScalarCell>.Accumulate<TV>(acc, k, hs1, sv1, xs, 2, dv, 2);
            GruCell<ScalarCell>.Accumulate<TV>(acc + NetSize * w, k, hs2, sv2, xs + w, 2, dv + w, 2);
        }
    }

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
}
