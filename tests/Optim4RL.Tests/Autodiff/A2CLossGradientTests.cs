using Optim4RL.Autodiff;
using Optim4RL.Nn;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Autodiff;

/// <summary>The A2C loss of docs/algorithms.md assembled from graph ops, checked end to end over all θ.</summary>
public class A2CLossGradientTests
{
    /// <summary>Builds actor + critic + entropy loss on a network; returns the loss node.</summary>
    internal static Node<T> BuildA2CLoss<T>(Graph<T> g, NetworkSpec net, int n, T[] theta, T[] grad, int offset, ulong seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        var shape = new int[net.ObservationShape.Count + 1];
        shape[0] = n;
        for (int i = 0; i < net.ObservationShape.Count; i++) shape[i + 1] = net.ObservationShape[i];
        Node<T> obs = g.Input(shape);
        foreach (ref T v in obs.Value.Span) v = T.CreateChecked(rng.NextNormal());
        var (logits, value) = net.Build(g, obs, theta, grad, offset);

        int[] actions = g.IndexInput(n);
        for (int i = 0; i < n; i++) actions[i] = rng.NextInt(net.ActionCount);
        Node<T> adv = g.Input(n);
        Node<T> target = g.Input(n);
        foreach (ref T v in adv.Value.Span) v = T.CreateChecked(rng.NextNormal());
        foreach (ref T v in target.Value.Span) v = T.CreateChecked(rng.NextNormal());

        Node<T> logp = g.LogSoftmax(logits);
        Node<T> actor = g.Scale(g.Mean(g.Mul(g.Gather(logp, actions), adv)), -T.One);
        Node<T> entropy = g.Scale(g.Mean(g.Entropy(logp)), T.CreateChecked(-0.01));
        Node<T> v1 = g.Reshape(value, n);
        Node<T> critic = g.Scale(g.Mean(g.Square(g.Sub(target, v1))), T.CreateChecked(0.5));
        return g.Add(g.Add(actor, critic), entropy);
    }

    private static void CheckNetwork(NetworkSpec net, int n)
    {
        GradCheck.Check(net.Layout.Count, (g, th, gr) => BuildA2CLoss(g, net, n, th, gr, 0, 17), fill: th =>
        {
            var rng = new Rng(3);
            net.InitParams<double>(th, ref rng);
            for (int i = 0; i < th.Length; i++) th[i] += 0.05 * rng.NextNormal(); // non-zero biases too
        });
    }

    [Fact]
    public void A2C_loss_on_catch_like_network_matches_finite_differences() =>
        CheckNetwork(new NetworkSpec([4, 3], 3, 6), 5);

    [Theory]
    [InlineData(ConvLayout.Reference)]
    [InlineData(ConvLayout.RowsCols)]
    public void A2C_loss_on_conv_network_matches_finite_differences(ConvLayout layout) =>
        CheckNetwork(new NetworkSpec([3, 4, 2], 4, 5, convFilters: 3, convLayout: layout), 3);

    [Fact]
    public void A2C_loss_gradient_at_an_offset_in_a_shared_theta_matches_offset_zero()
    {
        var net = new NetworkSpec([3, 4, 2], 4, 5, convFilters: 3);
        int p = net.Layout.Count;
        var th0 = new double[p];
        var gr0 = new double[p];
        var rng = new Rng(9);
        net.InitParams<double>(th0, ref rng);
        var th1 = new double[3 * p];
        var gr1 = new double[3 * p];
        th0.CopyTo(th1, p);

        var g0 = new Graph<double>();
        var l0 = BuildA2CLoss(g0, net, 4, th0, gr0, 0, 5);
        var g1 = new Graph<double>();
        var l1 = BuildA2CLoss(g1, net, 4, th1, gr1, p, 5);
        g0.Forward();
        g0.Backward(l0);
        g1.Forward();
        g1.Backward(l1);
        Assert.Equal(l0.Value.Span[0], l1.Value.Span[0]);
        Assert.Equal(gr0, gr1.AsSpan(p, p).ToArray());
        Assert.All(gr1.AsSpan(0, p).ToArray(), v => Assert.Equal(0.0, v));
        Assert.All(gr1.AsSpan(2 * p, p).ToArray(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Float_and_double_graphs_agree()
    {
        var net = NetworkSpec.ForTask("catch", [10, 5], 3);
        int p = net.Layout.Count;
        var thD = new double[p];
        var rng = new Rng(1);
        net.InitParams<double>(thD, ref rng);
        var thF = thD.Select(v => (float)v).ToArray();
        var grD = new double[p];
        var grF = new float[p];
        var gD = new Graph<double>();
        var lD = BuildA2CLoss(gD, net, 21, thD, grD, 0, 2);
        var gF = new Graph<float>();
        var lF = BuildA2CLoss(gF, net, 21, thF, grF, 0, 2);
        gD.Forward();
        gD.Backward(lD);
        gF.Forward();
        gF.Backward(lF);
        Assert.Equal(lD.Value.Span[0], lF.Value.Span[0], 1e-4);
        double maxG = grD.Max(Math.Abs);
        for (int i = 0; i < p; i++) Assert.True(Math.Abs(grD[i] - grF[i]) <= 1e-4 * maxG, $"θ[{i}]: {grD[i]} vs {grF[i]}");
    }
}
