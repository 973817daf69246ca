namespace Optim4RL.Agents;

/// <summary>
/// Sees every optimizer update of a learner (A2C, the supervised contrast): the gradient g that
/// was fed to the optimizer and the update Δθ it returned, right after θ ← θ + Δθ. Used to
/// record gradients for analysis (the reference's <c>A2Ccollect</c>); training is unchanged.
/// </summary>
/// <remarks>
/// The spans are views of the learner's own buffers, valid only during the call and
/// overwritten by the next update: copy what you keep. A learner with no observer pays one
/// null check per update.
/// </remarks>
public interface IUpdateObserver
{
    /// <summary>Called once per update, after θ has been updated.</summary>
    /// <param name="update">1-based update index (A2C: the iteration).</param>
    /// <param name="step">Environment steps (or training examples) consumed so far.</param>
    /// <param name="grad">The gradient g, shape [P] (before clipping: clipping is part of the optimizer).</param>
    /// <param name="delta">The update Δθ applied, shape [P].</param>
    void OnUpdate(long update, long step, ReadOnlySpan<float> grad, ReadOnlySpan<float> delta);
}
