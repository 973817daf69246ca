using System.Text;

namespace Optim4RL.Io;

/// <summary>
/// All-or-nothing file writes for results, configs and checkpoints: the content goes to a
/// temporary file in the target's directory, is flushed to disk, and then replaces the target
/// with one rename. A reader (or a run that crashes and resumes) sees either the old complete
/// file or the new complete file, never a half-written one, and no temporary file is left behind.
/// </summary>
/// <remarks>
/// The rename is atomic on one file system (POSIX <c>rename</c>, NTFS <c>MoveFileEx</c> with
/// replace). The directory entry itself is not fsync'ed (.NET offers no portable way), so after
/// a power cut the target may still show the old version — but never a torn one.
/// Used for every result in a run directory (docs/run-directories.md, "Guarantees").
/// </remarks>
internal static class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="text"/> in UTF-8 (no BOM).</summary>
    /// <exception cref="IOException">The file cannot be written; the old content, if any, is untouched.</exception>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] bytes = Utf8NoBom.GetBytes(text);
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="bytes"/>.</summary>
    /// <exception cref="IOException">The file cannot be written; the old content, if any, is untouched.</exception>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>
    /// Atomically replaces <paramref name="path"/> with whatever <paramref name="write"/> writes to
    /// the stream it is given. The directory is created when missing. If the callback throws, the
    /// temporary file is deleted, the target keeps its old content, and the exception propagates.
    /// The callback may dispose the stream (e.g. a <see cref="StreamWriter"/> without leaveOpen);
    /// it is kept open underneath until it has been flushed to disk.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written; the old content, if any, is untouched.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        Directory.CreateDirectory(directory);
        string temp = TempPathFor(full);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                using (var guard = new KeepOpenStream(file))
                {
                    write(guard);
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// A unique temporary path beside <paramref name="fullPath"/>: <c>.&lt;name&gt;.&lt;guid&gt;.tmp</c>, so
    /// concurrent writers never share one; <see cref="RemoveStale"/> recognises the pattern.
    /// </summary>
    public static string TempPathFor(string fullPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(fullPath);
        string directory = Path.GetDirectoryName(fullPath) ?? ".";
        return Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>
    /// Deletes temporary files (<c>.*.tmp</c>) that a killed writer left in <paramref name="directory"/>.
    /// Call it only while no other writer can use the directory (e.g. holding its <see cref="RunLock"/>).
    /// </summary>
    /// <returns>How many files were removed.</returns>
    public static int RemoveStale(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        int removed = 0;
        foreach (string f in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            if (TryDelete(f)) removed++;
        }

        return removed;
    }

    /// <summary>Deletes a file, ignoring failures; true when it is gone.</summary>
    internal static bool TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
            return true;
        }
        catch (IOException)
        {
            // Best effort: the original error is the one worth reporting.
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Forwards writes to the file; disposing it only flushes, so the owner can still fsync.</summary>
    private sealed class KeepOpenStream(Stream inner) : Stream
    {
        private bool _closed;

        public override bool CanRead => false;

        public override bool CanSeek => !_closed && inner.CanSeek;

        public override bool CanWrite => !_closed;

        public override long Length => Open().Length;

        public override long Position
        {
            get => Open().Position;
            set => Open().Position = value;
        }

        public override void Flush() => Open().Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => Open().Seek(offset, origin);

        public override void SetLength(long value) => Open().SetLength(value);

        public override void Write(byte[] buffer, int offset, int count) => Open().Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => Open().Write(buffer);

        public override void WriteByte(byte value) => Open().WriteByte(value);

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_closed)
            {
                inner.Flush();
                _closed = true;
            }

            base.Dispose(disposing);
        }

        private Stream Open() => _closed ? throw new ObjectDisposedException(nameof(AtomicFile), "The stream was closed by the writer.") : inner;
    }
}
