using Optim4RL.Envs;
using Optim4RL.Tensors;

namespace Optim4RL.Tests.Envs;

public class EnvRegistryTests
{
    [Fact]
    public void Names_are_catch_and_the_eight_gridworlds()
    {
        Assert.Equal(
            new[]
            {
                "catch", "small_sparse_short", "small_sparse_long", "small_dense_short", "small_dense_long",
                "big_sparse_short", "big_sparse_long", "big_dense_short", "big_dense_long",
            },
            EnvRegistry.Names);
        foreach (var name in EnvRegistry.Names) Assert.True(EnvRegistry.IsDiscrete(name));
        Assert.False(EnvRegistry.IsDiscrete("ant"));
        Assert.False(EnvRegistry.IsDiscrete("foo"));
    }

    [Theory]
    [InlineData("sss", "small_sparse_short")]
    [InlineData("ssl", "small_sparse_long")]
    [InlineData("sds", "small_dense_short")]
    [InlineData("sdl", "small_dense_long")]
    [InlineData("bss", "big_sparse_short")]
    [InlineData("bsl", "big_sparse_long")]
    [InlineData("bds", "big_dense_short")]
    [InlineData("bdl", "big_dense_long")]
    [InlineData("BDL", "big_dense_long")]
    [InlineData(" Catch ", "catch")]
    public void Abbreviations_and_case_resolve(string input, string canonical)
    {
        Assert.Equal(canonical, EnvRegistry.Resolve(input));
        Assert.True(EnvRegistry.IsDiscrete(input));
        var env = EnvRegistry.CreateDiscrete(input, 2, new Rng(1));
        Assert.Equal(canonical, env.Name);
        Assert.Equal(2, env.NumEnvs);
    }

    [Fact]
    public void Create_builds_the_right_env_types_and_passes_reward_scaling()
    {
        Assert.IsType<Catch>(EnvRegistry.CreateDiscrete("catch", 1, new Rng(1)));
        var g = Assert.IsType<Gridworld>(EnvRegistry.CreateDiscrete("big_dense_long", 1, new Rng(1), 3f));
        Assert.Equal(3f, g.RewardScaling);
        Assert.Equal(new[] { 15, 11, 5 }, g.ObservationShape);
        Assert.Equal(3f, Assert.IsType<Catch>(EnvRegistry.CreateDiscrete("catch", 1, new Rng(1), 3f)).RewardScaling);
    }

    [Fact]
    public void Unknown_name_gives_one_line_message_listing_valid_names()
    {
        var e = Assert.Throws<ArgumentException>(() => EnvRegistry.CreateDiscrete("foo", 1, new Rng(1)));
        Assert.StartsWith("Unknown task 'foo'. Valid tasks: catch, small_sparse_short, small_sparse_long,", e.Message);
        foreach (var name in EnvRegistry.Names) Assert.Contains(name, e.Message);
        Assert.Contains("bdl", e.Message);
        Assert.DoesNotContain("\n", e.Message.Split(" (Parameter")[0]);
    }
}
