using System.Runtime.InteropServices;

namespace Optim4RL.Distributed;

/// <summary>
/// Points MPI.NET at an MPICH-ABI MPI library. MPI.NET P/Invokes <c>msmpi.dll</c> (Microsoft MPI); MS-MPI
/// and MPICH share their handle ABI, so the same calls work against <c>libmpich.so.12</c> and against the
/// <c>libmpi.so.12</c> of Intel MPI, MVAPICH and Cray MPICH. Open MPI (<c>libmpi.so.40</c>) has another ABI
/// and crashes, so it is never tried.
/// </summary>
internal static class MpiLibrary
{
    /// <summary>Environment variable naming the MPI library to load instead of the default candidates.</summary>
    public const string OverrideVariable = "OPTIM4RL_MPI_LIBRARY";

    private static readonly string[] Candidates = ["libmpich.so.12", "libmpi.so.12"];
    private static readonly Lock Gate = new();
    private static IntPtr handle;

    /// <summary>Loads the library (once) and routes MPI.NET's P/Invokes to it.</summary>
    /// <exception cref="DistributedException">No MPICH-ABI library could be loaded; the message says what to install.</exception>
    public static void Load()
    {
        lock (Gate)
        {
            if (handle != IntPtr.Zero) return;
            string? chosen = Environment.GetEnvironmentVariable(OverrideVariable);
            string[] tried = string.IsNullOrEmpty(chosen) ? Candidates : [chosen];
            foreach (string name in tried)
            {
                if (NativeLibrary.TryLoad(name, out handle)) break;
            }
            if (handle == IntPtr.Zero)
            {
                throw new DistributedException(string.IsNullOrEmpty(chosen)
                    ? $"this process was started by an MPI launcher, but no MPICH-ABI library could be loaded (tried {string.Join(", ", Candidates)}): install MPICH (Debian: apt-get install mpich; or run scripts/setup.sh), or set {OverrideVariable} to your MPI's libmpi.so.12."
                    : $"{OverrideVariable}={chosen} could not be loaded: give the path of an MPICH-ABI library (libmpich.so.12 or libmpi.so.12), or unset it.");
            }
            var loaded = handle;
            NativeLibrary.SetDllImportResolver(typeof(MPI.Communicator).Assembly,
                (name, _, _) => name.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase) ? loaded : IntPtr.Zero);
        }
    }

    /// <summary>
    /// Frees the derived datatypes MPI.NET's type cache builds at start-up (for IntPtr, UIntPtr and decimal)
    /// and never frees, so MPICH's finaliser has no leaked handles to warn about on every rank.
    /// </summary>
    public static void FreeCachedDatatypes()
    {
        foreach (var type in new[] { typeof(IntPtr), typeof(UIntPtr), typeof(decimal) })
        {
            int datatype = MPI.DatatypeCache.GetDatatype(type);
            // MPICH's handle kind sits in the top two bits; 1 marks a predefined type, which must not be freed.
            if ((uint)datatype >> 30 != 1) MPI.Unsafe.MPI_Type_free(ref datatype);
        }
    }
}
