using Optim4RL.Agents;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Ppo;

public class RunningNormalizerTests
{
    [Fact]
    public void Running_statistics_equal_the_direct_mean_and_population_std()
    {
        var rng = new Rng(2);
        var norm = new RunningNormalizer(3);
        var all = new List<float[]>();
        foreach (int rows in new[] { 5, 1, 17, 40 })
        {
            var batch = new float[rows * 3];
            for (int i = 0; i < rows; i++)
            {
                batch[3 * i] = (float)(5 + 2 * rng.NextNormal());
                batch[3 * i + 1] = (float)(-1 + 0.01 * rng.NextNormal());
                batch[3 * i + 2] = (float)(100 * rng.NextDouble());
                all.Add(batch.AsSpan(3 * i, 3).ToArray());
            }
            norm.Update(batch);
        }
        Assert.Equal(all.Count, norm.Count);
        for (int k = 0; k < 3; k++)
        {
            double mean = all.Average(x => (double)x[k]);
            double std = Math.Sqrt(all.Average(x => (x[k] - mean) * (x[k] - mean)));
            Assert.Equal(mean, norm.Mean[k], 1e-9);
            Assert.Equal(std, norm.Std[k], 1e-9);
        }
        var y = new double[3];
        norm.Normalize<double>(all[0], y);
        for (int k = 0; k < 3; k++) Assert.Equal((all[0][k] - norm.Mean[k]) / norm.Std[k], y[k], 1e-12);
    }

    [Fact]
    public void Strided_update_uses_only_the_selected_rows()
    {
        var rng = new Rng(5);
        var data = Enumerable.Range(0, 4 * 3 * 2).Select(_ => (float)rng.NextNormal()).ToArray(); // 4 blocks × 3 rows × 2
        var strided = new RunningNormalizer(2);
        strided.Update(data, 2, 3);
        var selected = new List<float>();
        for (int b = 0; b < 4; b++) selected.AddRange(data.AsSpan((b * 3) * 2, 4).ToArray());
        var direct = new RunningNormalizer(2);
        direct.Update(selected.ToArray());
        Assert.Equal(direct.Count, strided.Count);
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(direct.Mean[k], strided.Mean[k], 1e-12);
            Assert.Equal(direct.Std[k], strided.Std[k], 1e-12);
        }
    }

    [Fact]
    public void Initial_state_is_the_identity_and_std_is_clipped()
    {
        var norm = new RunningNormalizer(2);
        float[] x = [3, -4];
        var y = new float[2];
        norm.Normalize<float>(x, y);
        Assert.Equal(x, y);
        norm.Update([7, 1e5f, 7, -1e5f]);
        Assert.Equal(RunningNormalizer.StdMin, norm.Std[0]); // constant feature
        Assert.Equal(1e5, norm.Std[1], 1e-6);
        norm.Update([7, 1e9f, 7, -1e9f]);
        Assert.Equal(RunningNormalizer.StdMax, norm.Std[1]);
        var off = new RunningNormalizer(2, enabled: false);
        off.Update([1, 2, 3, 4]);
        off.Normalize<float>(x, y);
        Assert.Equal(x, y);
        Assert.Equal(0, off.Count);
    }

    [Fact]
    public void Save_and_load_round_trip()
    {
        var a = new RunningNormalizer(2);
        a.Update([1, 2, 3, 5, -1, 0]);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, true)) a.Save(w);
        ms.Position = 0;
        var b = new RunningNormalizer(2);
        using (var r = new BinaryReader(ms)) b.Load(r);
        Assert.Equal(a.Count, b.Count);
        Assert.Equal(a.Mean.ToArray(), b.Mean.ToArray());
        Assert.Equal(a.Std.ToArray(), b.Std.ToArray());
    }
}
