namespace Optim4RL.Envs.MuJoCo;

/// <summary>MuJoCo's object types (<c>mjtObj</c> of MuJoCo 2.2.2), for <see cref="MjModel.Name2Id"/>.</summary>
public enum MjObjectType
{
    /// <summary>mjOBJ_UNKNOWN.</summary>
    Unknown = 0,

    /// <summary>mjOBJ_BODY.</summary>
    Body = 1,

    /// <summary>mjOBJ_XBODY.</summary>
    XBody = 2,

    /// <summary>mjOBJ_JOINT.</summary>
    Joint = 3,

    /// <summary>mjOBJ_DOF.</summary>
    Dof = 4,

    /// <summary>mjOBJ_GEOM.</summary>
    Geom = 5,

    /// <summary>mjOBJ_SITE.</summary>
    Site = 6,

    /// <summary>mjOBJ_CAMERA.</summary>
    Camera = 7,

    /// <summary>mjOBJ_TENDON.</summary>
    Tendon = 17,

    /// <summary>mjOBJ_ACTUATOR.</summary>
    Actuator = 18,

    /// <summary>mjOBJ_SENSOR.</summary>
    Sensor = 19,
}

/// <summary>MuJoCo's integrators (<c>mjtIntegrator</c>).</summary>
public enum MjIntegrator
{
    /// <summary>Semi-implicit Euler (mjINT_EULER).</summary>
    Euler = 0,

    /// <summary>4th-order Runge–Kutta (mjINT_RK4).</summary>
    RungeKutta4 = 1,

    /// <summary>Implicit in velocity (mjINT_IMPLICIT).</summary>
    Implicit = 2,
}

/// <summary>MuJoCo's constraint solvers (<c>mjtSolver</c>).</summary>
public enum MjSolver
{
    /// <summary>Projected Gauss–Seidel (dual).</summary>
    Pgs = 0,

    /// <summary>Conjugate gradient (primal).</summary>
    CG = 1,

    /// <summary>Newton (primal; MuJoCo's default).</summary>
    Newton = 2,
}

/// <summary>
/// The warnings MuJoCo raised during a call (<c>mjtWarning</c>, one bit per kind: bit k is warning k).
/// </summary>
/// <remarks>
/// <see cref="BadQpos"/>, <see cref="BadQvel"/> and <see cref="BadQacc"/> mean the simulation diverged (a
/// NaN, an infinity or a magnitude above 1e10): <c>mj_step</c> then resets the data to the model's default
/// state on its own (docs/environments.md, "The MuJoCo binding"), so the step's outcome is meaningless and the episode
/// must end. <see cref="ContactFull"/> and <see cref="ConstraintFull"/> mean the model's <c>nconmax</c> /
/// <c>njmax</c> were too small and contacts were dropped.
/// </remarks>
[Flags]
public enum MjWarnings
{
    /// <summary>No warning.</summary>
    None = 0,

    /// <summary>mjWARN_INERTIA: (near) singular inertia matrix.</summary>
    Inertia = 1 << 0,

    /// <summary>mjWARN_CONTACTFULL: too many contacts in the contact list.</summary>
    ContactFull = 1 << 1,

    /// <summary>mjWARN_CNSTRFULL: too many constraints.</summary>
    ConstraintFull = 1 << 2,

    /// <summary>mjWARN_VGEOMFULL: too many visual geoms.</summary>
    VGeomFull = 1 << 3,

    /// <summary>mjWARN_BADQPOS: bad number in qpos (the data was reset).</summary>
    BadQpos = 1 << 4,

    /// <summary>mjWARN_BADQVEL: bad number in qvel (the data was reset).</summary>
    BadQvel = 1 << 5,

    /// <summary>mjWARN_BADQACC: bad number in qacc, "simulation is unstable" (the data was reset).</summary>
    BadQacc = 1 << 6,

    /// <summary>mjWARN_BADCTRL: bad number in ctrl.</summary>
    BadCtrl = 1 << 7,

    /// <summary>Any of the divergence warnings (<see cref="BadQpos"/>, <see cref="BadQvel"/>, <see cref="BadQacc"/>).</summary>
    Divergence = BadQpos | BadQvel | BadQacc,
}

/// <summary>The element type of a MuJoCo array field.</summary>
public enum MjElementKind
{
    /// <summary>A struct or another type (e.g. mjContact).</summary>
    Other = 0,

    /// <summary>mjtNum (double).</summary>
    Double = 1,

    /// <summary>int.</summary>
    Int32 = 2,

    /// <summary>mjtByte (unsigned char).</summary>
    Byte = 3,

    /// <summary>float.</summary>
    Single = 4,

    /// <summary>char.</summary>
    Char = 5,
}

/// <summary>Shape and element type of a MuJoCo array field (row-major, <see cref="Rows"/> × <see cref="Columns"/>).</summary>
/// <param name="Name">The field name as in <c>mjxmacro.h</c>, e.g. <c>cinert</c>.</param>
/// <param name="Rows">Rows (e.g. nbody).</param>
/// <param name="Columns">Columns (e.g. 10 for cinert).</param>
/// <param name="Kind">Element type.</param>
/// <param name="ElementSize">Bytes per element.</param>
public readonly record struct MjArrayInfo(string Name, int Rows, int Columns, MjElementKind Kind, int ElementSize)
{
    /// <summary>Rows × Columns.</summary>
    public int Length => Rows * Columns;

    /// <summary>Throws unless <typeparamref name="T"/> is the element type of field <paramref name="name"/> of <paramref name="owner"/> (mjModel, mjData).</summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> does not match.</exception>
    internal void RequireElement<T>(string owner, string name) where T : unmanaged
    {
        if (Kind != KindOf<T>() || ElementSize != System.Runtime.CompilerServices.Unsafe.SizeOf<T>())
            throw new ArgumentException($"{owner}.{name} holds {Kind} elements, not {typeof(T).Name}.", nameof(name));
    }

    internal static MjElementKind KindOf<T>() where T : unmanaged =>
        typeof(T) == typeof(double) ? MjElementKind.Double
        : typeof(T) == typeof(int) ? MjElementKind.Int32
        : typeof(T) == typeof(byte) ? MjElementKind.Byte
        : typeof(T) == typeof(float) ? MjElementKind.Single
        : MjElementKind.Other;
}
