using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Optim4RL.Tensors;
using static Optim4RL.Optimizers.Learned.LearnedSimd;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// What distinguishes one single-GRU learned optimizer from another (docs/algorithms.md, "Learned optimizers"): the cell input
/// made from g (one or two features, constant with respect to φ) and the update Δ made from g
/// and the head outputs. Implemented by empty structs so that the JIT specialises and inlines
/// the kernel for each architecture.
/// </summary>
internal interface IGruHead : IGruShape
{
    /// <summary>The cell input for gradient g; <paramref name="x1"/> is unused when <see cref="IGruShape.InputSize"/> is 1.</summary>
    static abstract void Input<TV>(TV g, out TV x0, out TV x1) where TV : struct;

    /// <summary>Δ from g and the head outputs (o_c unused beyond <see cref="IGruShape.Outputs"/>), with ∂Δ/∂o_c.</summary>
    static abstract TV Update<TV>(TV g, TV o0, TV o1, TV o2, float alpha, out TV d0, out TV d1, out TV d2) where TV : struct;
}

/// <summary>
/// A coordinate-wise learned optimizer made of one <see cref="GruCell{TShape}"/> (flax convention, hidden size 8,
/// Dense(8 → O) head), generic over the input and update rule (<typeparamref name="THead"/>):
/// the SIMD kernel behind <see cref="LinearOptimOptimizer"/> and <see cref="L2LGD2Optimizer"/>.
/// </summary>
/// <remarks>
/// <para><b>φ layout</b>: <c>cell.W_ir</c>, <c>cell.W_iz</c>, <c>cell.W_in</c> [I, 8];
/// <c>cell.W_hr</c>, <c>cell.W_hz</c>, <c>cell.W_hn</c> [8, 8]; <c>cell.b_r</c>, <c>cell.b_z</c>,
/// <c>cell.b_in</c>, <c>cell.b_hn</c> [8]; <c>head.kernel</c> [8, O]; <c>head.bias</c> [O]. State: [8, N], the cell's h.</para>
/// <para>Run by <see cref="LearnedKernelDriver"/> like <see cref="Optim4RLOptimizer"/>: one SIMD
/// vector of coordinates at a time through the fused cell with broadcast weights. The meta-gradient recomputes the K
/// steps per vector of coordinates into a per-thread scratch, runs the reverse sweep with the same
/// output adjoint λ at every step, and sums ∂L/∂φ over the K steps into per-lane accumulators.
/// The kernel holds no per-call state: one instance serves any number of threads at once.</para>
/// </remarks>
internal sealed unsafe class GruCellKernel<THead> : IGruCellKernel where THead : struct, IGruHead
{
    private const int H = GruCell<THead>.H;

    private static int I => THead.InputSize;
    private static int O => THead.Outputs;

    internal GruCellKernel()
    {
        Layout = new MetaParamLayout();
        GruCell<THead>.AddLayout(Layout, "cell", "head");
    }

    public MetaParamLayout Layout { get; }

    public ICoordinatewiseDriver Driver => CoordinatewiseDriver<Blocks>.Instance;

    /// <summary>flax init: input kernels LeCun normal (fan_in I), recurrent kernels orthogonal, head kernel LeCun normal (fan_in 8), biases zero.</summary>
    public void InitMetaParams(ref Rng rng, Span<float> phi)
    {
        LearnedKernelDriver.CheckPhi(GruCell<THead>.ParamCount, phi);
        GruCell<THead>.Init(ref rng, phi);
    }

    /// <summary>The per-vector code, for <see cref="LearnedKernelDriver"/>.</summary>
    private struct Blocks : ICoordinatewiseBlocks
    {
        public static int ParamCount => GruCell<THead>.ParamCount;

        public static int StateUnits => H;

        // -----------------------------------------------------------------------------------------
        // Work area of MetaBlock, in vectors of W floats (W = lanes):
        //   hs   [(K+1)·8]      states h_0 … h_K of the current vector of coordinates
        //   sv   [K·32]         gates r, z, n and u = W_hn h + b_hn of every step, replaced in the
        //                       reverse sweep by the pre-activation adjoints (∂a_r, ∂a_z, ∂u, ∂a_n)
        //   xs   [K·2]          the cell inputs of every step
        //   db   [K·3]          ∂Δ/∂o_c of every step, replaced by the head adjoints λ·∂Δ/∂o_c
        //   adj  [8]            carried adjoint of h
        // -----------------------------------------------------------------------------------------
        public static int MetaWorkVectors(int k) => (k + 1) * H + k * 4 * H + 2 * k + 3 * k + H;

        /// <summary>One step for one vector of coordinates; state stride <paramref name="stride"/>.</summary>
        [MethodImpl(Kernel)]
        public static void StepBlock<TV>(float* phi, float* state, nint stride, float* grads, float* updates, float alpha) where TV : struct
        {
            TV g = Load<TV>(grads);
            THead.Input(g, out TV x0, out TV x1);
            GruCell<THead>.Forward<TV, GruNoSave>(phi, x0, x1, state, stride, state, stride, null, out TV o0, out TV o1, out TV o2);
            Store(updates, THead.Update(g, o0, o1, o2, alpha, out _, out _, out _));
        }

        /// <summary>Recomputes K steps for one vector of coordinates, runs the reverse sweep, adds the per-lane ∂L/∂φ to <paramref name="acc"/>.</summary>
        [MethodImpl(Kernel)]
        public static void MetaBlock<TV>(float* phi, float* state0, nint stride, float* grads, int k, float* adjoint, float alpha,
            float* work, float* acc) where TV : struct
        {
            int w = Count<TV>();
            int hv = H * w;
            float* hs = work;
            float* sv = hs + (k + 1) * hv;
            float* xs = sv + k * 4 * hv;
            float* db = xs + 2 * k * w;
            float* adj = db + 3 * k * w;

            for (int j = 0; j < H; j++) Store(hs + j * w, Load<TV>(state0 + j * stride));
            for (int s = 0; s < k; s++)
            {
                TV g = Load<TV>(grads + s * stride);
                THead.Input(g, out TV x0, out TV x1);
                Store(xs + 2 * s * w, x0);
                if (I == 2) Store(xs + (2 * s + 1) * w, x1);
                GruCell<THead>.Forward<TV, GruSave>(phi, x0, x1, hs + s * hv, w, hs + (s + 1) * hv, w, sv + s * 4 * hv, out TV o0, out TV o1, out TV o2);
                THead.Update(g, o0, o1, o2, alpha, out TV d0, out TV d1, out TV d2);
                float* d = db + 3 * s * w;
                Store(d, d0);
                if (O > 1) Store(d + w, d1);
                if (O > 2) Store(d + 2 * w, d2);
            }

            TV lambda = Load<TV>(adjoint);
            TV zero = Bcast<TV>(0f);
            for (int j = 0; j < H; j++) Store(adj + j * w, zero);
            for (int s = k - 1; s >= 0; s--)
            {
                // The same adjoint λ on every step's Δ: the head adjoints are λ·∂Δ/∂o_c.
                float* d = db + 3 * s * w;
                TV ob0 = Mul(lambda, Load<TV>(d));
                TV ob1 = O > 1 ? Mul(lambda, Load<TV>(d + w)) : zero;
                TV ob2 = O > 2 ? Mul(lambda, Load<TV>(d + 2 * w)) : zero;
                Store(d, ob0);
                if (O > 1) Store(d + w, ob1);
                if (O > 2) Store(d + 2 * w, ob2);
                GruCell<THead>.Backward(phi, hs + s * hv, sv + s * 4 * hv, adj, ob0, ob1, ob2);
            }

            GruCell<THead>.Accumulate<TV>(acc, k, hs, sv, xs, 2, db, 3);
        }
    }

    private const MethodImplOptions Kernel = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;
}
