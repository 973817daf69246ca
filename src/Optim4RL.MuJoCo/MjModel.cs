using System.Runtime.InteropServices;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// A compiled MuJoCo 2.2.2 model (<c>mjModel</c>), loaded from an MJCF file or text
/// (docs/environments.md, "The MuJoCo binding"). Read-only once loaded, so one model is shared by every
/// environment of a task and by every thread; each environment has its own <see cref="MjData"/>.
/// </summary>
/// <remarks>
/// <para>Array fields are exposed as <see cref="ReadOnlySpan{T}"/> over MuJoCo's own memory (row-major;
/// shapes as in <c>mjmodel.h</c>); they are valid until the model is disposed. Any field listed in
/// MuJoCo's <c>mjxmacro.h</c> can be reached by name through <see cref="Array{T}"/> and
/// <see cref="GetInt"/>.</para>
/// <para>The native model is owned by a <see cref="SafeHandle"/>: it is freed by <see cref="Dispose"/> or,
/// failing that, by the finaliser, and never while a call is using it.</para>
/// </remarks>
public sealed unsafe class MjModel : IDisposable
{
    private readonly MjHandle _handle;

    private MjModel(MjHandle handle, string source)
    {
        _handle = handle;
        Source = source;
        Nq = GetInt("nq");
        Nv = GetInt("nv");
        Nu = GetInt("nu");
        Na = GetInt("na");
        Nbody = GetInt("nbody");
        Njnt = GetInt("njnt");
        Ngeom = GetInt("ngeom");
        Nsite = GetInt("nsite");
        Timestep = GetOptionDouble("timestep");
        Integrator = (MjIntegrator)GetInt("opt.integrator");
        Solver = (MjSolver)GetInt("opt.solver");
        Iterations = GetInt("opt.iterations");
        _qpos0 = Cache<double>("qpos0");
        _bodyMass = Cache<double>("body_mass");
        _jntQposAdr = Cache<int>("jnt_qposadr");
        _jntDofAdr = Cache<int>("jnt_dofadr");
        _jntRange = Cache<double>("jnt_range");
        _ctrlRange = Cache<double>("actuator_ctrlrange");
        _gear = Cache<double>("actuator_gear");
    }

    private readonly (IntPtr Ptr, int Length) _qpos0, _bodyMass, _jntQposAdr, _jntDofAdr, _jntRange, _ctrlRange, _gear;

    /// <summary>Where the model came from: the file path, or the virtual name given to <see cref="FromXmlString"/>.</summary>
    public string Source { get; }

    /// <summary>Number of generalized coordinates (length of qpos).</summary>
    public int Nq { get; }

    /// <summary>Number of degrees of freedom (length of qvel).</summary>
    public int Nv { get; }

    /// <summary>Number of actuators (length of ctrl).</summary>
    public int Nu { get; }

    /// <summary>Number of activation states (length of act).</summary>
    public int Na { get; }

    /// <summary>Number of bodies, the world body 0 included.</summary>
    public int Nbody { get; }

    /// <summary>Number of joints.</summary>
    public int Njnt { get; }

    /// <summary>Number of geoms.</summary>
    public int Ngeom { get; }

    /// <summary>Number of sites.</summary>
    public int Nsite { get; }

    /// <summary>The simulation time step in seconds (<c>opt.timestep</c>).</summary>
    public double Timestep { get; }

    /// <summary>The integrator (<c>opt.integrator</c>).</summary>
    public MjIntegrator Integrator { get; }

    /// <summary>The constraint solver (<c>opt.solver</c>).</summary>
    public MjSolver Solver { get; }

    /// <summary>Maximum solver iterations (<c>opt.iterations</c>).</summary>
    public int Iterations { get; }

    /// <summary>The default pose qpos0, [nq] (body positions and slide-joint <c>ref</c>s from the XML).</summary>
    public ReadOnlySpan<double> Qpos0 => View<double>(_qpos0);

    /// <summary>Body masses in kg, [nbody] (world first).</summary>
    public ReadOnlySpan<double> BodyMass => View<double>(_bodyMass);

    /// <summary>First qpos index of each joint, [njnt].</summary>
    public ReadOnlySpan<int> JointQposAddress => View<int>(_jntQposAdr);

    /// <summary>First qvel index of each joint, [njnt].</summary>
    public ReadOnlySpan<int> JointDofAddress => View<int>(_jntDofAdr);

    /// <summary>Joint limits, [njnt × 2] (radians for hinges, whatever the XML's angle unit).</summary>
    public ReadOnlySpan<double> JointRange => View<double>(_jntRange);

    /// <summary>Actuator control ranges, [nu × 2] (low, high).</summary>
    public ReadOnlySpan<double> ActuatorCtrlRange => View<double>(_ctrlRange);

    /// <summary>Actuator gears, [nu × 6]; element 0 of each row is the gear of a joint motor.</summary>
    public ReadOnlySpan<double> ActuatorGear => View<double>(_gear);

    /// <summary>Gravity, [3] in m/s² (<c>opt.gravity</c>).</summary>
    public ReadOnlySpan<double> Gravity
    {
        get
        {
            using var use = Use();
            double* p;
            int n;
            byte[] key = MuJoCoNative.Utf8Z("opt.gravity");
            fixed (byte* k = key)
            {
                if (MuJoCoNative.Fn.ModelOptionVector(use.Ptr, k, &p, &n) != 0) throw new InvalidOperationException("opt.gravity not found.");
            }

            return new ReadOnlySpan<double>(p, n);
        }
    }

    internal IntPtr DangerousPointer => _handle.DangerousGetHandle();

    internal MjHandle Handle => _handle;

    /// <summary>
    /// Loads and compiles an MJCF file (<c>mj_loadXML</c>).
    /// </summary>
    /// <param name="path">Path to the XML file.</param>
    /// <exception cref="MuJoCoException">The file is missing or does not parse/compile; the message names the file
    /// and quotes MuJoCo's error text (e.g. "XML Error: ... Element 'bodyy', line 5"). Also thrown when the native
    /// library is unavailable.</exception>
    public static MjModel LoadXml(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new MuJoCoException($"Could not load MuJoCo model '{full}': the file does not exist.");
        }

        IntPtr m = MuJoCoNative.LoadXml(full, out string message);
        if (m == IntPtr.Zero)
        {
            throw new MuJoCoException($"Could not load MuJoCo model '{full}': {(message.Length > 0 ? message : "mj_loadXML failed without a message")}");
        }

        return new MjModel(new MjHandle(m, MuJoCoNative.Fn.DeleteModel), full);
    }

    /// <summary>
    /// Compiles MJCF text (through a one-file MuJoCo virtual file system; the model may not include other files).
    /// </summary>
    /// <param name="xml">The MJCF document.</param>
    /// <param name="name">A name for messages and <see cref="Source"/>; ".xml" is appended if missing.</param>
    /// <exception cref="MuJoCoException">The text does not parse or compile; the message names <paramref name="name"/>
    /// and quotes MuJoCo's error text.</exception>
    public static MjModel FromXmlString(string xml, string name = "model.xml")
    {
        ArgumentNullException.ThrowIfNull(xml);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (xml.Contains('\0')) throw new ArgumentException("The XML text contains a NUL character.", nameof(xml));
        string virtualName = Path.GetFileName(name);
        if (!virtualName.EndsWith(".xml", StringComparison.OrdinalIgnoreCase)) virtualName += ".xml";
        IntPtr m = MuJoCoNative.LoadXmlString(xml, virtualName, out string message);
        if (m == IntPtr.Zero)
        {
            throw new MuJoCoException($"Could not load MuJoCo model '{name}': {(message.Length > 0 ? message : "mj_loadXML failed without a message")}");
        }

        return new MjModel(new MjHandle(m, MuJoCoNative.Fn.DeleteModel), name);
    }

    /// <summary>
    /// An int field of mjModel by name: any of <c>MJMODEL_INTS</c> (<c>nq</c>, <c>njmax</c>, <c>nstack</c>, …) or an
    /// int option prefixed with <c>opt.</c> (<c>opt.integrator</c>, <c>opt.iterations</c>, …).
    /// </summary>
    /// <exception cref="ArgumentException">No such field.</exception>
    public int GetInt(string name)
    {
        using var use = Use();
        byte[] key = MuJoCoNative.Utf8Z(name);
        int value;
        fixed (byte* k = key)
        {
            if (MuJoCoNative.Fn.ModelInt(use.Ptr, k, &value) != 0) throw new ArgumentException($"mjModel has no int field '{name}'.", nameof(name));
        }

        return value;
    }

    /// <summary>A floating-point option by name without the <c>opt.</c> prefix (<c>timestep</c>, <c>tolerance</c>, …).</summary>
    /// <exception cref="ArgumentException">No such option.</exception>
    public double GetOptionDouble(string name)
    {
        using var use = Use();
        byte[] key = MuJoCoNative.Utf8Z("opt." + name);
        double value;
        fixed (byte* k = key)
        {
            if (MuJoCoNative.Fn.ModelDouble(use.Ptr, k, &value) != 0) throw new ArgumentException($"mjOption has no floating-point field '{name}'.", nameof(name));
        }

        return value;
    }

    /// <summary>Shape and element type of an array field (any of <c>MJMODEL_POINTERS</c>).</summary>
    /// <exception cref="ArgumentException">No such field.</exception>
    public MjArrayInfo ArrayInfo(string name) => Lookup(name, out _);

    /// <summary>
    /// An array field of mjModel by name (e.g. <c>body_mass</c>, <c>geom_friction</c>), row-major.
    /// </summary>
    /// <typeparam name="T">The element type: double for mjtNum, int, byte for mjtByte, float.</typeparam>
    /// <exception cref="ArgumentException">No such field, or <typeparamref name="T"/> does not match its element type.</exception>
    public ReadOnlySpan<T> Array<T>(string name) where T : unmanaged
    {
        var info = Lookup(name, out IntPtr p);
        info.RequireElement<T>("mjModel", name);
        return new ReadOnlySpan<T>((void*)p, info.Length);
    }

    /// <summary>The id of a named object (<c>mj_name2id</c>), or −1 when there is none.</summary>
    public int Name2Id(MjObjectType type, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var use = Use();
        byte[] key = MuJoCoNative.Utf8Z(name);
        fixed (byte* k = key)
        {
            int id = MuJoCoNative.Fn.Name2Id(use.Ptr, (int)type, k);
            if (id == -2) throw MuJoCoNative.Error("mj_name2id");
            return id;
        }
    }

    /// <summary>The name of an object (<c>mj_id2name</c>), or null when it has none.</summary>
    public string? Id2Name(MjObjectType type, int id)
    {
        using var use = Use();
        byte* buf = stackalloc byte[1024];
        int rc = MuJoCoNative.Fn.Id2Name(use.Ptr, (int)type, id, buf, 1024);
        if (rc == -2) throw MuJoCoNative.Error("mj_id2name");
        return rc == 1 ? MuJoCoNative.Utf8(buf) : null;
    }

    /// <summary>The id of a named object; throws when absent.</summary>
    /// <exception cref="ArgumentException">The model has no such object.</exception>
    public int RequireId(MjObjectType type, string name)
    {
        int id = Name2Id(type, name);
        return id >= 0 ? id : throw new ArgumentException($"Model '{Source}' has no {type.ToString().ToLowerInvariant()} named '{name}'.", nameof(name));
    }

    /// <summary>The qpos index of a named joint's first coordinate.</summary>
    /// <exception cref="ArgumentException">No such joint.</exception>
    public int JointQposIndex(string joint) => JointQposAddress[RequireId(MjObjectType.Joint, joint)];

    /// <summary>The qvel index of a named joint's first degree of freedom.</summary>
    /// <exception cref="ArgumentException">No such joint.</exception>
    public int JointDofIndex(string joint) => JointDofAddress[RequireId(MjObjectType.Joint, joint)];

    /// <summary>Creates a simulation state for this model (<c>mj_makeData</c>), at the default pose.</summary>
    /// <exception cref="MuJoCoException">MuJoCo could not allocate the data.</exception>
    public MjData MakeData() => new(this);

    /// <summary>Frees the native model (data made from it must not be stepped afterwards).</summary>
    public void Dispose() => _handle.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"MjModel('{Source}', nq={Nq}, nv={Nv}, nu={Nu}, nbody={Nbody}, dt={Timestep})";

    internal Usage Use() => new(_handle, this);

    private (IntPtr Ptr, int Length) Cache<T>(string name) where T : unmanaged
    {
        var span = Array<T>(name);
        fixed (T* p = span) return ((IntPtr)p, span.Length);
    }

    private ReadOnlySpan<T> View<T>((IntPtr Ptr, int Length) a) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return new ReadOnlySpan<T>((void*)a.Ptr, a.Length);
    }

    private MjArrayInfo Lookup(string name, out IntPtr ptr)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var use = Use();
        byte[] key = MuJoCoNative.Utf8Z(name);
        void* p;
        int rows, cols, kind, size;
        fixed (byte* k = key)
        {
            if (MuJoCoNative.Fn.ModelArray(use.Ptr, k, &p, &rows, &cols, &kind, &size) != 0)
            {
                throw new ArgumentException($"mjModel has no array field '{name}'.", nameof(name));
            }
        }

        ptr = (IntPtr)p;
        return new MjArrayInfo(name, rows, cols, (MjElementKind)kind, size);
    }

    /// <summary>Keeps a native handle alive (and un-freed) for the duration of a call.</summary>
    internal readonly ref struct Usage
    {
        private readonly SafeHandle _handle;
        private readonly bool _added;

        public Usage(SafeHandle handle, object owner)
        {
            _handle = handle;
            ObjectDisposedException.ThrowIf(handle.IsClosed, owner);
            _added = false;
            handle.DangerousAddRef(ref _added);
            Ptr = handle.DangerousGetHandle();
        }

        public IntPtr Ptr { get; }

        public void Dispose()
        {
            if (_added) _handle.DangerousRelease();
        }
    }
}
