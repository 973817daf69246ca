namespace Optim4RL.Envs;

/// <summary>
/// One kind of object on a gridworld map (docs/environments.md; LPG, Oh et al. 2020): the reward for
/// picking it up, the probability that picking it up ends the episode, and the per-step
/// probability that it reappears while absent.
/// </summary>
/// <param name="Reward">Reward for picking the object up (before reward scaling).</param>
/// <param name="TerminationProbability">Probability in [0, 1] that a pickup terminates the episode.</param>
/// <param name="RespawnProbability">Probability in [0, 1], per step, that an absent object reappears.</param>
public readonly record struct GridObject(float Reward, double TerminationProbability, double RespawnProbability);

/// <summary>
/// A gridworld map (docs/environments.md, "Gridworlds"): a <see cref="Rows"/> × <see cref="Cols"/> rectangle whose border
/// cells are walls and whose interior is empty, the objects placed on it, and the episode's time limit.
/// </summary>
/// <param name="Name">Task name, e.g. <c>small_dense_long</c>.</param>
/// <param name="Rows">Map height in cells, border walls included (≥ 3).</param>
/// <param name="Cols">Map width in cells, border walls included (≥ 3).</param>
/// <param name="Objects">The objects, in pickup order; object i is observation channel i.</param>
/// <param name="MaxSteps">Time limit: the episode is truncated once time ≥ MaxSteps (≥ 1).</param>
public sealed record GridworldConfig(string Name, int Rows, int Cols, IReadOnlyList<GridObject> Objects, int MaxSteps)
{
    private static readonly GridObject SparsePositive = new(1f, 0.0, 0.05);
    private static readonly GridObject SparseNegative = new(-1f, 0.5, 0.05);
    private static readonly GridObject DensePositive = new(1f, 0.0, 0.5);
    private static readonly GridObject DenseNegative = new(-1f, 0.5, 0.5);

    /// <summary>(+1, 0, 0.05), (−1, 0.5, 0.05).</summary>
    private static readonly IReadOnlyList<GridObject> SmallSparse = Array.AsReadOnly<GridObject>([SparsePositive, SparseNegative]);

    /// <summary>(+1, 0, 0.5), (−1, 0.5, 0.5).</summary>
    private static readonly IReadOnlyList<GridObject> SmallDense = Array.AsReadOnly<GridObject>([DensePositive, DenseNegative]);

    /// <summary>2×(+1, 0, 0.05), 2×(−1, 0.5, 0.05).</summary>
    private static readonly IReadOnlyList<GridObject> BigSparse = Array.AsReadOnly<GridObject>([SparsePositive, SparsePositive, SparseNegative, SparseNegative]);

    /// <summary>2×(+1, 0, 0.5), 2×(−1, 0.5, 0.5).</summary>
    private static readonly IReadOnlyList<GridObject> BigDense = Array.AsReadOnly<GridObject>([DensePositive, DensePositive, DenseNegative, DenseNegative]);

    /// <summary>
    /// The eight LPG gridworlds in the order of the table in docs/environments.md: small_sparse_short (5×10),
    /// small_sparse_long (10×5), small_dense_short (6×8), small_dense_long (8×6), big_sparse_short
    /// (12×14), big_sparse_long (14×12), big_dense_short (11×15), big_dense_long (15×11).
    /// "short" maps allow 50 steps, "long" maps 500.
    /// </summary>
    public static IReadOnlyList<GridworldConfig> All { get; } =
    [
        new("small_sparse_short", 5, 10, SmallSparse, 50),
        new("small_sparse_long", 10, 5, SmallSparse, 500),
        new("small_dense_short", 6, 8, SmallDense, 50),
        new("small_dense_long", 8, 6, SmallDense, 500),
        new("big_sparse_short", 12, 14, BigSparse, 50),
        new("big_sparse_long", 14, 12, BigSparse, 500),
        new("big_dense_short", 11, 15, BigDense, 50),
        new("big_dense_long", 15, 11, BigDense, 500),
    ];

    /// <summary>The config in <see cref="All"/> with this exact (full) name, or null.</summary>
    public static GridworldConfig? Find(string name)
    {
        foreach (var c in All)
            if (c.Name == name) return c;
        return null;
    }

    /// <summary>How many interior (non-wall) cells the map has: (Rows − 2) × (Cols − 2).</summary>
    public int InteriorCellCount => (Rows - 2) * (Cols - 2);
}
