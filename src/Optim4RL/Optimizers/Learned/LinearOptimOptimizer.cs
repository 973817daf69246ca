using System.Runtime.CompilerServices;
using Optim4RL.Tensors;
using static Optim4RL.Optimizers.Learned.LearnedSimd;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// The LinearOptim baseline learned optimizer (docs/algorithms.md; the reference's <c>LinearOptim</c>): per
/// coordinate, one GRU cell (flax convention, hidden size 8, input g) and a Dense(8 → 3) head
/// giving o1, o2, o3; the update is Δθ = −α·(exp(o1)·g + exp(o2)·o3).
/// </summary>
/// <remarks>
/// <para><b>φ layout</b> (275 floats; <see cref="GruLearnedOptimizer.Layout"/> names every array): <c>cell.W_ir</c>,
/// <c>cell.W_iz</c>, <c>cell.W_in</c> [1, 8]; <c>cell.W_hr</c>, <c>cell.W_hz</c>,
/// <c>cell.W_hn</c> [8, 8]; <c>cell.b_r</c>, <c>cell.b_z</c>, <c>cell.b_in</c>, <c>cell.b_hn</c>
/// [8]; <c>head.kernel</c> [8, 3]; <c>head.bias</c> [3]. <b>State</b>: [8, N], the cell's h, zero
/// at init.</para>
/// <para>A fused SIMD kernel with the structure of <see cref="Optim4RLOptimizer"/> (agent-aligned
/// chunks under Parallel.For, rational tanh/σ, K-step recompute and reverse sweep for the
/// meta-gradient, chunk-ordered reduction: bitwise identical results for any thread count). One
/// instance may serve several threads at once.</para>
/// </remarks>
public sealed class LinearOptimOptimizer() : GruLearnedOptimizer("LinearOptim", new GruCellKernel<LinearOptimOptimizer.LinearHead>())
{
    /// <summary>Cell input x = g; Δ = −α·(e^{o1}·g + e^{o2}·o3).</summary>
    internal struct LinearHead : IGruHead
    {
        public static int InputSize => 1;

        public static int Outputs => 3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input<TV>(TV g, out TV x0, out TV x1) where TV : struct
        {
            x0 = g;
            x1 = default;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Update<TV>(TV g, TV o0, TV o1, TV o2, float alpha, out TV d0, out TV d1, out TV d2) where TV : struct
        {
            TV na = Bcast<TV>(-alpha);
            TV e1 = Mul(na, Exp(o0));   // −α·e^{o1}
            TV e2 = Mul(na, Exp(o1));   // −α·e^{o2}
            d0 = Mul(e1, g);            // ∂Δ/∂o1 = −α·e^{o1}·g
            d1 = Mul(e2, o2);           // ∂Δ/∂o2 = −α·e^{o2}·o3
            d2 = e2;                    // ∂Δ/∂o3 = −α·e^{o2}
            return Add(d0, d1);
        }
    }
}
