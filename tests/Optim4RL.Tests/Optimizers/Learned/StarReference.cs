using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Optimizers.Learned;

/// <summary>
/// An independent, straightforward double-precision STAR (MLPNomLOpt as StarOptimizer documents
/// it): plain loops over coordinates and parameter vectors, Math.Tanh/Exp/Sqrt, and a
/// hand-written <b>reverse-mode</b> meta-gradient of L(φ) = Σₖ Σₙ λₙ·Δₖ,ₙ: MLP backward, the
/// normaliser's backward x̄ = s·x̄̂ − x·s³·(Σ x·x̄̂)/G per vector, the features' backward to the
/// accumulators, and the accumulators' recurrences backward to their decays (the kernel uses forward
/// mode for the decays instead). It reads φ by array name through the layout.
/// </summary>
internal sealed class StarReference
{
    private const int F = 27, E = 11, In = F + E, Hd = 4;

    private static readonly double[] Beta0 = [0.9, 0.99, 0.999, 0.999, 0.9, 0.99, 0.999];
    private static readonly double[] Tau = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000];
    private static readonly double Nominal = 1e-3 * Math.Exp(1e-3);

    private readonly MetaParamLayout _layout;
    private readonly double[] _beta = new double[7], _dBeta = new double[7];
    private readonly double[,] _w0 = new double[In, Hd], _w1 = new double[Hd, Hd], _w2 = new double[Hd, 4];
    private readonly double[] _b0 = new double[Hd], _b1 = new double[Hd], _b2 = new double[4];

    public StarReference(MetaParamLayout layout, ReadOnlySpan<float> phi) : this(layout, ToDouble(phi)) { }

    public StarReference(MetaParamLayout layout, double[] phi)
    {
        _layout = layout;
        double[] raw = [.. Get(phi, "momentum_decays"), .. Get(phi, "rms_decays"), .. Get(phi, "adafactor_decays")];
        for (int d = 0; d < 7; d++)
        {
            double e = (1 - Beta0[d]) * Math.Exp(10 * raw[d]);
            double b = 1 - e;
            _dBeta[d] = -10 * e;
            if (d >= 3 && (b < 0 || b > 1)) { b = Math.Clamp(b, 0, 1); _dBeta[d] = 0; }
            _beta[d] = b;
        }
        Fill(phi, "nn.w0", _w0); Fill(phi, "nn.w1", _w1); Fill(phi, "nn.w2", _w2);
        Get(phi, "nn.b0").CopyTo(_b0, 0); Get(phi, "nn.b1").CopyTo(_b1, 0); Get(phi, "nn.b2").CopyTo(_b2, 0);
    }

    private static double[] ToDouble(ReadOnlySpan<float> phi)
    {
        var d = new double[phi.Length];
        for (int i = 0; i < d.Length; i++) d[i] = phi[i];
        return d;
    }

    private double[] Get(double[] phi, string name)
    {
        var e = _layout[name];
        return phi.AsSpan(e.Offset, e.Length).ToArray();
    }

    private void Fill(double[] phi, string name, double[,] m)
    {
        var e = _layout[name];
        int cols = m.GetLength(1);
        if (e.Shape[0] != m.GetLength(0) || e.Shape[1] != cols) throw new InvalidOperationException(name);
        for (int i = 0; i < m.GetLength(0); i++)
            for (int j = 0; j < cols; j++) m[i, j] = phi[e.Offset + i * cols + j];
    }

    /// <summary>The accumulators of one coordinate: m₁..₃, r, v₁..₃ (index = decay index), and t.</summary>
    public sealed class Acc
    {
        public double[] S = new double[7];
        public double T;

        public Acc Clone() => new() { S = (double[])S.Clone(), T = T };
    }

    /// <summary>Reads coordinate c's state from a [8, N] array.</summary>
    public static Acc StateOf(float[] state, int n, int c)
    {
        var a = new Acc();
        for (int u = 0; u < 7; u++) a.S[u] = state[u * n + c];
        a.T = state[7 * n + c];
        return a;
    }

    private double[] Inputs(Acc a, double g) // the accumulator "inputs" of each decay: g, g², g² + 1e-30
    {
        double g2 = g * g;
        return [g, g, g, g2, g2 + 1e-30, g2 + 1e-30, g2 + 1e-30];
    }

    private void Advance(Acc a, double g)
    {
        var x = Inputs(a, g);
        for (int d = 0; d < 7; d++) a.S[d] = _beta[d] * a.S[d] + (1 - _beta[d]) * x[d];
    }

    /// <summary>The 27 raw features of a coordinate from its updated accumulators.</summary>
    public static double[] Features(Acc a, double g)
    {
        double m0 = a.S[0], m1 = a.S[1], m2 = a.S[2], r = a.S[3];
        double[] m = [m0, m1, m2], v = [a.S[4], a.S[5], a.S[6]];
        double rho = 1 / Math.Sqrt(r + 1e-6);
        var x = new double[F];
        x[0] = g;
        for (int i = 0; i < 3; i++)
        {
            x[1 + i] = m[i];
            x[5 + i] = m[i] * rho;
            x[9 + i] = g / Math.Sqrt(v[i] + 1e-9);
            x[12 + i] = v[i];
            x[15 + i] = v[i];
            x[18 + i] = 1 / Math.Sqrt(v[i] + 1e-8);
            x[21 + i] = 1 / Math.Sqrt(v[i] + 1e-8);
            x[24 + i] = m[i] / Math.Sqrt(v[i] + 1e-6);
        }
        x[4] = r;
        x[8] = rho;
        return x;
    }

    private sealed class StepTape
    {
        public double[][] X = [];          // [n][27] raw features
        public double[][] S = [];          // [group][27] scales
        public double[][] Z = [];          // [n][38] MLP inputs
        public double[][] A0 = [], A1 = [];// [n][4] pre-activations
        public double[] O0 = [], O1 = [];  // [n] outputs
        public Acc[] Before = [], After = [];
        public double[] G = [];
    }

    private StepTape StepAll(Acc[] acc, float[] grads, int offset, int groupSize, double alpha, double[] delta)
    {
        int n = acc.Length;
        var tape = new StepTape
        {
            X = new double[n][],
            Z = new double[n][],
            A0 = new double[n][],
            A1 = new double[n][],
            O0 = new double[n],
            O1 = new double[n],
            Before = new Acc[n],
            After = new Acc[n],
            G = new double[n],
            S = new double[n / groupSize][],
        };
        for (int c = 0; c < n; c++)
        {
            double g = grads[offset + c];
            tape.G[c] = g;
            tape.Before[c] = acc[c].Clone();
            Advance(acc[c], g);
            tape.After[c] = acc[c].Clone();
            tape.X[c] = Features(acc[c], g);
        }
        for (int gi = 0; gi < n / groupSize; gi++)
        {
            var s = new double[F];
            for (int f = 0; f < F; f++)
            {
                double sq = 0;
                for (int c = gi * groupSize; c < (gi + 1) * groupSize; c++) sq += tape.X[c][f] * tape.X[c][f];
                s[f] = 1 / Math.Sqrt(1e-5 + sq / groupSize);
            }
            tape.S[gi] = s;
        }
        for (int c = 0; c < n; c++)
        {
            var s = tape.S[c / groupSize];
            var z = new double[In];
            for (int f = 0; f < F; f++) z[f] = tape.X[c][f] * s[f];
            for (int j = 0; j < E; j++) z[F + j] = Math.Tanh(acc[c].T / Tau[j] - 1);
            var a0 = new double[Hd];
            var a1 = new double[Hd];
            for (int h = 0; h < Hd; h++)
            {
                a0[h] = _b0[h];
                for (int i = 0; i < In; i++) a0[h] += z[i] * _w0[i, h];
            }
            for (int h = 0; h < Hd; h++)
            {
                a1[h] = _b1[h];
                for (int i = 0; i < Hd; i++) a1[h] += Math.Max(a0[i], 0) * _w1[i, h];
            }
            double o0 = _b2[0], o1 = _b2[1];
            for (int i = 0; i < Hd; i++) { o0 += Math.Max(a1[i], 0) * _w2[i, 0]; o1 += Math.Max(a1[i], 0) * _w2[i, 1]; }
            tape.Z[c] = z; tape.A0[c] = a0; tape.A1[c] = a1; tape.O0[c] = o0; tape.O1[c] = o1;
            double adamMean = (tape.X[c][5] + tape.X[c][6] + tape.X[c][7]) / 3;
            delta[c] = -alpha * o0 * Math.Exp(1e-3 * o1) - Nominal * adamMean;
            acc[c].T += 1;
        }
        return tape;
    }

    /// <summary>One step over N coordinates (state [8, N] as accumulators, updated in place); returns Δ.</summary>
    public double[] Step(Acc[] acc, float[] grads, int groupSize, double alpha)
    {
        var delta = new double[acc.Length];
        StepAll(acc, grads, 0, groupSize, alpha, delta);
        return delta;
    }

    private static Acc[] Load(float[] state0, int n)
    {
        var acc = new Acc[n];
        for (int c = 0; c < n; c++) acc[c] = StateOf(state0, n, c);
        return acc;
    }

    /// <summary>L = Σₖ Σₙ λₙ·Δₖ,ₙ over K steps from state0 ([8, N]) with gradients [K, N].</summary>
    public double Loss(float[] state0, float[] grads, int k, float[] lambda, int groupSize, double alpha)
    {
        int n = lambda.Length;
        var acc = Load(state0, n);
        var delta = new double[n];
        double loss = 0;
        for (int s = 0; s < k; s++)
        {
            StepAll(acc, grads, s * n, groupSize, alpha, delta);
            for (int c = 0; c < n; c++) loss += lambda[c] * delta[c];
        }
        return loss;
    }

    /// <summary>dL/dφ by reverse-mode differentiation, in the layout's packing order.</summary>
    public double[] Gradient(float[] state0, float[] grads, int k, float[] lambda, int groupSize, double alpha)
    {
        int n = lambda.Length;
        var acc = Load(state0, n);
        var tapes = new StepTape[k];
        var delta = new double[n];
        for (int s = 0; s < k; s++) tapes[s] = StepAll(acc, grads, s * n, groupSize, alpha, delta);

        var gW0 = new double[In, Hd]; var gW1 = new double[Hd, Hd]; var gW2 = new double[Hd, 4];
        var gB0 = new double[Hd]; var gB1 = new double[Hd]; var gB2 = new double[4];
        var gBeta = new double[7];
        var carried = new double[n][]; // adjoint of the accumulators after the current step, from later steps
        for (int c = 0; c < n; c++) carried[c] = new double[7];

        for (int s = k - 1; s >= 0; s--)
        {
            var t = tapes[s];
            var xhatBar = new double[n][];
            for (int c = 0; c < n; c++)
            {
                double e = Math.Exp(1e-3 * t.O1[c]);
                double ob0 = lambda[c] * (-alpha * e);
                double ob1 = lambda[c] * 1e-3 * (-alpha * t.O0[c] * e);
                gB2[0] += ob0; gB2[1] += ob1;
                var a1Bar = new double[Hd];
                for (int i = 0; i < Hd; i++)
                {
                    double h1 = Math.Max(t.A1[c][i], 0);
                    gW2[i, 0] += h1 * ob0; gW2[i, 1] += h1 * ob1;
                    a1Bar[i] = t.A1[c][i] > 0 ? _w2[i, 0] * ob0 + _w2[i, 1] * ob1 : 0;
                    gB1[i] += a1Bar[i];
                }
                var a0Bar = new double[Hd];
                for (int i = 0; i < Hd; i++)
                {
                    double h0 = Math.Max(t.A0[c][i], 0);
                    double hb = 0;
                    for (int j = 0; j < Hd; j++) { gW1[i, j] += h0 * a1Bar[j]; hb += _w1[i, j] * a1Bar[j]; }
                    a0Bar[i] = t.A0[c][i] > 0 ? hb : 0;
                    gB0[i] += a0Bar[i];
                }
                var zb = new double[F];
                for (int i = 0; i < In; i++)
                    for (int j = 0; j < Hd; j++)
                    {
                        gW0[i, j] += t.Z[c][i] * a0Bar[j];
                        if (i < F) zb[i] += _w0[i, j] * a0Bar[j];
                    }
                xhatBar[c] = zb;
            }

            // The normaliser's backward, per parameter vector; then the nominal term on the raw Adam features.
            var xBar = new double[n][];
            for (int gi = 0; gi < n / groupSize; gi++)
            {
                var sc = t.S[gi];
                var dot = new double[F];
                for (int c = gi * groupSize; c < (gi + 1) * groupSize; c++)
                    for (int f = 0; f < F; f++) dot[f] += t.X[c][f] * xhatBar[c][f];
                for (int c = gi * groupSize; c < (gi + 1) * groupSize; c++)
                {
                    xBar[c] = new double[F];
                    for (int f = 0; f < F; f++)
                        xBar[c][f] = sc[f] * xhatBar[c][f] - t.X[c][f] * sc[f] * sc[f] * sc[f] * dot[f] / groupSize;
                    for (int i = 0; i < 3; i++) xBar[c][5 + i] += lambda[c] * (-Nominal / 3);
                }
            }

            // The features' backward to the updated accumulators, then the recurrences to the decays.
            for (int c = 0; c < n; c++)
            {
                var a = t.After[c].S;
                var xb = xBar[c];
                double g = t.G[c];
                var sb = carried[c];
                double rho = 1 / Math.Sqrt(a[3] + 1e-6);
                double rhoBar = xb[8];
                for (int i = 0; i < 3; i++)
                {
                    double v = a[4 + i];
                    sb[i] += xb[1 + i] + xb[5 + i] * rho;
                    rhoBar += xb[5 + i] * a[i];
                    double w = 1 / Math.Sqrt(v + 1e-9), q = 1 / Math.Sqrt(v + 1e-8), u = 1 / Math.Sqrt(v + 1e-6);
                    sb[4 + i] += xb[9 + i] * g * (-0.5 * w * w * w)
                                 + xb[12 + i] + xb[15 + i]
                                 + (xb[18 + i] + xb[21 + i]) * (-0.5 * q * q * q);
                    sb[i] += xb[24 + i] * u;
                    sb[4 + i] += xb[24 + i] * a[i] * (-0.5 * u * u * u);
                }
                sb[3] += xb[4] + rhoBar * (-0.5 * rho * rho * rho);

                var before = t.Before[c].S;
                double g2 = g * g;
                double[] input = [g, g, g, g2, g2 + 1e-30, g2 + 1e-30, g2 + 1e-30];
                for (int d = 0; d < 7; d++)
                {
                    gBeta[d] += sb[d] * (before[d] - input[d]);
                    sb[d] *= _beta[d];
                }
            }
        }

        var grad = new double[_layout.Count];
        int off = 0;
        foreach (string name in new[] { "momentum_decays", "rms_decays", "adafactor_decays" })
        {
            var e = _layout[name];
            for (int i = 0; i < e.Length; i++) grad[e.Offset + i] = gBeta[off + i] * _dBeta[off + i];
            off += e.Length;
        }
        void PutM(string name, double[,] m)
        {
            var e = _layout[name];
            int cols = m.GetLength(1);
            for (int i = 0; i < m.GetLength(0); i++)
                for (int j = 0; j < cols; j++) grad[e.Offset + i * cols + j] = m[i, j];
        }
        PutM("nn.w0", gW0); PutM("nn.w1", gW1); PutM("nn.w2", gW2);
        gB0.CopyTo(grad, _layout["nn.b0"].Offset);
        gB1.CopyTo(grad, _layout["nn.b1"].Offset);
        gB2.CopyTo(grad, _layout["nn.b2"].Offset);
        return grad;
    }
}
