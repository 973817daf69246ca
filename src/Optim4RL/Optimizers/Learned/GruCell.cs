using System.Runtime.CompilerServices;
using Optim4RL.Tensors;
using static Optim4RL.Optimizers.Learned.LearnedSimd;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// The shape of a GRU cell with its Dense head: features in, head outputs. Implemented by empty
/// structs, so the JIT specialises <see cref="GruCell{TShape}"/> for each shape.
/// </summary>
internal interface IGruShape
{
    /// <summary>Features per coordinate fed to the GRU cell (1 or 2).</summary>
    static abstract int InputSize { get; }

    /// <summary>Width of the Dense head after the cell (1 to 3).</summary>
    static abstract int Outputs { get; }
}

/// <summary>Whether <see cref="GruCell{TShape}.Forward{TV, TSave}"/> keeps the gates for the backward pass.</summary>
internal interface IGruSaveMode { }

/// <summary>Keep the gates (meta-gradient recompute).</summary>
internal struct GruSave : IGruSaveMode { }

/// <summary>Keep nothing (a plain step).</summary>
internal struct GruNoSave : IGruSaveMode { }

/// <summary>
/// One coordinate-wise GRU cell (flax convention, hidden size 8) with a Dense(8 → O) head, for one
/// SIMD vector of coordinates at a time: its φ layout and initialisation, the forward step, the
/// backward step and the per-lane ∂L/∂φ of K steps. Every GRU learned optimizer is made of it
/// (<see cref="Optim4RLOptimizer"/>'s two cells, <see cref="LinearOptimOptimizer"/>, <see cref="L2LGD2Optimizer"/>).
/// </summary>
/// <remarks>
/// φ of one cell: <c>W_ir</c>, <c>W_iz</c>, <c>W_in</c> [I, 8]; <c>W_hr</c>, <c>W_hz</c>, <c>W_hn</c> [8, 8];
/// <c>b_r</c>, <c>b_z</c>, <c>b_in</c>, <c>b_hn</c> [8]; head <c>kernel</c> [8, O]; head <c>bias</c> [O]. Kernels
/// are flax Dense kernels [in, out], row-major, so the recurrent term of unit j is Σᵢ h[i]·W[i, j]. The cell is
/// r = σ(W_ir x + W_hr h + b_r), z = σ(W_iz x + W_hz h + b_z), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
/// h' = (1 − z) ⊙ n + z ⊙ h, with the rational tanh and σ(x) = ½ + ½·tanh(x/2) of <see cref="LearnedSimd"/>;
/// the backward pass uses the derivatives of exactly these values (tanh' = 1 − tanh², σ' = σ(1 − σ)).
/// </remarks>
internal static unsafe class GruCell<TShape> where TShape : struct, IGruShape
{
    internal const int H = 8;

    private static int I => TShape.InputSize;
    private static int O => TShape.Outputs;
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

    /// <summary>Length of one cell's φ.</summary>
    internal static int ParamCount => OffC + O;

    // The cell methods are compiled separately and fully optimised at once: each is small enough for
    // the JIT to inline every SIMD helper (one huge method would exceed its inlining budget).
    private const MethodImplOptions Kernel = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;

    /// <summary>Adds one cell's arrays to <paramref name="layout"/>, named <c>{cell}.W_ir</c> … and <c>{head}.kernel</c>, <c>{head}.bias</c>.</summary>
    /// <exception cref="InvalidOperationException">An unsupported shape.</exception>
    internal static void AddLayout(MetaParamLayout layout, string cell, string head)
    {
        if (I is < 1 or > 2 || O is < 1 or > 3) throw new InvalidOperationException("Unsupported GRU head shape.");
        layout.Add($"{cell}.W_ir", I, H);
        layout.Add($"{cell}.W_iz", I, H);
        layout.Add($"{cell}.W_in", I, H);
        layout.Add($"{cell}.W_hr", H, H);
        layout.Add($"{cell}.W_hz", H, H);
        layout.Add($"{cell}.W_hn", H, H);
        layout.Add($"{cell}.b_r", H);
        layout.Add($"{cell}.b_z", H);
        layout.Add($"{cell}.b_in", H);
        layout.Add($"{cell}.b_hn", H);
        layout.Add($"{head}.kernel", H, O);
        layout.Add($"{head}.bias", O);
    }

    /// <summary>
    /// flax's initialisers for one cell's φ (<paramref name="net"/>, <see cref="ParamCount"/> long): input kernels LeCun normal
    /// (fan_in I), recurrent kernels orthogonal, head kernel LeCun normal (fan_in 8), biases zero.
    /// </summary>
    internal static void Init(ref Rng rng, Span<float> net)
    {
        net.Clear();
        FlaxInit.LecunNormal(ref rng, net.Slice(OffWir, H * I), I);
        FlaxInit.LecunNormal(ref rng, net.Slice(OffWiz, H * I), I);
        FlaxInit.LecunNormal(ref rng, net.Slice(OffWin, H * I), I);
        FlaxInit.Orthogonal(ref rng, net.Slice(OffWhr, H * H), H);
        FlaxInit.Orthogonal(ref rng, net.Slice(OffWhz, H * H), H);
        FlaxInit.Orthogonal(ref rng, net.Slice(OffWhn, H * H), H);
        FlaxInit.LecunNormal(ref rng, net.Slice(OffK, H * O), H);
    }

    /// <summary>
    /// The cell plus head for one vector of coordinates: reads h (unit j at hIn + j·inStride),
    /// writes h' to hOut (may equal hIn), returns the head outputs (o1, o2 unused beyond O). With
    /// <see cref="GruSave"/> it stores r, z, n, u of unit j at save + (4j + {0,1,2,3})·W.
    /// </summary>
    [MethodImpl(Kernel)]
    internal static void Forward<TV, TSave>(float* net, TV x0, TV x1, float* hIn, nint inStride, float* hOut, nint outStride, float* save,
        out TV o0, out TV o1, out TV o2) where TV : struct where TSave : struct, IGruSaveMode
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
            if (typeof(TSave) == typeof(GruSave))
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
    /// the adjoint of h' (from later steps) on entry and of h on exit; ob0 … ob2 are the adjoints of the
    /// head outputs. The step's saved gates (r, z, n, u of unit j at save + (4j + 0…3)·W) are replaced
    /// by the pre-activation adjoints (∂a_r, ∂a_z, ∂u, ∂a_n), from which <see cref="Accumulate{TV}"/> forms ∂L/∂φ.
    /// </summary>
    [MethodImpl(Kernel)]
    internal static void Backward<TV>(float* net, float* hPrev, float* save, float* adj, TV ob0, TV ob1, TV ob2) where TV : struct
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
    /// Adds one cell's per-lane ∂L/∂φ over the K steps of one vector of coordinates to <paramref name="acc"/>
    /// (<see cref="ParamCount"/> vectors), from the states h_0 … h_K (<paramref name="hs"/>, [(K+1)·8] vectors), the
    /// pre-activation adjoints left by <see cref="Backward{TV}"/> (<paramref name="da"/>, [K·32]), the inputs
    /// (step s's feature i at xs + (xStride·s + i)·W) and the head adjoints (step s's output c at ob + (obStride·s + c)·W).
    /// Every accumulator sums over the steps in registers, in step order, so it is touched once per vector of coordinates.
    /// </summary>
    [MethodImpl(Kernel)]
    internal static void Accumulate<TV>(float* acc, int k, float* hs, float* da, float* xs, nint xStride, float* ob, nint obStride) where TV : struct
    {
        nint w = Count<TV>();
        nint hv = H * w;
        int o = O;

        // Head: ∂kernel[j, c] = Σ_s ob_{s,c}·h_{s+1}[j], ∂bias[c] = Σ_s ob_{s,c}.
        for (int c = 0; c < o; c++)
        {
            TV b = Load<TV>(acc + (OffC + c) * w);
            for (nint s = 0; s < k; s++) b = Add(b, Load<TV>(ob + (obStride * s + c) * w));
            Store(acc + (OffC + c) * w, b);
            for (nint j = 0; j < H; j++)
            {
                float* a = acc + (OffK + j * o + c) * w;
                TV v = Load<TV>(a);
                for (nint s = 0; s < k; s++) v = Fma(Load<TV>(ob + (obStride * s + c) * w), Load<TV>(hs + (s + 1) * hv + j * w), v);
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
                TV x0 = Load<TV>(xs + xStride * s * w);
                float* d = da + s * 4 * hv + 4 * j * w;
                TV dar = Load<TV>(d), daz = Load<TV>(d + w), du = Load<TV>(d + 2 * w), dan = Load<TV>(d + 3 * w);
                wir = Fma(dar, x0, wir); br = Add(br, dar);
                wiz = Fma(daz, x0, wiz); bz = Add(bz, daz);
                win = Fma(dan, x0, win); bin = Add(bin, dan);
                bhn = Add(bhn, du);
                if (I == 2)
                {
                    TV x1 = Load<TV>(xs + (xStride * s + 1) * w);
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
