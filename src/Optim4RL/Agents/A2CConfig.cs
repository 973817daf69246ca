namespace Optim4RL.Agents;

/// <summary>
/// A2C hyper-parameters (docs/algorithms.md, "A2C"; the reference's <c>agent</c> keys). Defaults are the paper's.
/// </summary>
/// <param name="RolloutSteps">T, steps per rollout and environment (<c>rollout_steps</c>, 20).</param>
/// <param name="Discount">γ (<c>discount</c>, 0.995).</param>
/// <param name="GaeLambda">λ of the λ-return (<c>gae_lambda</c>, 0.95).</param>
/// <param name="CriticLossWeight">Weight of mean(δ²) (<c>critic_loss_weight</c>, 0.5).</param>
/// <param name="EntropyWeight">Weight of −mean entropy (<c>entropy_weight</c>, 0.01).</param>
public sealed record A2CConfig(
    int RolloutSteps = 20,
    double Discount = 0.995,
    double GaeLambda = 0.95,
    double CriticLossWeight = 0.5,
    double EntropyWeight = 0.01)
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (RolloutSteps < 1) throw new ArgumentOutOfRangeException(nameof(RolloutSteps), RolloutSteps, "rollout_steps must be ≥ 1.");
        if (Discount is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(Discount), Discount, "discount must be in [0, 1].");
        if (GaeLambda is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(GaeLambda), GaeLambda, "gae_lambda must be in [0, 1].");
    }
}
