using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Optim4RL.Io;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Optim4RL.Optimizers;

/// <summary>
/// A torch.optim-style optimizer over parameters kept where the caller keeps them: named
/// <see cref="ParameterGroup"/>s of arrays, memory slices or <see cref="System.Numerics.Tensors.Tensor{T}"/>
/// values, each with a gradient buffer. Each <see cref="Step"/> runs the inner <see cref="IOptimizer"/>
/// once over all parameters as one θ (the groups' parameters concatenated in order, so its per-coordinate
/// state, e.g. Adam's moments or the learned optimizer's recurrent state, follows each parameter at
/// <see cref="Parameter.Offset"/>), then applies θ ← θ + s·Δθ to each parameter in place, s being its
/// group's <see cref="ParameterGroup.LearningRateScale"/>.
/// </summary>
/// <remarks>
/// <para><b>Same numbers as the flat-span API.</b> With every scale 1 a step gives bit for bit what
/// <c>optimizer.Update(g, state, Δθ)</c> followed by θ ← θ + Δθ gives on the concatenated θ and g
/// (what <c>A2C</c> does).</para>
/// <para><b>Copies.</b> The inner optimizer needs the gradient as one contiguous span. When the gradient
/// buffers are consecutive slices of one array (or one tensor's memory), in parameter order, that
/// memory is passed as is (<see cref="GradientsAreContiguous"/>); otherwise each step first gathers them
/// into a private [P] buffer, one copy of P floats. Δθ goes to a private [P] buffer (as in the flat-span
/// API) and is added to each parameter in place, so parameter values are never copied.</para>
/// <para>Not thread-safe: one caller steps an instance at a time.</para>
/// </remarks>
/// <example>
/// <code>
/// var opt = new GroupedOptimizer(Optax.Adam(1e-3),
///     new ParameterGroup("body").Add("w1", w1, gw1).Add("b1", b1, gb1),
///     new ParameterGroup("head", learningRateScale: 0.1f).Add("w2", w2, gw2));
/// for (int i = 0; i &lt; steps; i++)
/// {
///     opt.ZeroGrad();
///     ComputeGradients();   // writes gw1, gb1, gw2
///     opt.Step();
/// }
/// </code>
/// </example>
public sealed class GroupedOptimizer
{
    private const string SaveTag = "Optim4RL.GroupedOptimizer";
    private const int SaveVersion = 1;

    private readonly ParameterGroup[] _groups;
    private readonly Parameter[] _parameters;
    private readonly float[] _updates;
    private float[]? _gathered;

    /// <summary>Creates the optimizer and the inner optimizer's state for all the groups' coordinates.</summary>
    /// <param name="optimizer">The inner optimizer: <c>Optax.Adam(…)</c>, <c>LearnedOptimizer.Load(…)</c>, a chain, ….</param>
    /// <param name="groups">One or more groups with at least one parameter in all. They are frozen: no
    /// parameter can be added to them afterwards.</param>
    /// <exception cref="ArgumentException">No parameter, two groups of one name, or two parameters whose values
    /// (or whose gradient buffers) share memory.</exception>
    public GroupedOptimizer(IOptimizer optimizer, params IReadOnlyList<ParameterGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Any(g => g is null)) throw new ArgumentException("A parameter group is null.", nameof(groups));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in groups)
        {
            if (!names.Add(g.Name)) throw new ArgumentException($"Two parameter groups are named '{g.Name}'.", nameof(groups));
        }

        _groups = groups.ToArray();
        _parameters = _groups.SelectMany(g => g.Parameters).ToArray();
        long count = _groups.Sum(g => (long)g.Count);
        if (count == 0) throw new ArgumentException("The parameter groups hold no parameter.", nameof(groups));
        if (count > Array.MaxLength) throw new ArgumentException($"The groups hold {count} coordinates, more than one array can ({Array.MaxLength}).", nameof(groups));
        CheckNoSharedMemory(_groups);

        int offset = 0;
        foreach (var g in _groups)
        {
            g.IsFrozen = true;
            foreach (var p in g.Parameters)
            {
                p.Offset = offset;
                offset += p.Length;
            }
        }

        Optimizer = optimizer;
        ParameterCount = offset;
        State = optimizer.Init(offset);
        _updates = new float[offset];
    }

    /// <summary>The inner optimizer.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The groups, in order.</summary>
    public IReadOnlyList<ParameterGroup> Groups => _groups;

    /// <summary>P, the total number of coordinates.</summary>
    public int ParameterCount { get; }

    /// <summary>The inner optimizer's state over the P coordinates (parameter at <see cref="Parameter.Offset"/>).</summary>
    public OptimizerState State { get; }

    /// <summary>Steps taken (the state's count).</summary>
    public long StepCount => State.Count;

    /// <summary>
    /// True when the gradient buffers are consecutive slices of one memory block in parameter order, so
    /// <see cref="Step"/> hands that memory to the inner optimizer without gathering a copy.
    /// </summary>
    public bool GradientsAreContiguous => TryContiguousGradient(out _);

    /// <summary>
    /// One optimizer step: reads every parameter's gradient buffer, runs the inner optimizer once over the
    /// concatenated gradient (gathering a copy only when the buffers are not contiguous), then
    /// θ ← θ + s·Δθ for each parameter in place (s its group's learning-rate scale; exactly θ + Δθ when s = 1).
    /// The gradient buffers are left as they were.
    /// </summary>
    public void Step()
    {
        ReadOnlySpan<float> g;
        if (TryContiguousGradient(out var whole))
        {
            g = whole;
        }
        else
        {
            _gathered ??= new float[ParameterCount];
            foreach (var p in _parameters) p.Grad.CopyTo(_gathered.AsSpan(p.Offset, p.Length));
            g = _gathered;
        }

        Optimizer.Update(g, State, _updates);
        foreach (var group in _groups)
        {
            float s = group.LearningRateScale;
            foreach (var p in group.Parameters)
            {
                Span<float> theta = p.Value;
                ReadOnlySpan<float> delta = _updates.AsSpan(p.Offset, p.Length);
                if (s == 1f) TP.Add(theta, delta, theta);
                else TP.MultiplyAdd(delta, s, theta, theta);
            }
        }
    }

    /// <summary>Sets every parameter's gradient buffer to zero (torch's <c>zero_grad(set_to_none=False)</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.Grad.Clear();
    }

    /// <summary>
    /// Writes the optimizer's state: the groups' layout (names, sizes) and learning-rate scales, then the inner
    /// optimizer's state (step count and every buffer; arrays through <see cref="BinaryArrays"/>). Parameter
    /// values are not included, as in torch's <c>optimizer.state_dict()</c>: save them yourself.
    /// </summary>
    /// <exception cref="IOException">The stream cannot be written.</exception>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(SaveTag);
        writer.Write(SaveVersion);
        writer.Write(Optimizer.Name);
        writer.Write(_groups.Length);
        foreach (var g in _groups)
        {
            writer.Write(g.Name);
            writer.Write(g.LearningRateScale);
            writer.Write(g.Parameters.Count);
            foreach (var p in g.Parameters)
            {
                writer.Write(p.Name);
                writer.Write(p.Length);
            }
        }

        WriteState(writer, State);
    }

    /// <summary>
    /// Restores a state written by <see cref="SaveState"/> into this optimizer, whose groups must have the same
    /// names, parameters and sizes, and whose inner optimizer the same state structure (the same kind of
    /// optimizer). The groups' learning-rate scales are restored too (as torch's <c>load_state_dict</c> restores
    /// each group's <c>lr</c>). Training then continues exactly as it would have from where it was saved.
    /// Nothing is changed when the data is rejected.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is not a grouped-optimizer state, or its layout or structure differs (the message says how).</exception>
    /// <exception cref="EndOfStreamException">The data ends early.</exception>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string tag = reader.ReadString();
        if (tag != SaveTag) throw new InvalidDataException($"Not a grouped-optimizer state (tag '{tag}').");
        int version = reader.ReadInt32();
        if (version != SaveVersion) throw new InvalidDataException($"Unsupported grouped-optimizer state version {version} (this build reads {SaveVersion}).");
        string savedOptimizer = reader.ReadString();
        int groupCount = reader.ReadInt32();
        if (groupCount != _groups.Length) throw new InvalidDataException($"The saved state has {groupCount} parameter groups, this optimizer {_groups.Length}.");
        var scales = new float[groupCount];
        for (int i = 0; i < groupCount; i++)
        {
            var g = _groups[i];
            string name = reader.ReadString();
            if (name != g.Name) throw new InvalidDataException($"Saved group #{i} is '{name}', this optimizer's is '{g.Name}'.");
            scales[i] = reader.ReadSingle();
            if (!(scales[i] >= 0f) || !float.IsFinite(scales[i])) throw new InvalidDataException($"Saved group '{name}' has learning-rate scale {scales[i]}.");
            int n = reader.ReadInt32();
            if (n != g.Parameters.Count) throw new InvalidDataException($"Saved group '{name}' has {n} parameters, this optimizer's {g.Parameters.Count}.");
            for (int j = 0; j < n; j++)
            {
                var p = g.Parameters[j];
                string pn = reader.ReadString();
                int len = reader.ReadInt32();
                if (pn != p.Name || len != p.Length)
                    throw new InvalidDataException($"Saved parameter #{j} of group '{name}' is '{pn}' [{len}], this optimizer's is '{p.Name}' [{p.Length}].");
            }
        }

        var loaded = ReadState(reader, State, savedOptimizer, Optimizer.Name);
        Commit(State, loaded);
        for (int i = 0; i < groupCount; i++) _groups[i].LearningRateScale = scales[i];
    }

    private bool TryContiguousGradient(out ReadOnlySpan<float> whole)
    {
        whole = default;
        Span<float> first = _parameters[0].Grad;
        ref float start = ref MemoryMarshal.GetReference(first);
        nint expected = 0;
        foreach (var p in _parameters)
        {
            ref float r = ref MemoryMarshal.GetReference(p.Grad);
            if (Unsafe.ByteOffset(ref start, ref r) != expected) return false;
            expected += (nint)p.Length * sizeof(float);
        }

        whole = MemoryMarshal.CreateReadOnlySpan(ref start, ParameterCount);
        return true;
    }

    private static void CheckNoSharedMemory(ParameterGroup[] groups)
    {
        var all = groups.SelectMany(g => g.Parameters.Select(p => (Group: g.Name, P: p))).ToArray();
        for (int i = 0; i < all.Length; i++)
        {
            for (int j = i + 1; j < all.Length; j++)
            {
                var (gi, pi) = all[i];
                var (gj, pj) = all[j];
                if (pi.Value.Overlaps(pj.Value))
                    throw new ArgumentException($"Parameters '{gi}/{pi.Name}' and '{gj}/{pj.Name}' share memory; a parameter may appear only once.", nameof(groups));
                if (pi.Grad.Overlaps(pj.Grad))
                    throw new ArgumentException($"The gradient buffers of '{gi}/{pi.Name}' and '{gj}/{pj.Name}' share memory.", nameof(groups));
            }
        }
    }

    private static void WriteState(BinaryWriter w, OptimizerState s)
    {
        w.Write(s.ParamCount);
        w.Write(s.Count);
        w.Write(s.Buffers.Length);
        for (int i = 0; i < s.Buffers.Length; i++)
        {
            w.Write(s.Names[i]);
            BinaryArrays.WriteFloats(w, s.Buffers[i]);
        }

        w.Write(s.Children.Length);
        foreach (var c in s.Children) WriteState(w, c);
    }

    /// <summary>A state read into fresh arrays (committed only once all of it has been read and checked).</summary>
    private sealed record LoadedState(long Count, float[][] Buffers, LoadedState[] Children);

    private static LoadedState ReadState(BinaryReader r, OptimizerState like, string savedOptimizer, string optimizer)
    {
        InvalidDataException Mismatch(string what) =>
            new($"The saved optimizer state ({savedOptimizer}) does not fit this optimizer ({optimizer}): {what}.");

        int paramCount = r.ReadInt32();
        if (paramCount != like.ParamCount) throw Mismatch($"{paramCount} coordinates instead of {like.ParamCount}");
        long count = r.ReadInt64();
        if (count < 0) throw Mismatch($"step count {count}");
        int n = r.ReadInt32();
        if (n != like.Buffers.Length) throw Mismatch($"{n} state buffers instead of {like.Buffers.Length}");
        var buffers = new float[n][];
        for (int i = 0; i < n; i++)
        {
            string name = r.ReadString();
            if (name != like.Names[i]) throw Mismatch($"buffer '{name}' where '{like.Names[i]}' was expected");
            buffers[i] = new float[like.Buffers[i].Length];
            try
            {
                BinaryArrays.ReadFloats(r, buffers[i]);
            }
            catch (InvalidDataException e)
            {
                throw Mismatch($"buffer '{name}': {e.Message}");
            }
        }

        int children = r.ReadInt32();
        if (children != like.Children.Length) throw Mismatch($"{children} chained states instead of {like.Children.Length}");
        var loaded = new LoadedState[children];
        for (int i = 0; i < children; i++) loaded[i] = ReadState(r, like.Children[i], savedOptimizer, optimizer);
        return new LoadedState(count, buffers, loaded);
    }

    private static void Commit(OptimizerState s, LoadedState loaded)
    {
        s.Count = loaded.Count;
        for (int i = 0; i < s.Buffers.Length; i++) loaded.Buffers[i].CopyTo(s.Buffers[i], 0);
        for (int i = 0; i < s.Children.Length; i++) Commit(s.Children[i], loaded.Children[i]);
    }
}
