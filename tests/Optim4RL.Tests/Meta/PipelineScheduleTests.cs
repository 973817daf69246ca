using Optim4RL.Meta;

namespace Optim4RL.Tests.Meta;

public class PipelineScheduleTests
{
    [Fact]
    public void Reset_indices_are_floor_of_linspace()
    {
        var s = new PipelineSchedule(5, 9);
        Assert.Equal([0, 2, 4, 6, 8], s.ResetIndex);
        var t = new PipelineSchedule(4, 3);
        Assert.Equal([0, 0, 1, 2], t.ResetIndex); // linspace(0,2,4) = 0, 0.667, 1.333, 2
        Assert.Equal(Enumerable.Range(0, 64), new PipelineSchedule(64, 64).ResetIndex);
    }

    [Fact]
    public void Every_agent_resets_once_per_interval_and_stages_are_spread()
    {
        const int b = 64, r = 32;
        var s = new PipelineSchedule(b, r);
        var counts = new int[b];
        for (long t = 1; t <= 3 * r; t++)
            for (int j = 0; j < b; j++)
                if (s.ShouldReset(j, t)) counts[j]++;
        Assert.All(counts, c => Assert.Equal(3, c));
        // After the first R iterations, ages (iterations since the last reset) cover all R stages.
        var ages = new HashSet<long>();
        long now = 2 * r;
        for (int j = 0; j < b; j++)
        {
            long last = Enumerable.Range(1, (int)now).Last(t => s.ShouldReset(j, t));
            ages.Add(now - last);
        }
        Assert.Equal(r, ages.Count);
    }

    [Fact]
    public void Ablation_never_resets()
    {
        var s = new PipelineSchedule(8, 4, enabled: false);
        for (long t = 1; t < 20; t++)
            for (int j = 0; j < 8; j++)
                Assert.False(s.ShouldReset(j, t));
    }

    [Fact]
    public void Bad_sizes_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PipelineSchedule(0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PipelineSchedule(4, 0));
    }
}
