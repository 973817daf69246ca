using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>
/// An independent, straightforward double-precision LinearOptim or L2LGD2 (docs/algorithms.md) for one
/// coordinate at a time: a flax GRU cell with plain loops, Math.Tanh, 1/(1 + e^−x), Math.Exp and
/// Math.Log, and a hand-written BPTT of L(φ) = Σₙ λₙ·θ_K,n with θ_K = θ_0 + Σₖ Δₖ. It reads φ by
/// array name through the layout, so it shares no offsets or code with the SIMD kernel.
/// </summary>
internal sealed class GruBaselineReference
{
    private const int H = 8;

    private readonly MetaParamLayout _layout;
    private readonly bool _l2l;
    private readonly int _in, _out;
    private readonly double[,] _wir, _wiz, _win, _whr, _whz, _whn, _k;
    private readonly double[] _br, _bz, _bin, _bhn, _c;

    /// <summary>A reference for <paramref name="name"/> ("LinearOptim" or "L2LGD2") with φ read through <paramref name="layout"/>.</summary>
    public GruBaselineReference(string name, MetaParamLayout layout, ReadOnlySpan<float> phi) : this(name, layout, ToDouble(phi)) { }

    public GruBaselineReference(string name, MetaParamLayout layout, double[] phi)
    {
        _layout = layout;
        _l2l = name switch { "LinearOptim" => false, "L2LGD2" => true, _ => throw new ArgumentException(name) };
        _in = _l2l ? 2 : 1;
        _out = _l2l ? 1 : 3;
        _wir = Mat(phi, "cell.W_ir", _in, H); _wiz = Mat(phi, "cell.W_iz", _in, H); _win = Mat(phi, "cell.W_in", _in, H);
        _whr = Mat(phi, "cell.W_hr", H, H); _whz = Mat(phi, "cell.W_hz", H, H); _whn = Mat(phi, "cell.W_hn", H, H);
        _br = Vec(phi, "cell.b_r", H); _bz = Vec(phi, "cell.b_z", H); _bin = Vec(phi, "cell.b_in", H); _bhn = Vec(phi, "cell.b_hn", H);
        _k = Mat(phi, "head.kernel", H, _out);
        _c = Vec(phi, "head.bias", _out);
    }

    private static double[] ToDouble(ReadOnlySpan<float> phi)
    {
        var d = new double[phi.Length];
        for (int i = 0; i < d.Length; i++) d[i] = phi[i];
        return d;
    }

    private double[,] Mat(double[] phi, string name, int rows, int cols)
    {
        var e = _layout[name];
        if (e.Shape.Length != 2 || e.Shape[0] != rows || e.Shape[1] != cols) throw new InvalidOperationException($"{name} has shape [{string.Join(",", e.Shape)}]");
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) m[i, j] = phi[e.Offset + i * cols + j];
        return m;
    }

    private double[] Vec(double[] phi, string name, int len)
    {
        var e = _layout[name];
        if (e.Length != len) throw new InvalidOperationException(name);
        return phi.AsSpan(e.Offset, len).ToArray();
    }

    /// <summary>The cell input for gradient g.</summary>
    public double[] Input(double g)
    {
        if (!_l2l) return [g];
        const double p = 10;
        double l = Math.Log(Math.Abs(g) + 1e-8) / p;
        return l >= -1 ? [l, Math.Sign(g)] : [-1, Math.Exp(p) * g];
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private sealed class Tape
    {
        public double G;
        public double[] X = [], HPrev = new double[H], R = new double[H], Z = new double[H], N = new double[H], U = new double[H], HNew = new double[H];
        public double[] O = [];
    }

    private Tape Forward(double[] h, double g)
    {
        var t = new Tape { G = g, X = Input(g), O = new double[_out] };
        Array.Copy(h, t.HPrev, H);
        for (int j = 0; j < H; j++)
        {
            double ar = _br[j], az = _bz[j], an = _bin[j], u = _bhn[j];
            for (int i = 0; i < _in; i++) { ar += t.X[i] * _wir[i, j]; az += t.X[i] * _wiz[i, j]; an += t.X[i] * _win[i, j]; }
            for (int i = 0; i < H; i++) { ar += h[i] * _whr[i, j]; az += h[i] * _whz[i, j]; u += h[i] * _whn[i, j]; }
            t.R[j] = Sigmoid(ar);
            t.Z[j] = Sigmoid(az);
            t.U[j] = u;
            t.N[j] = Math.Tanh(an + t.R[j] * u);
            t.HNew[j] = (1 - t.Z[j]) * t.N[j] + t.Z[j] * h[j];
        }
        for (int c = 0; c < _out; c++)
        {
            double o = _c[c];
            for (int j = 0; j < H; j++) o += t.HNew[j] * _k[j, c];
            t.O[c] = o;
        }
        Array.Copy(t.HNew, h, H);
        return t;
    }

    /// <summary>Δ and ∂Δ/∂o_c for the head outputs o.</summary>
    private double Update(double g, double[] o, double alpha, double[] dDelta)
    {
        if (_l2l)
        {
            double d = -alpha * Math.Exp(o[0]) * g;
            dDelta[0] = d;
            return d;
        }
        dDelta[0] = -alpha * Math.Exp(o[0]) * g;
        dDelta[1] = -alpha * Math.Exp(o[1]) * o[2];
        dDelta[2] = -alpha * Math.Exp(o[1]);
        return dDelta[0] + dDelta[1];
    }

    /// <summary>One step of one coordinate: updates h in place, returns Δ.</summary>
    public double Step(double[] h, double g, double alpha)
    {
        var t = Forward(h, g);
        return Update(g, t.O, alpha, new double[_out]);
    }

    /// <summary>L = Σₙ λₙ·Σₖ Δₖ,ₙ over K steps from state0 ([8, N]) with gradients [K, N].</summary>
    public double Loss(float[] state0, float[] grads, int k, float[] lambda, double alpha)
    {
        int n = lambda.Length;
        double loss = 0;
        var h = new double[H];
        for (int c = 0; c < n; c++)
        {
            for (int j = 0; j < H; j++) h[j] = state0[j * n + c];
            for (int s = 0; s < k; s++) loss += lambda[c] * Step(h, grads[s * n + c], alpha);
        }
        return loss;
    }

    /// <summary>dL/dφ by back-propagation through time, in the layout's packing order.</summary>
    public double[] Gradient(float[] state0, float[] grads, int k, float[] lambda, double alpha)
    {
        int n = lambda.Length;
        var gWir = new double[_in, H]; var gWiz = new double[_in, H]; var gWin = new double[_in, H];
        var gWhr = new double[H, H]; var gWhz = new double[H, H]; var gWhn = new double[H, H];
        var gBr = new double[H]; var gBz = new double[H]; var gBin = new double[H]; var gBhn = new double[H];
        var gK = new double[H, _out]; var gC = new double[_out];
        var h = new double[H];
        var dDelta = new double[_out];
        var tapes = new Tape[k];
        var hb = new double[H];
        var hbPrev = new double[H];
        for (int c = 0; c < n; c++)
        {
            for (int j = 0; j < H; j++) h[j] = state0[j * n + c];
            for (int s = 0; s < k; s++) tapes[s] = Forward(h, grads[s * n + c]);
            Array.Clear(hb);
            for (int s = k - 1; s >= 0; s--)
            {
                var t = tapes[s];
                Update(t.G, t.O, alpha, dDelta);
                var ob = new double[_out];
                for (int o = 0; o < _out; o++)
                {
                    ob[o] = lambda[c] * dDelta[o];
                    gC[o] += ob[o];
                    for (int j = 0; j < H; j++) { gK[j, o] += ob[o] * t.HNew[j]; hb[j] += ob[o] * _k[j, o]; }
                }
                Array.Clear(hbPrev);
                var dar = new double[H]; var daz = new double[H]; var du = new double[H];
                for (int j = 0; j < H; j++)
                {
                    double dz = hb[j] * (t.HPrev[j] - t.N[j]);
                    double dn = hb[j] * (1 - t.Z[j]);
                    hbPrev[j] += hb[j] * t.Z[j];
                    double dan = dn * (1 - t.N[j] * t.N[j]);
                    dar[j] = dan * t.U[j] * t.R[j] * (1 - t.R[j]);
                    du[j] = dan * t.R[j];
                    daz[j] = dz * t.Z[j] * (1 - t.Z[j]);
                    for (int i = 0; i < _in; i++) { gWir[i, j] += dar[j] * t.X[i]; gWiz[i, j] += daz[j] * t.X[i]; gWin[i, j] += dan * t.X[i]; }
                    gBr[j] += dar[j]; gBz[j] += daz[j]; gBin[j] += dan; gBhn[j] += du[j];
                }
                for (int i = 0; i < H; i++)
                    for (int j = 0; j < H; j++)
                    {
                        gWhr[i, j] += t.HPrev[i] * dar[j]; gWhz[i, j] += t.HPrev[i] * daz[j]; gWhn[i, j] += t.HPrev[i] * du[j];
                        hbPrev[i] += _whr[i, j] * dar[j] + _whz[i, j] * daz[j] + _whn[i, j] * du[j];
                    }
                Array.Copy(hbPrev, hb, H);
            }
        }

        var grad = new double[_layout.Count];
        void PutM(string name, double[,] m)
        {
            var e = _layout[name];
            int cols = m.GetLength(1);
            for (int i = 0; i < m.GetLength(0); i++)
                for (int j = 0; j < cols; j++) grad[e.Offset + i * cols + j] = m[i, j];
        }
        void PutV(string name, double[] v) => v.CopyTo(grad, _layout[name].Offset);
        PutM("cell.W_ir", gWir); PutM("cell.W_iz", gWiz); PutM("cell.W_in", gWin);
        PutM("cell.W_hr", gWhr); PutM("cell.W_hz", gWhz); PutM("cell.W_hn", gWhn);
        PutV("cell.b_r", gBr); PutV("cell.b_z", gBz); PutV("cell.b_in", gBin); PutV("cell.b_hn", gBhn);
        PutM("head.kernel", gK); PutV("head.bias", gC);
        return grad;
    }
}
