using FsCheck;
using FsCheck.Fluent;
using Optim4RL.Distributed;

namespace Optim4RL.Tests.Distributed;

/// <summary>The static split of work over ranks: contiguous, in rank order, complete and balanced, from sizes alone.</summary>
public class StaticPartitionTests
{
    [Fact]
    public void Even_ranges_are_contiguous_in_rank_order_cover_every_item_once_and_differ_by_at_most_one()
    {
        Prop.ForAll(Gen.Choose(0, 500).ToArbitrary(), Gen.Choose(1, 70).ToArbitrary(), (items, ranks) =>
        {
            int next = 0;
            var sizes = new List<int>();
            for (int r = 0; r < ranks; r++)
            {
                var (start, count) = StaticPartition.Even(items, ranks, r);
                if (start != next || count < 0) return false;
                next += count;
                sizes.Add(count);
            }
            return next == items && sizes.Max() - sizes.Min() <= 1 && sizes.SequenceEqual(sizes.OrderDescending());
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Even_matches_a_hand_computed_split()
    {
        Assert.Equal([(0, 2), (2, 1), (3, 1)], Enumerable.Range(0, 3).Select(r => StaticPartition.Even(4, 3, r)));
        Assert.Equal((5, 0), StaticPartition.Even(5, 8, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => StaticPartition.Even(4, 3, 3));
    }

    [Fact]
    public void Weighted_boundaries_cover_every_item_and_give_each_rank_its_share_within_one_item()
    {
        var costs = Gen.Choose(0, 1000).Select(c => (long)c).ArrayOf().ToArbitrary();
        Prop.ForAll(costs, Gen.Choose(1, 12).ToArbitrary(), (c, ranks) =>
        {
            int[] b = StaticPartition.Weighted(c, ranks);
            if (b.Length != ranks + 1 || b[0] != 0 || b[^1] != c.Length) return false;
            for (int r = 0; r < ranks; r++)
                if (b[r + 1] < b[r]) return false;
            // Each boundary sits where the cost prefix is nearest its target, so a rank's share is off by at most one item's cost.
            double total = c.Sum(), max = c.Length == 0 ? 0 : c.Max();
            for (int r = 0; r < ranks; r++)
            {
                double share = c[b[r]..b[r + 1]].Sum();
                if (Math.Abs(share - total / ranks) > max + 1e-9) return false;
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Tasks_and_agents_are_split_by_cost_B_times_P_into_slices_in_global_order()
    {
        // Two tasks of 512 agents; the second's networks are three times larger, so it gets three quarters of 4 ranks.
        var slices = StaticPartition.TasksAndAgents([(512, 100), (512, 300)], 4);
        Assert.Equal([(0, 0, 512)], slices[0]);
        Assert.Equal([(1, 0, 171)], slices[1]);
        Assert.Equal([(1, 171, 170)], slices[2]);
        Assert.Equal([(1, 341, 171)], slices[3]);

        // Any split: every agent of every task exactly once, in task-major order across ranks.
        var flat = StaticPartition.TasksAndAgents([(7, 5), (0, 9), (3, 40), (11, 1)], 5)
            .SelectMany(rank => rank.SelectMany(s => Enumerable.Range(s.FirstAgent, s.Agents).Select(a => (s.Task, a)))).ToList();
        var expected = new[] { (0, 7), (2, 3), (3, 11) }.SelectMany(t => Enumerable.Range(0, t.Item2).Select(a => (t.Item1, a))).ToList();
        Assert.Equal(expected, flat);
    }

    [Fact]
    public void Partitions_depend_on_sizes_only()
    {
        long[] costs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
        Assert.Equal(StaticPartition.Weighted(costs, 3), StaticPartition.Weighted(costs.ToArray(), 3));
        Assert.Equal([0, 5, 8, 11], StaticPartition.Weighted(costs, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => StaticPartition.Weighted([1, -1], 2));
    }
}
