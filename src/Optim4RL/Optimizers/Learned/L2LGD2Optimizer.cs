using System.Runtime.CompilerServices;
using Optim4RL.Tensors;
using static Optim4RL.Optimizers.Learned.LearnedSimd;

namespace Optim4RL.Optimizers.Learned;

/// <summary>
/// The L2LGD2 baseline learned optimizer (Andrychowicz et al. 2016, "Learning to learn by
/// gradient descent by gradient descent", with their gradient preprocessing, p = 10; docs/algorithms.md and
/// the reference's <c>L2LGD2</c>): per coordinate, one GRU cell (flax convention, hidden size 8)
/// on the preprocessed gradient and a Dense(8 → 1) head giving o; Δθ = −α·exp(o)·g.
/// </summary>
/// <remarks>
/// <para><b>Preprocessing</b>, as the reference computes it: ℓ = ln(|g| + 10⁻⁸)/p; the cell input is
/// (ℓ, sign g) when ℓ ≥ −1 (that is |g| + 10⁻⁸ ≥ e^−p, Andrychowicz et al.'s |g| ≥ e^−p up to the 10⁻⁸ guard),
/// else (−1, e^p·g). It is piecewise in g, but g is a constant with respect to φ, so no gradient
/// flows through it.</para>
/// <para><b>φ layout</b> (281 floats): <c>cell.W_ir</c>, <c>cell.W_iz</c>, <c>cell.W_in</c> [2, 8]
/// (row 0 multiplies the first input feature); <c>cell.W_hr</c>, <c>cell.W_hz</c>,
/// <c>cell.W_hn</c> [8, 8]; <c>cell.b_r</c>, <c>cell.b_z</c>, <c>cell.b_in</c>, <c>cell.b_hn</c>
/// [8]; <c>head.kernel</c> [8, 1]; <c>head.bias</c> [1]. <b>State</b>: [8, N], zero at init.</para>
/// <para>The same fused SIMD kernel as <see cref="LinearOptimOptimizer"/>; ln is the runtime's
/// vectorised log. One instance may serve several threads at once.</para>
/// </remarks>
public sealed class L2LGD2Optimizer() : GruLearnedOptimizer("L2LGD2", new GruCellKernel<L2LGD2Optimizer.L2LHead>())
{
    /// <summary>The preprocessing constant p.</summary>
    public const float P = 10f;

    /// <summary>Cell input: the Andrychowicz et al. preprocessing; Δ = −α·e^o·g.</summary>
    internal struct L2LHead : IGruHead
    {
        /// <summary>e^p in float32, as <c>jnp.exp(10)</c>.</summary>
        internal static readonly float ExpP = MathF.Exp(P);

        public static int InputSize => 2;

        public static int Outputs => 1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input<TV>(TV g, out TV x0, out TV x1) where TV : struct
        {
            TV l = Div(Log(Add(Abs(g), Bcast<TV>(1e-8f))), Bcast<TV>(P));
            x0 = SelectGreaterOrEqual(l, -1f, l, Bcast<TV>(-1f));
            x1 = SelectGreaterOrEqual(l, -1f, Sign(g), Mul(Bcast<TV>(ExpP), g));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Update<TV>(TV g, TV o0, TV o1, TV o2, float alpha, out TV d0, out TV d1, out TV d2) where TV : struct
        {
            TV delta = Mul(Mul(Bcast<TV>(-alpha), Exp(o0)), g);
            d0 = delta; // ∂Δ/∂o = Δ
            d1 = default;
            d2 = default;
            return delta;
        }
    }
}
