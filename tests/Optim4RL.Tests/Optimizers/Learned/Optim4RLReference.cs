using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>
/// An independent, straightforward double-precision Optim4RL (docs/algorithms.md) for one coordinate at a
/// time: plain loops, Math.Tanh, 1/(1 + e^−x), Math.Exp, and a hand-written BPTT of the loss
/// L(φ) = Σₙ λₙ·θ_K,n with θ_K = θ_0 + Σₖ Δₖ. It reads φ by array name through the layout, so
/// it shares no offsets or code with the SIMD kernel.
/// </summary>
internal sealed class Optim4RLReference
{
    private const int H = 8;

    /// <summary>One GRU cell plus Dense(8→1) head, in double.</summary>
    internal sealed class Net
    {
        public double[] Wir = new double[H], Wiz = new double[H], Win = new double[H];
        public double[,] Whr = new double[H, H], Whz = new double[H, H], Whn = new double[H, H];
        public double[] Br = new double[H], Bz = new double[H], Bin = new double[H], Bhn = new double[H];
        public double[] K = new double[H];
        public double C;

        public static Net From(MetaParamLayout layout, double[] phi, int cell)
        {
            var net = new Net();
            void Vec(string name, double[] dst)
            {
                var e = layout[name];
                for (int j = 0; j < H; j++) dst[j] = phi[e.Offset + j];
            }
            void Mat(string name, double[,] dst)
            {
                var e = layout[name];
                for (int i = 0; i < H; i++)
                for (int j = 0; j < H; j++) dst[i, j] = phi[e.Offset + i * H + j]; // flax kernel [in, out]
            }
            Vec($"cell{cell}.W_ir", net.Wir); Vec($"cell{cell}.W_iz", net.Wiz); Vec($"cell{cell}.W_in", net.Win);
            Mat($"cell{cell}.W_hr", net.Whr); Mat($"cell{cell}.W_hz", net.Whz); Mat($"cell{cell}.W_hn", net.Whn);
            Vec($"cell{cell}.b_r", net.Br); Vec($"cell{cell}.b_z", net.Bz); Vec($"cell{cell}.b_in", net.Bin); Vec($"cell{cell}.b_hn", net.Bhn);
            Vec($"head{cell}.kernel", net.K);
            net.C = phi[layout[$"head{cell}.bias"].Offset];
            return net;
        }

        public void AddTo(MetaParamLayout layout, double[] dst, int cell)
        {
            void Vec(string name, double[] src)
            {
                var e = layout[name];
                for (int j = 0; j < H; j++) dst[e.Offset + j] += src[j];
            }
            void Mat(string name, double[,] src)
            {
                var e = layout[name];
                for (int i = 0; i < H; i++)
                for (int j = 0; j < H; j++) dst[e.Offset + i * H + j] += src[i, j];
            }
            Vec($"cell{cell}.W_ir", Wir); Vec($"cell{cell}.W_iz", Wiz); Vec($"cell{cell}.W_in", Win);
            Mat($"cell{cell}.W_hr", Whr); Mat($"cell{cell}.W_hz", Whz); Mat($"cell{cell}.W_hn", Whn);
            Vec($"cell{cell}.b_r", Br); Vec($"cell{cell}.b_z", Bz); Vec($"cell{cell}.b_in", Bin); Vec($"cell{cell}.b_hn", Bhn);
            Vec($"head{cell}.kernel", K);
            dst[layout[$"head{cell}.bias"].Offset] += C;
        }
    }

    /// <summary>What one cell step needs for its backward pass.</summary>
    private sealed class Tape
    {
        public double X;
        public double[] HPrev = new double[H], R = new double[H], Z = new double[H], N = new double[H], U = new double[H], HNew = new double[H];
        public double O;
    }

    private readonly MetaParamLayout _layout;
    private readonly Net _n1, _n2;

    public Optim4RLReference(MetaParamLayout layout, ReadOnlySpan<float> phi)
    {
        _layout = layout;
        var d = new double[phi.Length];
        for (int i = 0; i < d.Length; i++) d[i] = phi[i];
        _n1 = Net.From(layout, d, 1);
        _n2 = Net.From(layout, d, 2);
    }

    public Optim4RLReference(MetaParamLayout layout, double[] phi)
    {
        _layout = layout;
        _n1 = Net.From(layout, phi, 1);
        _n2 = Net.From(layout, phi, 2);
    }

    private static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    private static void Cell(Net p, double x, double[] h, Tape t)
    {
        t.X = x;
        Array.Copy(h, t.HPrev, H);
        for (int j = 0; j < H; j++)
        {
            double ar = p.Wir[j] * x + p.Br[j], az = p.Wiz[j] * x + p.Bz[j], u = p.Bhn[j];
            for (int i = 0; i < H; i++)
            {
                ar += h[i] * p.Whr[i, j];
                az += h[i] * p.Whz[i, j];
                u += h[i] * p.Whn[i, j];
            }
            t.R[j] = Sigmoid(ar);
            t.Z[j] = Sigmoid(az);
            t.U[j] = u;
            t.N[j] = Math.Tanh(p.Win[j] * x + p.Bin[j] + t.R[j] * u);
            t.HNew[j] = (1 - t.Z[j]) * t.N[j] + t.Z[j] * h[j];
        }
        t.O = p.C;
        for (int j = 0; j < H; j++) t.O += p.K[j] * t.HNew[j];
    }

    /// <summary>One step of one coordinate: updates h1, h2 in place, returns Δ.</summary>
    public double Step(double[] h1, double[] h2, double g, double alpha)
    {
        var t1 = new Tape();
        var t2 = new Tape();
        double d = Step(h1, h2, g, alpha, t1, t2, out _);
        return d;
    }

    private double Step(double[] h1, double[] h2, double g, double alpha, Tape t1, Tape t2, out double vRatio)
    {
        Cell(_n1, g, h1, t1);
        Cell(_n2, g * g, h2, t2);
        Array.Copy(t1.HNew, h1, H);
        Array.Copy(t2.HNew, h2, H);
        double m = Math.Sign(g) * Math.Exp(t1.O);
        double v = Math.Exp(t2.O);
        vRatio = v / (v + 1e-8);
        return -alpha * m / Math.Sqrt(v + 1e-8);
    }

    /// <summary>L = Σₙ λₙ Σₖ Δₖ,ₙ; state0 is [16, N], grads [K, N].</summary>
    public double Loss(ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int k, ReadOnlySpan<float> lambda, double alpha)
    {
        int n = lambda.Length;
        double loss = 0;
        var h1 = new double[H];
        var h2 = new double[H];
        for (int c = 0; c < n; c++)
        {
            for (int j = 0; j < H; j++) { h1[j] = state0[j * n + c]; h2[j] = state0[(H + j) * n + c]; }
            double sum = 0;
            for (int s = 0; s < k; s++) sum += Step(h1, h2, grads[s * n + c], alpha);
            loss += lambda[c] * sum;
        }
        return loss;
    }

    /// <summary>dL/dφ by BPTT in double (length Layout.Count).</summary>
    public double[] Gradient(ReadOnlySpan<float> state0, ReadOnlySpan<float> grads, int k, ReadOnlySpan<float> lambda, double alpha)
    {
        int n = lambda.Length;
        var g1 = new Net();
        var g2 = new Net();
        var h1 = new double[H];
        var h2 = new double[H];
        var tapes1 = new Tape[k];
        var tapes2 = new Tape[k];
        var deltas = new double[k];
        var ratios = new double[k];
        var a1 = new double[H];
        var a2 = new double[H];
        for (int c = 0; c < n; c++)
        {
            for (int j = 0; j < H; j++) { h1[j] = state0[j * n + c]; h2[j] = state0[(H + j) * n + c]; }
            for (int s = 0; s < k; s++)
            {
                tapes1[s] = new Tape();
                tapes2[s] = new Tape();
                deltas[s] = Step(h1, h2, grads[s * n + c], alpha, tapes1[s], tapes2[s], out ratios[s]);
            }
            Array.Clear(a1);
            Array.Clear(a2);
            for (int s = k - 1; s >= 0; s--)
            {
                double ob1 = lambda[c] * deltas[s];           // ∂Δ/∂o1 = Δ
                double ob2 = -0.5 * lambda[c] * deltas[s] * ratios[s]; // ∂Δ/∂o2 = −½Δ·v/(v+ε)
                CellBackward(_n1, g1, tapes1[s], a1, ob1);
                CellBackward(_n2, g2, tapes2[s], a2, ob2);
            }
        }
        var result = new double[_layout.Count];
        g1.AddTo(_layout, result, 1);
        g2.AddTo(_layout, result, 2);
        return result;
    }

    /// <summary>a: adjoint of h' on entry, of h on exit.</summary>
    private static void CellBackward(Net p, Net grad, Tape t, double[] a, double ob)
    {
        var hb = new double[H];
        grad.C += ob;
        for (int j = 0; j < H; j++)
        {
            grad.K[j] += ob * t.HNew[j];
            hb[j] = a[j] + ob * p.K[j];
        }
        var dh = new double[H];
        for (int j = 0; j < H; j++)
        {
            double dn = hb[j] * (1 - t.Z[j]);
            double dz = hb[j] * (t.HPrev[j] - t.N[j]);
            dh[j] += hb[j] * t.Z[j];
            double dan = dn * (1 - t.N[j] * t.N[j]);
            double dr = dan * t.U[j];
            double du = dan * t.R[j];
            double daz = dz * t.Z[j] * (1 - t.Z[j]);
            double dar = dr * t.R[j] * (1 - t.R[j]);
            grad.Win[j] += dan * t.X; grad.Bin[j] += dan;
            grad.Bhn[j] += du;
            grad.Wiz[j] += daz * t.X; grad.Bz[j] += daz;
            grad.Wir[j] += dar * t.X; grad.Br[j] += dar;
            for (int i = 0; i < H; i++)
            {
                grad.Whr[i, j] += t.HPrev[i] * dar;
                grad.Whz[i, j] += t.HPrev[i] * daz;
                grad.Whn[i, j] += t.HPrev[i] * du;
                dh[i] += p.Whr[i, j] * dar + p.Whz[i, j] * daz + p.Whn[i, j] * du;
            }
        }
        Array.Copy(dh, a, H);
    }
}
