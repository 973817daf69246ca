using System.Numerics;
using Optim4RL.Autodiff;
using Optim4RL.Nn;
using Optim4RL.Tensors;

namespace Optim4RL.Agents;

/// <summary>
/// The continuous-control networks of docs/ppo.md (Brax's <c>make_ppo_networks</c>), both in one flat θ:
/// a policy MLP obs → 2·A (loc and raw scale of <see cref="TanhNormal"/>) and a value MLP obs → 1,
/// SiLU (swish) hidden activations, linear outputs, JAX <c>lecun_uniform</c> kernels (Brax's MLP
/// default) and zero biases. Observations enter already normalised.
/// </summary>
/// <remarks>θ layout: the policy's layers <c>policy/dense{i}/kernel|bias</c>, then the value's
/// <c>value/dense{i}/kernel|bias</c>. <see cref="InitParams{T}"/> draws the policy first.</remarks>
public sealed class PpoNetworks
{
    /// <summary>Creates the networks for observations of <paramref name="observationSize"/> values and <paramref name="actionSize"/> action dimensions.</summary>
    /// <param name="observationSize">Values per observation.</param>
    /// <param name="actionSize">A, action dimensions.</param>
    /// <param name="policyHidden">Policy hidden widths (default 4 × 32).</param>
    /// <param name="valueHidden">Value hidden widths (default 5 × 256, plain PPO's; MetaPPO passes 5 × 64).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public PpoNetworks(int observationSize, int actionSize, IReadOnlyList<int>? policyHidden = null, IReadOnlyList<int>? valueHidden = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(observationSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionSize, 1);
        ObservationSize = observationSize;
        ActionSize = actionSize;
        Layout = new ParameterLayout();
        Policy = new Mlp(observationSize, policyHidden ?? PpoConfig.DefaultPolicyHiddenSizes, 2 * actionSize, Activation.Silu, Layout, "policy", KernelInit.LeCunUniform);
        Value = new Mlp(observationSize, valueHidden ?? PpoConfig.PpoValueHiddenSizes, 1, Activation.Silu, Layout, "value", KernelInit.LeCunUniform);
    }

    /// <summary>The networks a <see cref="PpoConfig"/> asks for.</summary>
    public static PpoNetworks For(int observationSize, int actionSize, PpoConfig cfg) =>
        new(observationSize, actionSize, cfg.PolicyHiddenSizes, cfg.ValueHiddenSizes);

    /// <summary>Values per observation.</summary>
    public int ObservationSize { get; }

    /// <summary>A, action dimensions (the policy emits 2·A values).</summary>
    public int ActionSize { get; }

    /// <summary>Where θ's blocks are; <c>Layout.Count</c> is the parameter count P.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>The policy MLP, obs → 2·A.</summary>
    public Mlp Policy { get; }

    /// <summary>The value MLP, obs → 1.</summary>
    public Mlp Value { get; }

    /// <summary>P, the total number of parameters.</summary>
    public int ParamCount => Layout.Count;

    /// <summary>Initialises θ (length ≥ P): policy then value, LeCun-uniform kernels, zero biases.</summary>
    /// <exception cref="ArgumentException">θ is shorter than P.</exception>
    public void InitParams<T>(Span<T> theta, ref Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (theta.Length < ParamCount) throw new ArgumentException($"θ has {theta.Length} coordinates; the networks need {ParamCount}.", nameof(theta));
        Policy.InitParams(theta, ref rng);
        Value.InitParams(theta, ref rng);
    }

    /// <summary>Adds the policy to a graph: obs [N, obs] → [N, 2A], parameters viewed at <paramref name="offset"/>.</summary>
    public Node<T> BuildPolicy<T>(Graph<T> g, Node<T> obs, T[] theta, T[] grad, int offset) where T : unmanaged, IFloatingPointIeee754<T> =>
        Policy.Build(g, obs, theta, grad, offset);

    /// <summary>Adds the value network to a graph: obs [N, obs] → [N, 1], parameters viewed at <paramref name="offset"/>.</summary>
    public Node<T> BuildValue<T>(Graph<T> g, Node<T> obs, T[] theta, T[] grad, int offset) where T : unmanaged, IFloatingPointIeee754<T> =>
        Value.Build(g, obs, theta, grad, offset);
}
