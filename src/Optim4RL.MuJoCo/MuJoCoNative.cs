using System.Runtime.InteropServices;
using System.Text;

namespace Optim4RL.Envs.MuJoCo;

/// <summary>
/// The entry points of the C shim <c>libo4r_mujoco.so</c> (source <c>src/Optim4RL.MuJoCo/Native/o4r_mujoco.c</c>,
/// compiled by the project's build against the MuJoCo 2.2.2 headers), reached through unmanaged function
/// pointers (docs/environments.md, "The MuJoCo binding").
/// </summary>
/// <remarks>
/// <para>Loading: the shim is opened with <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/> from the
/// directory of this assembly (then <see cref="AppContext.BaseDirectory"/>), as <see cref="Tensors.Blas"/>
/// does for OpenBLAS: no <c>[DllImport]</c> and no <see cref="NativeLibrary.SetDllImportResolver"/>, whose
/// single slot per assembly other bindings may need. The shim links <c>libmujoco.so.2.2.2</c>, which the
/// dynamic linker finds in the system library path.</para>
/// <para>Start-up checks: <c>mj_version() == 222</c>, the shim's ABI version, and that the shim's error
/// and warning hooks are installed (the shim installs them in its ELF constructor, before any MuJoCo call).</para>
/// <para>Errors: every shim entry point that calls MuJoCo is guarded with <c>setjmp</c>; MuJoCo's error hook
/// copies the message to a thread-local buffer and <c>longjmp</c>s back, and the entry point returns an error
/// code. <see cref="Error"/> turns that into a <see cref="MuJoCoException"/> on the same thread.
/// MuJoCo therefore never prints "Press Enter to exit", never blocks on stdin and never calls exit().</para>
/// </remarks>
internal static unsafe class MuJoCoNative
{
    /// <summary>The MuJoCo version this binding is written for (mj_version() of 2.2.2).</summary>
    public const int ExpectedVersion = 222;

    /// <summary>The shim's ABI version (O4R_ABI_VERSION in o4r_mujoco.c).</summary>
    public const int ExpectedAbiVersion = 1;

    /// <summary>The file name of the shim next to the assembly.</summary>
    public const string ShimFileName = "libo4r_mujoco.so";

    private const int ErrorBufferSize = 2048;

    private static readonly Lazy<Api> Loaded = new(LoadApi, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The function table; loads and checks the shim on first use.</summary>
    /// <exception cref="MuJoCoException">The shim or MuJoCo 2.2.2 could not be loaded, or a start-up check failed.</exception>
    public static Api Fn => Loaded.Value;

    /// <summary>True when the shim loads and passes its start-up checks (never throws).</summary>
    public static bool IsAvailable(out string? reason)
    {
        try
        {
            _ = Loaded.Value;
            reason = null;
            return true;
        }
        catch (MuJoCoException e)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <summary>The unmanaged entry points (cdecl; strings are NUL-terminated UTF-8).</summary>
    public sealed class Api
    {
        public required string LibraryPath { get; init; }
        public required int Version { get; init; }
        public required delegate* unmanaged[Cdecl]<int> HooksInstalled;
        public required delegate* unmanaged[Cdecl]<byte*> LastError;
        public required delegate* unmanaged[Cdecl]<byte*> LastWarning;
        public required delegate* unmanaged[Cdecl]<int> WarningCount;
        public required delegate* unmanaged[Cdecl]<byte*, int> RaiseError;
        public required delegate* unmanaged[Cdecl]<byte*, int> RaiseWarning;
        public required delegate* unmanaged[Cdecl]<byte*, byte*, int, IntPtr> LoadXml;
        public required delegate* unmanaged[Cdecl]<byte*, byte*, byte*, int, IntPtr> LoadXmlString;
        public required delegate* unmanaged[Cdecl]<IntPtr, void> DeleteModel;
        public required delegate* unmanaged[Cdecl]<IntPtr, byte*, int*, int> ModelInt;
        public required delegate* unmanaged[Cdecl]<IntPtr, byte*, double*, int> ModelDouble;
        public required delegate* unmanaged[Cdecl]<IntPtr, byte*, double**, int*, int> ModelOptionVector;
        public required delegate* unmanaged[Cdecl]<IntPtr, byte*, void**, int*, int*, int*, int*, int> ModelArray;
        public required delegate* unmanaged[Cdecl]<IntPtr, int, byte*, int> Name2Id;
        public required delegate* unmanaged[Cdecl]<IntPtr, int, int, byte*, int, int> Id2Name;
        public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr> MakeData;
        public required delegate* unmanaged[Cdecl]<IntPtr, void> DeleteData;
        public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, byte*, void**, int*, int*, int*, int*, int> DataArray;
        public required delegate* unmanaged[Cdecl]<IntPtr, byte*, void**, int*, int> DataScalar;
        public required delegate* unmanaged[Cdecl]<IntPtr, int, int*, int> WarningNumber;
        public required delegate* unmanaged[Cdecl]<IntPtr, void> ClearWarnings;
        public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, double*, double*, int> Reset;
        public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> ResetData;
        public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> Forward;
        public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> RnePostConstraint;
        public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, double*, int, int, int> Step;
        public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, int> CopyData;
    }

    /// <summary>The text of the last MuJoCo error raised on this thread inside a shim call.</summary>
    public static string LastErrorText()
    {
        string s = Utf8(Fn.LastError());
        return s.Length == 0 ? "(MuJoCo reported an error without a message)" : s.Trim();
    }

    /// <summary>The text of the last MuJoCo warning raised on this thread, and how many the last shim call saw.</summary>
    public static (string Text, int Count) LastWarning() => (Utf8(Fn.LastWarning()).Trim(), Fn.WarningCount());

    /// <summary>A <see cref="MuJoCoException"/> carrying this thread's last error text, for <c>throw</c>.</summary>
    public static MuJoCoException Error(string operation) =>
        new($"MuJoCo error in {operation}: {LastErrorText()}");

    /// <summary>
    /// Raises a MuJoCo error through <c>mju_error</c> inside a guarded shim call (exercises the error path: MuJoCo's
    /// default handler would block on stdin and exit). Always throws.
    /// </summary>
    /// <exception cref="MuJoCoException">Always, with <paramref name="message"/> in its text.</exception>
    internal static void RaiseError(string message)
    {
        byte[] m = Utf8Z(message);
        fixed (byte* p = m)
        {
            if (Fn.RaiseError(p) < 0) throw Error("mju_error");
        }

        throw new InvalidOperationException("mju_error returned, which MuJoCo's contract forbids.");
    }

    /// <summary>Raises a MuJoCo warning through <c>mju_warning</c>; returns how many warnings the call saw and the last text.</summary>
    internal static (int Count, string Text) RaiseWarning(string message)
    {
        byte[] m = Utf8Z(message);
        fixed (byte* p = m)
        {
            int n = Fn.RaiseWarning(p);
            return (n, LastWarning().Text);
        }
    }

    /// <summary>Encodes a string as NUL-terminated UTF-8.</summary>
    public static byte[] Utf8Z(string s)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    /// <summary>Decodes a NUL-terminated UTF-8 string (null pointer → "").</summary>
    public static string Utf8(byte* p) => p == null ? "" : Marshal.PtrToStringUTF8((IntPtr)p) ?? "";

    /// <summary>Loads an MJCF file; returns the model pointer.</summary>
    public static IntPtr LoadXml(string path, out string message)
    {
        byte[] p = Utf8Z(path);
        byte* err = stackalloc byte[ErrorBufferSize];
        fixed (byte* pp = p)
        {
            IntPtr m = Fn.LoadXml(pp, err, ErrorBufferSize);
            message = Utf8(err).Trim();
            if (m == IntPtr.Zero && message.Length == 0) message = Utf8(Fn.LastError()).Trim();
            return m;
        }
    }

    /// <summary>Loads MJCF text through a one-file virtual file system; returns the model pointer.</summary>
    public static IntPtr LoadXmlString(string xml, string virtualName, out string message)
    {
        byte[] x = Utf8Z(xml);
        byte[] n = Utf8Z(virtualName);
        byte* err = stackalloc byte[ErrorBufferSize];
        fixed (byte* px = x, pn = n)
        {
            IntPtr m = Fn.LoadXmlString(px, pn, err, ErrorBufferSize);
            message = Utf8(err).Trim();
            if (m == IntPtr.Zero && message.Length == 0) message = Utf8(Fn.LastError()).Trim();
            return m;
        }
    }

    private static Api LoadApi()
    {
        var tried = new List<string>();
        IntPtr lib = IntPtr.Zero;
        string? path = null;
        foreach (string dir in CandidateDirectories())
        {
            string candidate = Path.Combine(dir, ShimFileName);
            tried.Add(candidate);
            if (!File.Exists(candidate)) continue;
            if (NativeLibrary.TryLoad(candidate, out lib))
            {
                path = candidate;
                break;
            }

            throw new MuJoCoException(
                $"Could not load the MuJoCo shim '{candidate}'. It needs libmujoco.so.2.2.2 (Debian package libmujoco2.2.2); " +
                "run scripts/setup.sh, then rebuild (with the NuGet package: apt-get install libmujoco2.2.2).");
        }

        if (path is null)
        {
            throw new MuJoCoException(
                $"The MuJoCo shim {ShimFileName} was not found (looked in: {string.Join(", ", tried)}). It is compiled by " +
                "`dotnet build` when the MuJoCo 2.2.2 headers and gcc are installed: run scripts/setup.sh, then rebuild. " +
                "The Optim4RL NuGet package ships it for linux-x64 only (runtimes/linux-x64/native/).");
        }

        IntPtr Get(string name) => NativeLibrary.TryGetExport(lib, name, out IntPtr f)
            ? f
            : throw new MuJoCoException($"The MuJoCo shim '{path}' lacks the export '{name}'; rebuild the project.");

        int abi = ((delegate* unmanaged[Cdecl]<int>)Get("o4r_abi_version"))();
        if (abi != ExpectedAbiVersion)
        {
            throw new MuJoCoException($"The MuJoCo shim '{path}' has ABI version {abi}, this assembly expects {ExpectedAbiVersion}; rebuild the project.");
        }

        int version = ((delegate* unmanaged[Cdecl]<int>)Get("o4r_init"))();
        int header = ((delegate* unmanaged[Cdecl]<int>)Get("o4r_header_version"))();
        if (version != ExpectedVersion || header != ExpectedVersion)
        {
            throw new MuJoCoException(
                $"MuJoCo {ExpectedVersion / 100}.{ExpectedVersion / 10 % 10}.{ExpectedVersion % 10} is required, but mj_version() = {version} " +
                $"(headers {header}). Install the Debian packages libmujoco2.2.2 and libmujoco-dev (scripts/setup.sh) and rebuild.");
        }

        var api = new Api
        {
            LibraryPath = path,
            Version = version,
            HooksInstalled = (delegate* unmanaged[Cdecl]<int>)Get("o4r_hooks_installed"),
            LastError = (delegate* unmanaged[Cdecl]<byte*>)Get("o4r_last_error"),
            LastWarning = (delegate* unmanaged[Cdecl]<byte*>)Get("o4r_last_warning"),
            WarningCount = (delegate* unmanaged[Cdecl]<int>)Get("o4r_warning_count"),
            RaiseError = (delegate* unmanaged[Cdecl]<byte*, int>)Get("o4r_raise_error"),
            RaiseWarning = (delegate* unmanaged[Cdecl]<byte*, int>)Get("o4r_raise_warning"),
            LoadXml = (delegate* unmanaged[Cdecl]<byte*, byte*, int, IntPtr>)Get("o4r_load_xml"),
            LoadXmlString = (delegate* unmanaged[Cdecl]<byte*, byte*, byte*, int, IntPtr>)Get("o4r_load_xml_string"),
            DeleteModel = (delegate* unmanaged[Cdecl]<IntPtr, void>)Get("o4r_delete_model"),
            ModelInt = (delegate* unmanaged[Cdecl]<IntPtr, byte*, int*, int>)Get("o4r_model_int"),
            ModelDouble = (delegate* unmanaged[Cdecl]<IntPtr, byte*, double*, int>)Get("o4r_model_double"),
            ModelOptionVector = (delegate* unmanaged[Cdecl]<IntPtr, byte*, double**, int*, int>)Get("o4r_model_option_vector"),
            ModelArray = (delegate* unmanaged[Cdecl]<IntPtr, byte*, void**, int*, int*, int*, int*, int>)Get("o4r_model_array"),
            Name2Id = (delegate* unmanaged[Cdecl]<IntPtr, int, byte*, int>)Get("o4r_name2id"),
            Id2Name = (delegate* unmanaged[Cdecl]<IntPtr, int, int, byte*, int, int>)Get("o4r_id2name"),
            MakeData = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)Get("o4r_make_data"),
            DeleteData = (delegate* unmanaged[Cdecl]<IntPtr, void>)Get("o4r_delete_data"),
            DataArray = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, byte*, void**, int*, int*, int*, int*, int>)Get("o4r_data_array"),
            DataScalar = (delegate* unmanaged[Cdecl]<IntPtr, byte*, void**, int*, int>)Get("o4r_data_scalar"),
            WarningNumber = (delegate* unmanaged[Cdecl]<IntPtr, int, int*, int>)Get("o4r_warning_number"),
            ClearWarnings = (delegate* unmanaged[Cdecl]<IntPtr, void>)Get("o4r_clear_warnings"),
            Reset = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, double*, double*, int>)Get("o4r_reset"),
            ResetData = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int>)Get("o4r_reset_data"),
            Forward = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int>)Get("o4r_forward"),
            RnePostConstraint = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int>)Get("o4r_rne_post_constraint"),
            Step = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, double*, int, int, int>)Get("o4r_step"),
            CopyData = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, int>)Get("o4r_copy_data"),
        };

        if (api.HooksInstalled() == 0)
        {
            throw new MuJoCoException("The MuJoCo error/warning hooks of the shim are not installed (another library replaced them).");
        }

        return api;
    }

    /// <summary>
    /// Where the shim may be: next to this assembly, the application's folder, then the native-library folders
    /// the host derived from the application's deps.json: an application that references the NuGet package
    /// gets the shim under <c>runtimes/linux-x64/native/</c>.
    /// </summary>
    private static IEnumerable<string> CandidateDirectories()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? asmDir = Path.GetDirectoryName(typeof(MuJoCoNative).Assembly.Location);
        var dirs = new List<string?> { asmDir, AppContext.BaseDirectory };
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string native)
            dirs.AddRange(native.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        foreach (string? dir in dirs)
        {
            if (string.IsNullOrEmpty(dir)) continue;
            if (seen.Add(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)))) yield return dir;
        }
    }
}
