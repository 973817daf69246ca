using Optim4RL.Autodiff;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Autodiff;

/// <summary>Central finite differences in double precision against the graph's analytic gradient.</summary>
internal static class GradCheck
{
    public const double H = 1e-6;

    /// <summary>
    /// Builds a graph over θ (length <paramref name="paramCount"/>, filled by <paramref name="fill"/>),
    /// runs forward/backward, and compares ∂L/∂θ_i with (L(θ+h·e_i) − L(θ−h·e_i)) / 2h for every i.
    /// </summary>
    public static void Check(
        int paramCount,
        Func<Graph<double>, double[], double[], Node<double>> build,
        Action<double[]>? fill = null,
        ulong seed = 1,
        double relTol = 1e-6,
        double absTol = 1e-8)
    {
        var theta = new double[paramCount];
        var grad = new double[paramCount];
        if (fill != null) fill(theta);
        else
        {
            var rng = new Rng(seed);
            for (int i = 0; i < paramCount; i++) theta[i] = rng.NextNormal();
        }

        var g = new Graph<double>();
        Node<double> loss = build(g, theta, grad);
        g.Forward();
        g.Backward(loss);
        // A second forward/backward must give the same gradient once the caller re-zeroes it.
        Array.Clear(grad);
        g.Forward();
        g.Backward(loss);
        double[] analytic = (double[])grad.Clone();

        int checkedCount = 0;
        for (int i = 0; i < paramCount; i++)
        {
            double orig = theta[i];
            theta[i] = orig + H;
            g.Forward();
            double lp = loss.Value.Span[0];
            theta[i] = orig - H;
            g.Forward();
            double lm = loss.Value.Span[0];
            theta[i] = orig;
            double numeric = (lp - lm) / (2 * H);
            double err = Math.Abs(numeric - analytic[i]);
            double scale = Math.Max(Math.Abs(numeric), Math.Abs(analytic[i]));
            Assert.True(err <= relTol * scale + absTol,
                $"θ[{i}]: analytic {analytic[i]:R}, numeric {numeric:R}, |diff| {err:E3}, rel {err / Math.Max(scale, 1e-300):E3}");
            checkedCount++;
        }

        Assert.Equal(paramCount, checkedCount);
        g.Forward();
    }

    /// <summary>Fills an input node with fixed pseudo-random normals.</summary>
    public static void FillRandom(Node<double> node, ulong seed)
    {
        var rng = new Rng(seed);
        Span<double> s = node.Value.Span;
        for (int i = 0; i < s.Length; i++) s[i] = rng.NextNormal();
    }

    /// <summary>loss = Σ (y ⊙ R) with R a fixed random tensor, so every output coordinate matters differently.</summary>
    public static Node<double> WeightedSum(Graph<double> g, Node<double> y, ulong seed = 99)
    {
        Node<double> r = g.Input(y.Shape);
        FillRandom(r, seed);
        return g.Sum(g.Mul(y, r));
    }
}
