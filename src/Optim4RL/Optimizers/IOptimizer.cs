namespace Optim4RL.Optimizers;

/// <summary>
/// An optax-style gradient transformation: <c>Init(θ) → state</c>, <c>Update(g, state) → Δθ</c>,
/// after which the caller applies θ ← θ + Δθ (docs/algorithms.md, "Hand-designed optimizers"). State is explicit and owned by the
/// caller, so one optimizer object can serve many agents. <see cref="Update"/> mutates the
/// state in place and allocates nothing.
/// </summary>
public interface IOptimizer
{
    /// <summary>A short name for logs, e.g. <c>adam</c> or <c>chain(clip(1), adam)</c>.</summary>
    string Name { get; }

    /// <summary>Creates the state for a parameter vector of <paramref name="paramCount"/> coordinates.</summary>
    OptimizerState Init(int paramCount);

    /// <summary>
    /// Computes the update Δθ for gradient <paramref name="grads"/> (shape [P]) and advances the state.
    /// <paramref name="updates"/> (shape [P]) may alias <paramref name="grads"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The spans' lengths differ from the state's parameter count.</exception>
    void Update(ReadOnlySpan<float> grads, OptimizerState state, Span<float> updates);
}

/// <summary>
/// The state of an <see cref="IOptimizer"/>: a step count, named float buffers (moments,
/// recurrent states, …) and the states of sub-transformations (for <c>Chain</c>). Plain data,
/// so checkpoints can save and restore it exactly.
/// </summary>
public sealed class OptimizerState
{
    /// <summary>A state over <paramref name="paramCount"/> parameters with the given buffers (taken, not copied).</summary>
    /// <param name="paramCount">P, the length of the parameter vector the optimizer updates.</param>
    /// <param name="names">One name per buffer (e.g. <c>mu</c>, <c>nu</c>); checkpoints check them on load.</param>
    /// <param name="buffers">The buffers, usually of length P or a multiple of it.</param>
    /// <param name="children">States of sub-transformations (a <c>Chain</c>'s links), or null.</param>
    /// <exception cref="ArgumentException">The number of names differs from the number of buffers.</exception>
    public OptimizerState(int paramCount, string[] names, float[][] buffers, OptimizerState[]? children = null)
    {
        if (names.Length != buffers.Length) throw new ArgumentException("One name per buffer is required.", nameof(names));
        ParamCount = paramCount;
        Names = names;
        Buffers = buffers;
        Children = children ?? [];
    }

    /// <summary>Number of parameter coordinates this state was made for.</summary>
    public int ParamCount { get; }

    /// <summary>How many updates have been applied (optax's <c>count</c>).</summary>
    public long Count { get; set; }

    /// <summary>Buffer names, parallel to <see cref="Buffers"/> (e.g. <c>mu</c>, <c>nu</c>).</summary>
    public string[] Names { get; }

    /// <summary>The buffers themselves.</summary>
    public float[][] Buffers { get; }

    /// <summary>States of inner transformations, in chain order.</summary>
    public OptimizerState[] Children { get; }

    /// <summary>Zeroes every buffer and count (recursively), as a fresh <c>Init</c> would.</summary>
    public void Clear()
    {
        Count = 0;
        foreach (var b in Buffers) Array.Clear(b);
        foreach (var c in Children) c.Clear();
    }

    /// <summary>Writes the state (recursively) in a compact binary form.</summary>
    public void Save(BinaryWriter w)
    {
        w.Write(ParamCount);
        w.Write(Count);
        w.Write(Buffers.Length);
        for (int i = 0; i < Buffers.Length; i++)
        {
            w.Write(Names[i]);
            w.Write(Buffers[i].Length);
            foreach (float x in Buffers[i]) w.Write(x);
        }
        w.Write(Children.Length);
        foreach (var c in Children) c.Save(w);
    }

    /// <summary>Reads a state written by <see cref="Save"/> into this (structurally identical) state.</summary>
    /// <exception cref="InvalidDataException">The saved state has another structure or size.</exception>
    public void Load(BinaryReader r)
    {
        if (r.ReadInt32() != ParamCount) throw new InvalidDataException("Optimizer state: parameter count differs from the saved one.");
        Count = r.ReadInt64();
        if (r.ReadInt32() != Buffers.Length) throw new InvalidDataException("Optimizer state: buffer count differs from the saved one.");
        for (int i = 0; i < Buffers.Length; i++)
        {
            string name = r.ReadString();
            int n = r.ReadInt32();
            if (name != Names[i] || n != Buffers[i].Length)
                throw new InvalidDataException($"Optimizer state: buffer '{name}' [{n}] does not match '{Names[i]}' [{Buffers[i].Length}].");
            for (int j = 0; j < n; j++) Buffers[i][j] = r.ReadSingle();
        }
        if (r.ReadInt32() != Children.Length) throw new InvalidDataException("Optimizer state: chain length differs from the saved one.");
        foreach (var c in Children) c.Load(r);
    }
}
