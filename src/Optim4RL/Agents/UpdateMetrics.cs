namespace Optim4RL.Agents;

/// <summary>
/// Diagnostics of one logged update (docs/run-directories.md, "metrics.csv"): the loss terms as they
/// enter the loss (their sum is the loss), the policy's mean entropy, the norms of the gradient and
/// of the step, and for PPO the approximate KL divergence and the clip fraction. PPO's values are
/// means over the training step's minibatch updates. All come from values the update computes anyway.
/// </summary>
/// <param name="PolicyLoss">Policy (actor) loss term: A2C −mean(log π·δ); PPO −mean(min(ρA, clip(ρ)A)).</param>
/// <param name="ValueLoss">Value (critic) loss term, weighted as in the loss: A2C critic_loss_weight·mean(δ²); PPO 0.25·mean((vs − v)²).</param>
/// <param name="EntropyLoss">Entropy term, weighted as in the loss: −entropy_weight·mean(H).</param>
/// <param name="Entropy">The policy's mean entropy H in nats (PPO: the reparameterised estimate summed over action dimensions).</param>
/// <param name="GradNorm">Global L2 norm of the gradient fed to the optimizer, before any clipping (clipping is part of the optimizer).</param>
/// <param name="UpdateNorm">Global L2 norm of the step Δθ the optimizer returned.</param>
/// <param name="ApproxKl">PPO: mean of (ρ − 1) − log ρ, an unbiased estimate of KL(π_behaviour ‖ π_θ) in nats; NaN for A2C.</param>
/// <param name="ClipFraction">PPO: fraction of rows whose ratio ρ lies outside [1 − ε, 1 + ε]; NaN for A2C.</param>
public readonly record struct UpdateMetrics(double PolicyLoss, double ValueLoss, double EntropyLoss, double Entropy, double GradNorm, double UpdateNorm,
    double ApproxKl = double.NaN, double ClipFraction = double.NaN);
