using System.Runtime.InteropServices;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// Owns a native MuJoCo object (<c>mjModel*</c>, <c>mjData*</c>) and frees it once with its delete function
/// (<c>mj_deleteModel</c>, <c>mj_deleteData</c>), when disposed or finalised.
/// </summary>
internal sealed unsafe class MjHandle : SafeHandle
{
    private readonly delegate* unmanaged[Cdecl]<IntPtr, void> _delete;

    public MjHandle(IntPtr native, delegate* unmanaged[Cdecl]<IntPtr, void> delete)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _delete = delete;
        SetHandle(native);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        _delete(handle);
        return true;
    }
}
