using System.Diagnostics;
using System.Globalization;

namespace Optim4RL.Io;

/// <summary>
/// An exclusive lock on a run directory, held for as long as a run writes there: a second run of
/// the same directory (another process, or another thread of this one) is refused at once with a
/// message naming the process that holds it. The operating system releases the lock when the
/// holder exits, also after <c>kill -9</c>, so a stale lock never blocks a later run.
/// </summary>
/// <remarks>
/// The lock is <c>.lock</c> opened with <see cref="FileShare.None"/>, which .NET maps to an
/// advisory <c>flock</c> on Linux; the holder's process id and start time go to <c>.lock.owner</c>
/// (a separate file, since the locked one cannot be opened by others).
/// </remarks>
internal sealed class RunLock : IDisposable
{
    /// <summary>The lock file's name.</summary>
    public const string LockFileName = ".lock";

    /// <summary>The file naming the holder.</summary>
    public const string OwnerFileName = ".lock.owner";

    private readonly FileStream _stream;

    private RunLock(string directory, FileStream stream)
    {
        Directory = directory;
        _stream = stream;
    }

    /// <summary>The locked directory.</summary>
    public string Directory { get; }

    /// <summary>True for the files this lock keeps in a run directory.</summary>
    public static bool IsLockFile(string fileName) => fileName is LockFileName or OwnerFileName;

    /// <summary>Creates <paramref name="directory"/> when missing and locks it.</summary>
    /// <exception cref="RunInUseException">Another run holds the lock.</exception>
    /// <exception cref="IOException">The directory or lock file cannot be created.</exception>
    public static RunLock Acquire(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        System.IO.Directory.CreateDirectory(directory);
        string lockPath = Path.Combine(directory, LockFileName);
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            string owner = "another process";
            try
            {
                string text = File.ReadAllText(Path.Combine(directory, OwnerFileName)).Trim();
                if (text.Length > 0) owner = text;
            }
            catch (IOException)
            {
                // The owner file is informational only.
            }

            throw new RunInUseException($"run {directory} is in use by {owner}; wait for it to finish, stop it, or choose another --config-idx/--logs");
        }

        var p = Process.GetCurrentProcess();
        string ownerText = string.Create(CultureInfo.InvariantCulture, $"process {Environment.ProcessId} (started {p.StartTime:yyyy-MM-dd HH:mm:ss})");
        try
        {
            AtomicFile.WriteAllText(Path.Combine(directory, OwnerFileName), ownerText + "\n");
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return new RunLock(directory, stream);
    }

    /// <summary>Releases the lock (the files stay; they are harmless without a holder).</summary>
    public void Dispose() => _stream.Dispose();
}

/// <summary>A run directory is locked by another run.</summary>
internal sealed class RunInUseException(string message) : IOException(message);
