using System.Runtime.InteropServices;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// The simulation state of one MuJoCo world (<c>mjData</c>) for an <see cref="MjModel"/>: positions, velocities,
/// controls and everything MuJoCo derives from them. One per environment; not thread-safe (step different
/// <see cref="MjData"/> objects of the same model on different threads freely).
/// </summary>
/// <remarks>
/// <para>Arrays are <see cref="Span{T}"/>s over MuJoCo's own memory, row-major with the shapes of <c>mjdata.h</c>
/// (body 0 is the world; <c>xquat</c> is (w, x, y, z); <c>cvel</c> and <c>cfrc_ext</c> rows are
/// (rotational, translational)). They stay valid until the data is disposed. Any field of <c>mjxmacro.h</c>'s
/// <c>MJDATA_POINTERS</c> can be reached through <see cref="Array{T}"/>.</para>
/// <para>Body quantities (xpos, xipos, cinert, cvel, site_xpos, …) are those of the last internal forward pass, so
/// after <see cref="Step"/> they lag qpos slightly, exactly as in Gymnasium (docs/environments.md, "How a step works").</para>
/// <para>Errors: MuJoCo errors inside any call become a <see cref="MuJoCoException"/>; the data is then reset
/// (<c>mj_resetData</c>) so that it stays usable. Warnings are returned as <see cref="MjWarnings"/>.</para>
/// </remarks>
public sealed unsafe class MjData : IDisposable
{
    private readonly MjHandle _handle;
    private readonly double* _qpos, _qvel, _act, _qaccWarmstart, _ctrl, _qacc;
    private readonly double* _xpos, _xquat, _xipos, _siteXpos, _subtreeCom, _cinert, _cvel, _cfrcExt;
    private readonly double* _qfrcActuator, _qfrcConstraint, _actuatorForce;
    private readonly double* _time;
    private readonly int* _ncon;

    internal MjData(MjModel model)
    {
        Model = model;
        using (var use = model.Use())
        {
            IntPtr d = MuJoCoNative.Fn.MakeData(use.Ptr);
            if (d == IntPtr.Zero) throw MuJoCoNative.Error($"mj_makeData for '{model.Source}'");
            _handle = new MjHandle(d, MuJoCoNative.Fn.DeleteData);
        }

        _qpos = Ptr("qpos");
        _qvel = Ptr("qvel");
        _act = Ptr("act");
        _qaccWarmstart = Ptr("qacc_warmstart");
        _ctrl = Ptr("ctrl");
        _qacc = Ptr("qacc");
        _xpos = Ptr("xpos");
        _xquat = Ptr("xquat");
        _xipos = Ptr("xipos");
        _siteXpos = Ptr("site_xpos");
        _subtreeCom = Ptr("subtree_com");
        _cinert = Ptr("cinert");
        _cvel = Ptr("cvel");
        _cfrcExt = Ptr("cfrc_ext");
        _qfrcActuator = Ptr("qfrc_actuator");
        _qfrcConstraint = Ptr("qfrc_constraint");
        _actuatorForce = Ptr("actuator_force");
        _time = (double*)Scalar("time", MjElementKind.Double);
        _ncon = (int*)Scalar("ncon", MjElementKind.Int32);
    }

    /// <summary>The model this data belongs to.</summary>
    public MjModel Model { get; }

    /// <summary>Positions, [nq] (free joints: x y z, then the quaternion w x y z).</summary>
    public Span<double> Qpos => View(_qpos, Model.Nq);

    /// <summary>Velocities, [nv] (free joints: linear velocity in the world frame, then angular velocity in the body frame).</summary>
    public Span<double> Qvel => View(_qvel, Model.Nv);

    /// <summary>Actuator activations, [na] (empty for the motor-only models of the tasks).</summary>
    public Span<double> Act => View(_act, Model.Na);

    /// <summary>The accelerations the constraint solver warm-starts from, [nv] (part of the state for exact replay).</summary>
    public Span<double> QaccWarmstart => View(_qaccWarmstart, Model.Nv);

    /// <summary>Controls, [nu]; MuJoCo clamps them to ctrlrange internally but leaves this array untouched.</summary>
    public Span<double> Ctrl => View(_ctrl, Model.Nu);

    /// <summary>Accelerations, [nv].</summary>
    public Span<double> Qacc => View(_qacc, Model.Nv);

    /// <summary>Body frame positions in the world, [nbody × 3].</summary>
    public Span<double> Xpos => View(_xpos, Model.Nbody * 3);

    /// <summary>Body frame orientations, [nbody × 4] quaternions (w, x, y, z).</summary>
    public Span<double> Xquat => View(_xquat, Model.Nbody * 4);

    /// <summary>Body centres of mass in the world, [nbody × 3].</summary>
    public Span<double> Xipos => View(_xipos, Model.Nbody * 3);

    /// <summary>Site positions in the world, [nsite × 3].</summary>
    public Span<double> SiteXpos => View(_siteXpos, Model.Nsite * 3);

    /// <summary>Centre of mass of each body's subtree, [nbody × 3].</summary>
    public Span<double> SubtreeCom => View(_subtreeCom, Model.Nbody * 3);

    /// <summary>Com-based body inertias and masses, [nbody × 10].</summary>
    public Span<double> Cinert => View(_cinert, Model.Nbody * 10);

    /// <summary>Com-based body velocities, [nbody × 6] (angular, then linear).</summary>
    public Span<double> Cvel => View(_cvel, Model.Nbody * 6);

    /// <summary>
    /// Com-based external (contact) forces on each body, [nbody × 6] (torque, then force). Filled only by
    /// <see cref="RnePostConstraint"/> (or a <see cref="Step"/> asked to run it); all zeros otherwise.
    /// </summary>
    public Span<double> CfrcExt => View(_cfrcExt, Model.Nbody * 6);

    /// <summary>Generalized actuator forces, [nv].</summary>
    public Span<double> QfrcActuator => View(_qfrcActuator, Model.Nv);

    /// <summary>Generalized constraint forces, [nv].</summary>
    public Span<double> QfrcConstraint => View(_qfrcConstraint, Model.Nv);

    /// <summary>Actuator forces in actuation space, [nu].</summary>
    public Span<double> ActuatorForce => View(_actuatorForce, Model.Nu);

    /// <summary>Simulation time in seconds.</summary>
    public double Time
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return *_time;
        }

        set
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            *_time = value;
        }
    }

    /// <summary>Number of contacts found by the last forward pass.</summary>
    public int ContactCount
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return *_ncon;
        }
    }

    /// <summary>Shape and element type of an array field of mjData (any of <c>MJDATA_POINTERS</c>).</summary>
    /// <exception cref="ArgumentException">No such field.</exception>
    public MjArrayInfo ArrayInfo(string name) => Lookup(name, out _);

    /// <summary>An array field of mjData by name, e.g. <c>cacc</c> or <c>efc_force</c>, row-major.</summary>
    /// <exception cref="ArgumentException">No such field, or <typeparamref name="T"/> does not match its element type.</exception>
    public Span<T> Array<T>(string name) where T : unmanaged
    {
        var info = Lookup(name, out IntPtr p);
        info.RequireElement<T>("mjData", name);
        return new Span<T>((void*)p, info.Length);
    }

    /// <summary>An int scalar of mjData by name (<c>nstack</c>, <c>pstack</c>, <c>maxuse_stack</c>, <c>maxuse_con</c>, <c>maxuse_efc</c>, <c>nefc</c>, <c>ncon</c>, …).</summary>
    /// <exception cref="ArgumentException">No such int scalar.</exception>
    public int GetInt(string name) => *(int*)Scalar(name, MjElementKind.Int32);

    /// <summary>
    /// Gymnasium's reset: <c>mj_resetData</c>, then qpos and qvel from the given values (an empty
    /// span keeps qpos0 / zero velocity), then <c>mj_forward</c>.
    /// </summary>
    /// <returns>The warnings raised by the forward pass.</returns>
    /// <exception cref="ArgumentException">A non-empty span has the wrong length (nq / nv).</exception>
    /// <exception cref="MuJoCoException">MuJoCo raised an error.</exception>
    public MjWarnings Reset(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel)
    {
        if (!qpos.IsEmpty && qpos.Length != Model.Nq) throw new ArgumentException($"qpos has {qpos.Length} values; the model has nq = {Model.Nq}.", nameof(qpos));
        if (!qvel.IsEmpty && qvel.Length != Model.Nv) throw new ArgumentException($"qvel has {qvel.Length} values; the model has nv = {Model.Nv}.", nameof(qvel));
        using var m = Model.Use();
        using var d = Use();
        fixed (double* pq = qpos, pv = qvel)
        {
            int rc = MuJoCoNative.Fn.Reset(m.Ptr, d.Ptr, qpos.IsEmpty ? null : pq, qvel.IsEmpty ? null : pv);
            if (rc < 0) throw MuJoCoNative.Error("reset (mj_resetData/mj_forward)");
            return (MjWarnings)rc;
        }
    }

    /// <summary><c>mj_resetData</c>: the default state (qpos0, zero velocity, time 0), without a forward pass.</summary>
    /// <exception cref="MuJoCoException">MuJoCo raised an error.</exception>
    public void ResetData() => Call(MuJoCoNative.Fn.ResetData, "mj_resetData");

    /// <summary><c>mj_forward</c>: recomputes every derived quantity from the current state without advancing time.</summary>
    /// <returns>The warnings raised.</returns>
    /// <exception cref="MuJoCoException">MuJoCo raised an error (the data is reset).</exception>
    public MjWarnings Forward() => Call(MuJoCoNative.Fn.Forward, "mj_forward");

    /// <summary><c>mj_rnePostConstraint</c>: fills <c>cacc</c>, <c>cfrc_int</c> and <see cref="CfrcExt"/>.</summary>
    /// <exception cref="MuJoCoException">MuJoCo raised an error (the data is reset).</exception>
    public void RnePostConstraint() => Call(MuJoCoNative.Fn.RnePostConstraint, "mj_rnePostConstraint");

    /// <summary>Runs a shim function of (model, data) with both kept alive; its warnings, or <see cref="MuJoCoException"/> when it failed.</summary>
    private MjWarnings Call(delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> function, string what)
    {
        using var m = Model.Use();
        using var d = Use();
        int rc = function(m.Ptr, d.Ptr);
        if (rc < 0) throw MuJoCoNative.Error(what);
        return (MjWarnings)rc;
    }

    /// <summary>
    /// Gymnasium's <c>do_simulation</c>: writes <paramref name="ctrl"/> into ctrl (unclipped), runs
    /// <c>mj_step</c> <paramref name="frames"/> times, then <c>mj_rnePostConstraint</c> when
    /// <paramref name="rnePostConstraint"/> is set. One native call.
    /// </summary>
    /// <param name="ctrl">[nu] controls, or empty to keep the current ctrl.</param>
    /// <param name="frames">How many <c>mj_step</c>s (the task's frame skip; ≥ 1).</param>
    /// <param name="rnePostConstraint">Whether to compute cfrc_ext/cacc/cfrc_int afterwards.</param>
    /// <returns>Every warning raised by any of the steps. <see cref="MjWarnings.Divergence"/> bits mean MuJoCo found
    /// NaN/Inf/huge values and reset the data itself mid-step (docs/environments.md, "The MuJoCo binding").</returns>
    /// <exception cref="ArgumentException">ctrl has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">frames &lt; 1.</exception>
    /// <exception cref="MuJoCoException">MuJoCo raised an error (e.g. its stack overflowed); the data is reset.</exception>
    public MjWarnings Step(ReadOnlySpan<double> ctrl, int frames = 1, bool rnePostConstraint = false)
    {
        if (!ctrl.IsEmpty && ctrl.Length != Model.Nu) throw new ArgumentException($"ctrl has {ctrl.Length} values; the model has nu = {Model.Nu}.", nameof(ctrl));
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);
        using var m = Model.Use();
        using var d = Use();
        fixed (double* pc = ctrl)
        {
            int rc = MuJoCoNative.Fn.Step(m.Ptr, d.Ptr, ctrl.IsEmpty ? null : pc, frames, rnePostConstraint ? 1 : 0);
            if (rc < 0) throw MuJoCoNative.Error("mj_step");
            return (MjWarnings)rc;
        }
    }

    /// <summary>Copies the complete state and every derived quantity from another data of the same model (<c>mj_copyData</c>).</summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> belongs to another model.</exception>
    public void CopyFrom(MjData source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!ReferenceEquals(source.Model, Model)) throw new ArgumentException("The source data belongs to another model.", nameof(source));
        using var m = Model.Use();
        using var d = Use();
        using var s = source.Use();
        if (MuJoCoNative.Fn.CopyData(m.Ptr, d.Ptr, s.Ptr) < 0) throw MuJoCoNative.Error("mj_copyData");
    }

    /// <summary>How often a warning has been raised since it was last cleared (<c>warning[k].number</c>) — <see cref="Step"/>,
    /// <see cref="Forward"/> and <see cref="Reset"/> clear the counters and report through their return value instead.</summary>
    public int WarningNumber(MjWarnings kind)
    {
        int k = System.Numerics.BitOperations.TrailingZeroCount((uint)kind);
        if (kind == MjWarnings.None || ((int)kind & ((int)kind - 1)) != 0) throw new ArgumentException("Pass exactly one warning kind.", nameof(kind));
        using var d = Use();
        return MuJoCoNative.Fn.WarningNumber(d.Ptr, k, null);
    }

    /// <summary>Frees the native data.</summary>
    public void Dispose() => _handle.Dispose();

    internal MjModel.Usage Use() => new(_handle, this);

    private Span<double> View(double* p, int length)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return new Span<double>(p, length);
    }

    private double* Ptr(string name)
    {
        var info = Lookup(name, out IntPtr p);
        if (info.Kind != MjElementKind.Double) throw new InvalidOperationException($"mjData.{name} is not an mjtNum array.");
        return (double*)p;
    }

    private void* Scalar(string name, MjElementKind expected)
    {
        using var d = Use();
        byte[] key = MuJoCoNative.Utf8Z(name);
        void* p;
        int kind;
        fixed (byte* k = key)
        {
            if (MuJoCoNative.Fn.DataScalar(d.Ptr, k, &p, &kind) != 0 || (MjElementKind)kind != expected)
            {
                throw new ArgumentException($"mjData has no {expected} scalar '{name}'.", nameof(name));
            }
        }

        return p;
    }

    private MjArrayInfo Lookup(string name, out IntPtr ptr)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var m = Model.Use();
        using var d = Use();
        byte[] key = MuJoCoNative.Utf8Z(name);
        void* p;
        int rows, cols, kind, size;
        fixed (byte* k = key)
        {
            if (MuJoCoNative.Fn.DataArray(m.Ptr, d.Ptr, k, &p, &rows, &cols, &kind, &size) != 0)
            {
                throw new ArgumentException($"mjData has no array field '{name}'.", nameof(name));
            }
        }

        ptr = (IntPtr)p;
        return new MjArrayInfo(name, rows, cols, (MjElementKind)kind, size);
    }
}
