namespace Optim4RL.Optimizers;

/// <summary>
/// The gradient-clipping transform, put in front of an optimizer by the configs' <c>grad_clip</c>
/// (<see cref="ClipElementwise"/>, optax <c>clip</c>) or <c>grad_norm</c> (<see cref="ClipByGlobalNorm"/>,
/// optax <c>clip_by_global_norm</c>): <see cref="Optax.FromConfig"/> chains it before every optimizer a
/// config names, hand-designed and learned alike.
/// </summary>
/// <remarks>Stateless: the state has no buffers; only <see cref="OptimizerState.Count"/> advances.</remarks>
public abstract class GradientClip : StatelessTransform
{
    /// <summary>Checks the bound and names the transform <c>optaxName(c)</c>.</summary>
    private protected GradientClip(string optaxName, double bound, string parameter, string message)
        : base($"{optaxName}({Kernels.Format(Kernels.Checked(bound, bound > 0 && double.IsFinite(bound), parameter, message))})") =>
        Bound = bound;

    /// <summary>The bound c (finite, &gt; 0).</summary>
    public double Bound { get; }
}
