namespace Optim4RL.Optimizers.Learned;

/// <summary>Creates learned-optimizer kernels by their architecture name (docs/algorithms.md, "Learned optimizers").</summary>
public static class LearnedOptimizers
{
    // One line per architecture; names are matched case-insensitively.
    private static readonly (string Name, Func<ILearnedOptimizer> Create)[] Registry =
    [
        ("Optim4RL", () => new Optim4RLOptimizer()),
        ("LinearOptim", () => new LinearOptimOptimizer()),
        ("L2LGD2", () => new L2LGD2Optimizer()),
        ("STAR", () => new StarOptimizer()),
    ];

    /// <summary>The architecture names <see cref="Create"/> accepts, in their canonical spelling.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Registry, e => e.Name);

    /// <summary>A new kernel for <paramref name="name"/> (case-insensitive), e.g. <c>Optim4RL</c>, <c>LinearOptim</c>, <c>L2LGD2</c>, <c>STAR</c> (the reference's configs write <c>Star</c>).</summary>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    public static ILearnedOptimizer Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var (n, create) in Registry)
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) return create();
        throw new ArgumentException($"Unknown learned optimizer '{name}'. Valid names: {string.Join(", ", Names)}.", nameof(name));
    }
}
