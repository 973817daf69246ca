using Optim4RL.Tensors;

namespace Optim4RL.Tests;

public class RngTests
{
    [Fact]
    public void Same_key_and_counter_give_same_stream()
    {
        var a = new Rng(42);
        var b = new Rng(42);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
        var c = new Rng(a.Key, a.Counter);
        Assert.Equal(a.NextUInt64(), c.NextUInt64());
    }

    [Fact]
    public void Split_children_differ_and_do_not_advance_parent()
    {
        var r = new Rng(7);
        ulong before = r.Counter;
        var c0 = r.Split(0);
        var c1 = r.Split(1);
        Assert.Equal(before, r.Counter);
        Assert.NotEqual(c0.NextUInt64(), c1.NextUInt64());
    }

    [Fact]
    public void Uniform_and_normal_moments_are_right()
    {
        var r = new Rng(1);
        const int n = 200_000;
        double s = 0, s2 = 0, u = 0;
        int[] counts = new int[5];
        for (int i = 0; i < n; i++)
        {
            double z = r.NextNormal();
            s += z; s2 += z * z;
            u += r.NextFloat();
            counts[r.NextInt(5)]++;
        }
        Assert.InRange(s / n, -0.01, 0.01);
        Assert.InRange(s2 / n, 0.98, 1.02);
        Assert.InRange(u / n, 0.497, 0.503);
        foreach (int c in counts) Assert.InRange(c, n / 5 - 1000, n / 5 + 1000);
    }
}
