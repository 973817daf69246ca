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
internal interface IGruHead
{
    /// <summary>Features per coordinate fed to the GRU cell (1 or 2).</summary>
    static abstract int InputSize { get; }

    /// <summary>Width of the Dense head after the cell (1 to 3).</summary>
    static abstract int Outputs { get; }

    /// <summary>The cell input for gradient g; <paramref name="x1"/> is unused when <see cref="InputSize"/> is 1.</summary>
    static abstract void Input<TV>(TV g, out TV x0, out TV x1) where TV : struct;

    /// <summary>Δ from g and the head outputs (o_c unused beyond <see cref="Outputs"/>), with ∂Δ/∂o_c.</summary>
    static abstract TV Update<TV>(TV g, TV o0, TV o1, TV o2, float alpha, out TV d0, out TV d1, out TV d2) where TV : struct;
}

/// <summary>
/// A coordinate-wise learned optimizer made of one GRU cell (flax convention, hidden size 8) and
/// a Dense(8 → O) head, generic over the input and update rule (<typeparamref name="THead"/>):
/// the SIMD kernel behind <see cref="LinearOptimOptimizer"/> and <see cref="L2LGD2Optimizer"/>.
/// </summary>
/// <remarks>
/// <para><b>φ layout</b>: <c>cell.W_ir</c>, <c>cell.W_iz</c>, <c>cell.W_in</c> [I, 8];
/// <c>cell.W_hr</c>, <c>cell.W_hz</c>, <c>cell.W_hn</c> [8, 8]; <c>cell.b_r</c>, <c>cell.b_z</c>,
/// <c>cell.b_in</c>, <c>cell.b_hn</c> [8]; <c>head.kernel</c> [8, O]; <c>head.bias</c> [O]. Kernels
/// are flax Dense kernels [in, out], row-major. State: [8, N], the cell's h.</para>
/// <para>Run by <see cref="LearnedKernelDriver"/> like <see cref="Optim4RLOptimizer"/>: one SIMD
/// vector of coordinates at a time through the fused cell with broadcast weights; rational tanh
/// and σ(x) = ½ + ½·tanh(x/2) from <see cref="LearnedSimd"/>. The meta-gradient recomputes the K
/// steps per vector of coordinates into a per-thread scratch, runs the reverse sweep with the same
/// output adjoint λ at every step, and sums ∂L/∂φ over the K steps into per-lane accumulators.
/// The kernel holds no per-call state: one instance serves any number of threads at once.</para>
/// </remarks>
internal sealed unsafe class GruCellKernel<THead> : IGruCellKernel where THead : struct, IGruHead
{
    internal const int H = 8;

    private static int I => THead.InputSize;
    private static int O => THead.Outputs;
    private static int OffWir => 0;
    private static int OffWiz => H * I;
    private static int OffWin => 2 * H * I;
    private static int OffWhr => 3 * H * I;
    private static int OffWhz => OffWhr + H * H;
    private static int OffWhn => OffWhz + H * H;
    private static int OffBr => OffWhn + H * H;
    private static int OffBz => OffBr + H;
    private static int OffBin => OffBz + H;
    private static int OffBhn => OffBin + H;
    private static int OffK => OffBhn + H;
    private static int OffC => OffK + H * O;
    private static int ParamCount => OffC + O;

    internal GruCellKernel()
    {
        if (I is < 1 or > 2 || O is < 1 or > 3) throw new InvalidOperationException("Unsupported GRU head shape.");
        Layout = new MetaParamLayout();
        Layout.Add("cell.W_ir", I, H);
        Layout.Add("cell.W_iz", I, H);
        Layout.Add("cell.W_in", I, H);
        Layout.Add("cell.W_hr", H, H);
        Layout.Add("cell.W_hz", H, H);
        Layout.Add("cell.W_hn", H, H);
        Layout.Add("cell.b_r", H);
        Layout.Add("cell.b_z", H);
        Layout.Add("cell.b_in", H);
        Layout.Add("cell.b_hn", H);
        Layout.Add("head.kernel", H, O);
        Layout.Add("head.bias", O);
        if (Layout.Count != ParamCount) throw new InvalidOperationException("GRU layout size mismatch.");
    }

    public MetaParamLayout Layout { get; }

    /// <summary>flax init: input kernels LeCun normal (fan_in I), recurrent kernels orthogonal, head kernel LeCun normal (fan_in 8), biases zero.</summary>
    public void InitMetaParams(ref Rng rng, Span<float> phi)
    {
        if (phi.Length != ParamCount) throw new ArgumentException($"φ must have {ParamCount} elements, got {phi.Length}.", nameof(phi));
        phi.Clear();
        FlaxInit.LecunNormal(ref rng, phi.Slice(OffWir, H * I), I);
        FlaxInit.LecunNormal(ref rng, phi.Slice(OffWiz, H * I), I);
        FlaxInit.LecunNormal(ref rng, phi.Slice(OffWin, H * I), I);
        FlaxInit.Orthogonal(ref rng, phi.Slice(OffWhr, H * H), H);
        FlaxInit.Orthogonal(ref rng, phi.Slice(OffWhz, H * H), H);
        FlaxInit.Orthogonal(ref rng, phi.Slice(OffWhn, H * H), H);
        FlaxInit.LecunNormal(ref rng, phi.Slice(OffK, H * O), H);
    }

    public void Step(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, Span<float> updates,
        float learningRate, int groupSize) =>
        LearnedKernelDriver.Step<Blocks>(execution, phi, from, to, grads, updates, learningRate, groupSize);

    public void Update(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan from, StateSpan to, ReadOnlySpan<float> grads, float gradClip,
        Span<float> clippedGrads, Span<float> theta, float learningRate, int groupSize) =>
        LearnedKernelDriver.Update<Blocks>(execution, phi, from, to, grads, gradClip, clippedGrads, theta, learningRate, groupSize);

    public void MetaGradient(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<float> metaGrad, int groupSize) =>
        LearnedKernelDriver.MetaGradient<Blocks>(execution, phi, state0, grads, steps, adjoint, learningRate, metaGrad, groupSize);

    public void MetaGradientPartials(KernelExecution execution, ReadOnlySpan<float> phi, StateSpan state0, ReadOnlySpan<float> grads, int steps,
        ReadOnlySpan<float> adjoint, float learningRate, Span<double> partials, int groupSize) =>
        LearnedKernelDriver.MetaGradientPartials<Blocks>(execution, phi, state0, grads, steps, adjoint, learningRate, partials, groupSize);

    /// <summary>The per-vector code, for <see cref="LearnedKernelDriver"/>.</summary>
    private struct Blocks : ICoordinatewiseBlocks
    {
        public static int ParamCount => GruCellKernel<THead>.ParamCount;

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
            CellForward<TV, NoSave>(phi, x0, x1, state, stride, state, stride, null, out TV o0, out TV o1, out TV o2);
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
                CellForward<TV, Save>(phi, x0, x1, hs + s * hv, w, hs + (s + 1) * hv, w, sv + s * 4 * hv, out TV o0, out TV o1, out TV o2);
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
                CellBackward(phi, hs + s * hv, sv + s * 4 * hv, adj, ob0, ob1, ob2);
            }

            Accumulate<TV>(acc, k, hs, sv, xs, db);
        }
    }

    private const MethodImplOptions Kernel = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;

    private interface ISaveMode { }
    private struct Save : ISaveMode { }
    private struct NoSave : ISaveMode { }

    /// <summary>
    /// The GRU cell plus head for one vector of coordinates: reads h (unit j at hIn + j·inStride),
    /// writes h' to hOut (may equal hIn), returns the head outputs. With Save it stores r, z, n, u
    /// of unit j at save + (4j + {0,1,2,3})·W.
    /// </summary>
    [MethodImpl(Kernel)]
    private static void CellForward<TV, TSave>(float* net, TV x0, TV x1, float* hIn, nint inStride, float* hOut, nint outStride, float* save,
        out TV o0, out TV o1, out TV o2) where TV : struct where TSave : struct, ISaveMode
    {
        int w = Count<TV>();
        TV h0 = Load<TV>(hIn), h1 = Load<TV>(hIn + inStride), h2 = Load<TV>(hIn + 2 * inStride), h3 = Load<TV>(hIn + 3 * inStride);
        TV h4 = Load<TV>(hIn + 4 * inStride), h5 = Load<TV>(hIn + 5 * inStride), h6 = Load<TV>(hIn + 6 * inStride), h7 = Load<TV>(hIn + 7 * inStride);
        int o = O;
        o0 = Bcast<TV>(net[OffC]);
        o1 = o > 1 ? Bcast<TV>(net[OffC + 1]) : default;
        o2 = o > 2 ? Bcast<TV>(net[OffC + 2]) : default;
        for (int j = 0; j < H; j++)
        {
            TV ar = Fma(x0, Bcast<TV>(net[OffWir + j]), Bcast<TV>(net[OffBr + j]));
            TV az = Fma(x0, Bcast<TV>(net[OffWiz + j]), Bcast<TV>(net[OffBz + j]));
            TV an = Fma(x0, Bcast<TV>(net[OffWin + j]), Bcast<TV>(net[OffBin + j]));
            if (I == 2)
            {
                ar = Fma(x1, Bcast<TV>(net[OffWir + H + j]), ar);
                az = Fma(x1, Bcast<TV>(net[OffWiz + H + j]), az);
                an = Fma(x1, Bcast<TV>(net[OffWin + H + j]), an);
            }
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
            TV nn = Tanh(Fma(r, u, an));
            TV hj = Load<TV>(hIn + j * inStride); // not yet overwritten when hOut == hIn
            TV hNew = Fma(z, Sub(hj, nn), nn);    // (1 − z)·n + z·h
            Store(hOut + j * outStride, hNew);
            float* kj = net + OffK + j * o;
            o0 = Fma(hNew, Bcast<TV>(kj[0]), o0);
            if (o > 1) o1 = Fma(hNew, Bcast<TV>(kj[1]), o1);
            if (o > 2) o2 = Fma(hNew, Bcast<TV>(kj[2]), o2);
            if (typeof(TSave) == typeof(Save))
            {
                float* s = save + 4 * j * w;
                Store(s, r);
                Store(s + w, z);
                Store(s + 2 * w, nn);
                Store(s + 3 * w, u);
            }
        }
    }

    /// <summary>
    /// Backward of one cell-plus-head step for one vector of coordinates: <paramref name="adj"/> holds
    /// the adjoint of h' on entry and of h on exit; the saved gates are replaced by the
    /// pre-activation adjoints (∂a_r, ∂a_z, ∂u, ∂a_n).
    /// </summary>
    [MethodImpl(Kernel)]
    private static void CellBackward<TV>(float* net, float* hPrev, float* save, float* adj, TV ob0, TV ob1, TV ob2) where TV : struct
    {
        nint w = Count<TV>();
        int o = O;
        TV one = Bcast<TV>(1f);
        TV d0 = Bcast<TV>(0f), d1 = d0, d2 = d0, d3 = d0, d4 = d0, d5 = d0, d6 = d0, d7 = d0;
        for (nint j = 0; j < H; j++)
        {
            float* kj = net + OffK + j * o;
            TV hb = Fma(ob0, Bcast<TV>(kj[0]), Load<TV>(adj + j * w)); // ∂L/∂h'_j
            if (o > 1) hb = Fma(ob1, Bcast<TV>(kj[1]), hb);
            if (o > 2) hb = Fma(ob2, Bcast<TV>(kj[2]), hb);
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
    /// Adds the per-lane ∂L/∂φ of the K steps of one vector of coordinates to <paramref name="acc"/>,
    /// summing over the steps in registers so each accumulator is touched once per vector.
    /// </summary>
    [MethodImpl(Kernel)]
    private static void Accumulate<TV>(float* acc, int k, float* hs, float* da, float* xs, float* ob) where TV : struct
    {
        nint w = Count<TV>();
        nint hv = H * w;
        int o = O;

        // Head: ∂kernel[j, c] = Σ_s ob_{s,c}·h_{s+1}[j], ∂bias[c] = Σ_s ob_{s,c}.
        for (int c = 0; c < o; c++)
        {
            TV b = Load<TV>(acc + (OffC + c) * w);
            for (nint s = 0; s < k; s++) b = Add(b, Load<TV>(ob + (3 * s + c) * w));
            Store(acc + (OffC + c) * w, b);
            for (nint j = 0; j < H; j++)
            {
                float* a = acc + (OffK + j * o + c) * w;
                TV v = Load<TV>(a);
                for (nint s = 0; s < k; s++) v = Fma(Load<TV>(ob + (3 * s + c) * w), Load<TV>(hs + (s + 1) * hv + j * w), v);
                Store(a, v);
            }
        }

        // Input kernels and biases: ∂W_i·[i, j] = Σ_s ∂a·[j]·x_s[i], ∂b·[j] = Σ_s ∂a·[j].
        for (nint j = 0; j < H; j++)
        {
            TV wir = Load<TV>(acc + (OffWir + j) * w), wiz = Load<TV>(acc + (OffWiz + j) * w), win = Load<TV>(acc + (OffWin + j) * w);
            TV wir1 = default, wiz1 = default, win1 = default;
            if (I == 2)
            {
                wir1 = Load<TV>(acc + (OffWir + H + j) * w); wiz1 = Load<TV>(acc + (OffWiz + H + j) * w); win1 = Load<TV>(acc + (OffWin + H + j) * w);
            }
            TV br = Load<TV>(acc + (OffBr + j) * w), bz = Load<TV>(acc + (OffBz + j) * w);
            TV bin = Load<TV>(acc + (OffBin + j) * w), bhn = Load<TV>(acc + (OffBhn + j) * w);
            for (nint s = 0; s < k; s++)
            {
                TV x0 = Load<TV>(xs + 2 * s * w);
                float* d = da + s * 4 * hv + 4 * j * w;
                TV dar = Load<TV>(d), daz = Load<TV>(d + w), du = Load<TV>(d + 2 * w), dan = Load<TV>(d + 3 * w);
                wir = Fma(dar, x0, wir); br = Add(br, dar);
                wiz = Fma(daz, x0, wiz); bz = Add(bz, daz);
                win = Fma(dan, x0, win); bin = Add(bin, dan);
                bhn = Add(bhn, du);
                if (I == 2)
                {
                    TV x1 = Load<TV>(xs + (2 * s + 1) * w);
                    wir1 = Fma(dar, x1, wir1); wiz1 = Fma(daz, x1, wiz1); win1 = Fma(dan, x1, win1);
                }
            }
            Store(acc + (OffWir + j) * w, wir); Store(acc + (OffWiz + j) * w, wiz); Store(acc + (OffWin + j) * w, win);
            if (I == 2)
            {
                Store(acc + (OffWir + H + j) * w, wir1); Store(acc + (OffWiz + H + j) * w, wiz1); Store(acc + (OffWin + H + j) * w, win1);
            }
            Store(acc + (OffBr + j) * w, br); Store(acc + (OffBz + j) * w, bz);
            Store(acc + (OffBin + j) * w, bin); Store(acc + (OffBhn + j) * w, bhn);
        }

        // Recurrent kernels: ∂W_h·[i, j] = Σ_s h_s[i]·∂(a_r, a_z, u)[j].
        for (nint i = 0; i < H; i++)
        {
            for (nint g = 0; g < 3; g++)
            {
                float* a = acc + (OffWhr + g * H * H + i * H) * w;
                for (nint j = 0; j < H; j++)
                {
                    TV v = Load<TV>(a + j * w);
                    for (nint s = 0; s < k; s++)
                        v = Fma(Load<TV>(hs + s * hv + i * w), Load<TV>(da + s * 4 * hv + (4 * j + g) * w), v);
                    Store(a + j * w, v);
                }
            }
        }
    }
}
