using Optim4RL.Agents;
using Optim4RL.Experiments;
using Optim4RL.Tests.Analysis;

namespace Optim4RL.Tests.Experiments;

/// <summary>The final-return definitions and the normalised score of the evaluation protocol.</summary>
public class EvaluationProtocolTests
{
    private static readonly IReadOnlyList<ResultRow> OneToFifty = SyntheticRuns.Curve(50, 10, s => s / 10.0); // returns 1 … 50

    [Fact]
    public void A2C_runs_average_their_last_twenty_logged_returns()
    {
        var rule = FinalReturnDefinition.Protocol.RuleFor("A2C");
        Assert.Same(EvaluationProtocol.A2CRule, rule);
        Assert.Equal(ReturnSeries.LearningCurve, rule.Series);
        Assert.Equal(40.5, rule.Of(OneToFifty), 12); // mean of 31 … 50
        Assert.Equal(5.5, rule.Of(OneToFifty.Take(10)), 12); // fewer than 20 rows: all of them
        var withNaN = OneToFifty.Concat([new ResultRow(510, double.NaN)]);
        Assert.Equal(40.5, rule.Of(withNaN), 12); // non-finite rows do not count
        Assert.True(double.IsNaN(rule.Of(Array.Empty<double>())));
        Assert.Equal("result_catch.csv", rule.FileName("catch"));
        Assert.Same(rule, FinalReturnDefinition.Protocol.RuleFor("A2Ccollect"));
        Assert.Same(rule, FinalReturnDefinition.Protocol.RuleFor(null));
    }

    [Fact]
    public void Ppo_runs_average_their_last_three_deterministic_evaluations()
    {
        var rule = FinalReturnDefinition.Protocol.RuleFor("PPO");
        Assert.Same(EvaluationProtocol.PpoRule, rule);
        Assert.Equal(ReturnSeries.DeterministicEvaluations, rule.Series);
        Assert.Equal("eval_deterministic_ant.csv", rule.FileName("ant"));
        Assert.Equal(49.0, rule.Of(OneToFifty), 12);
        Assert.Equal(1.5, rule.Of(OneToFifty.Take(2)), 12);
        Assert.Same(rule, FinalReturnDefinition.Protocol.RuleFor("PPOstar"));
        Assert.Throws<InvalidOperationException>(() => rule.Of(new List<IterationLog>()));
    }

    [Fact]
    public void The_last_fraction_rule_takes_the_ceiling_of_the_fraction()
    {
        var rule = FinalReturnRule.LastFraction(0.1);
        Assert.Equal(48.0, rule.Of(OneToFifty), 12); // ⌈5⌉ = 5 rows: 46 … 50
        Assert.Equal(3, rule.Take(25)); // ⌈2.5⌉
        Assert.Equal(1, rule.Take(3));
        Assert.Equal(25.5, FinalReturnRule.LastFraction(1).Of(OneToFifty), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => FinalReturnRule.LastFraction(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FinalReturnRule.LastFraction(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => FinalReturnRule.LastLogged(0));
    }

    [Fact]
    public void Training_iterations_count_as_their_logged_returns_unweighted()
    {
        // Iterations without a finished episode log nothing; the others count once each, whatever their episode count.
        var logs = new List<IterationLog>
        {
            new(1, 10, 0, ReturnSum: 10, Episodes: 1),
            new(2, 20, 0, ReturnSum: 0, Episodes: 0),
            new(3, 30, 0, ReturnSum: 30, Episodes: 10),
        };
        Assert.Equal((10 + 3) / 2.0, EvaluationProtocol.A2CRule.Of(logs), 12);
        Assert.Equal((10 + 30) / 11.0, LearningCurve.FinalReturn(logs, 1), 12); // the episode-weighted progress summary differs
    }

    [Theory]
    [InlineData("protocol", "protocol")]
    [InlineData(" Protocol ", "protocol")]
    [InlineData("last:20", "last:20")]
    [InlineData("eval:3", "eval:3")]
    [InlineData("last-fraction:0.1", "last-fraction:0.1")]
    [InlineData("LAST-FRACTION:1", "last-fraction:1")]
    public void Final_option_texts_parse_and_print_back(string text, string printed)
    {
        var d = FinalReturnDefinition.Parse(text);
        Assert.Equal(printed, d.ToString());
        Assert.Equal(printed, FinalReturnDefinition.Parse(printed).ToString());
        Assert.Equal(printed == "protocol", d.IsProtocol);
    }

    [Theory]
    [InlineData("")]
    [InlineData("last")]
    [InlineData("last:0")]
    [InlineData("last:-3")]
    [InlineData("eval:x")]
    [InlineData("last-fraction:0")]
    [InlineData("last-fraction:2")]
    [InlineData("mean")]
    public void Bad_final_option_texts_name_the_valid_forms(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => FinalReturnDefinition.Parse(text));
        Assert.Contains(FinalReturnDefinition.Syntax, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fixed_rule_applies_to_every_agent()
    {
        var d = FinalReturnDefinition.Parse("last-fraction:0.1");
        Assert.Equal(d.RuleFor("A2C"), d.RuleFor("PPO"));
        Assert.Contains("every run", d.Describe(), StringComparison.Ordinal);
        Assert.Contains("last 3 deterministic evaluations", FinalReturnDefinition.Protocol.Describe(), StringComparison.Ordinal);
        Assert.Contains("last 20 logged returns", FinalReturnDefinition.Protocol.Describe(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.9, -0.6, 0.9, 1.0)]
    [InlineData(-0.6, -0.6, 0.9, 0.0)]
    [InlineData(0.15, -0.6, 0.9, 0.5)]
    [InlineData(1.65, -0.6, 0.9, 1.5)]
    [InlineData(-2.1, -0.6, 0.9, -1.0)]
    [InlineData(3000, 1000, 5000, 0.5)]
    [InlineData(-50, -100, -20, 0.625)]
    public void Normalised_score_is_zero_at_random_and_one_at_adam(double r, double random, double adam, double expected) =>
        Assert.Equal(expected, EvaluationProtocol.NormalisedScore(r, random, adam), 12);

    [Fact]
    public void Normalised_score_is_nan_when_undefined()
    {
        Assert.True(double.IsNaN(EvaluationProtocol.NormalisedScore(1, 2, 2)));
        Assert.True(double.IsNaN(EvaluationProtocol.NormalisedScore(double.NaN, 0, 1)));
        Assert.True(double.IsNaN(EvaluationProtocol.NormalisedScore(1, double.NaN, 1)));
    }
}
