using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optim4RL.Io;

/// <summary>
/// A verified, self-describing binary file for checkpoints and other run state:
/// <c>"O4RCKPT2"</c>, a JSON header (what wrote it, the code version, the numeric options, the
/// run's settings, anything the caller adds), the caller's payload, and a trailer holding the
/// length and the XXH3-64 checksum of everything before it.
/// </summary>
/// <remarks>
/// Writing streams (payloads of many gigabytes need no buffer), goes to a unique temporary file,
/// re-reads it to check the checksum, and only then renames the previous file to
/// <see cref="PreviousPath"/> and the new one into place, so a kill or a disk error at any moment
/// leaves a verified checkpoint behind. Reading checks the checksum over the whole file before
/// the caller sees any byte, so a damaged file is a clear error instead of bad numbers later.
/// </remarks>
internal static class CheckpointFile
{
    /// <summary>The container format's version, stored after the magic bytes.</summary>
    public const int FormatVersion = 2;

    private const int TrailerLength = 24;
    private static readonly byte[] Magic = "O4RCKPT2"u8.ToArray();
    private static readonly byte[] EndMagic = "O4RCEND2"u8.ToArray();

    /// <summary>Where the previous verified file is kept: <c>checkpoint.bin</c> → <c>checkpoint.prev.bin</c>.</summary>
    public static string PreviousPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string ext = Path.GetExtension(path);
        return Path.Combine(Path.GetDirectoryName(path) ?? "", Path.GetFileNameWithoutExtension(path) + ".prev" + ext);
    }

    /// <summary>
    /// Writes <paramref name="header"/> and the payload to <paramref name="path"/>, verifies the file on
    /// disk, keeps the file it replaces as <see cref="PreviousPath"/>, and renames the new one into place.
    /// </summary>
    /// <param name="path">Target file; its directory must exist.</param>
    /// <param name="header">Settings and provenance stored as JSON ahead of the payload.</param>
    /// <param name="payload">Writes the data; called once.</param>
    /// <exception cref="IOException">The file cannot be written or did not verify; the previous file is untouched.</exception>
    public static void Write(string path, JsonObject header, Action<BinaryWriter> payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(payload);
        string full = Path.GetFullPath(path);
        string temp = AtomicFile.TempPathFor(full);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var hashing = new HashingStream(file);
                using (var w = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
                {
                    w.Write(Magic);
                    w.Write(FormatVersion);
                    w.Write(header.ToJsonString());
                    payload(w);
                    w.Flush();
                }

                using (var t = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
                {
                    t.Write(hashing.BytesWritten);
                    t.Write(hashing.Hash);
                    t.Write(EndMagic);
                }

                file.Flush(flushToDisk: true);
            }

            string? problem = Check(temp, out _);
            if (problem is not null) throw new IOException($"the checkpoint just written to {full} did not verify ({problem}); the previous one is kept");
            if (File.Exists(full)) File.Move(full, PreviousPath(full), overwrite: true);
            File.Move(temp, full);
        }
        catch
        {
            AtomicFile.TryDelete(temp);
            throw;
        }
    }

    /// <summary>Checks the file's checksum and returns its header.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is truncated, or fails its checksum (the message names the file).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static JsonObject ReadHeader(string path)
    {
        string? problem = Check(path, out JsonObject? header);
        if (problem is not null) throw new InvalidDataException($"{path} {problem}");
        return header!;
    }

    /// <summary>Checks the file, then hands its header and a reader positioned at the payload to <paramref name="read"/>.</summary>
    /// <exception cref="InvalidDataException">The file is damaged, or <paramref name="read"/> found the payload ends early or does not fit (the message names the file).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static void Read(string path, Action<JsonObject, BinaryReader> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        JsonObject header = ReadHeader(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        using var r = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
        r.ReadBytes(Magic.Length);
        r.ReadInt32();
        r.ReadString();
        try
        {
            read(header, r);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: the payload ends early although the checksum matched (written by an incompatible build?)");
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Null when the file is a complete checkpoint with a matching checksum; otherwise what is wrong.</summary>
    private static string? Check(string path, out JsonObject? header)
    {
        header = null;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        long length = file.Length;
        if (length < Magic.Length + 4 + TrailerLength) return $"is not an Optim4RL.NET checkpoint (only {length} bytes)";
        Span<byte> head = stackalloc byte[8];
        file.ReadExactly(head);
        if (!head.SequenceEqual(Magic))
        {
            return head[..4].SequenceEqual("O4CK"u8) || head[..4].SequenceEqual("O4PP"u8)
                ? "is a checkpoint of an earlier format (version 1, without a checksum) that this build cannot resume; start the run again with --overwrite"
                : "is not an Optim4RL.NET checkpoint (wrong magic bytes)";
        }

        file.Position = length - TrailerLength;
        using var tr = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
        long covered = tr.ReadInt64();
        ulong stored = tr.ReadUInt64();
        byte[] end = tr.ReadBytes(EndMagic.Length);
        if (!end.AsSpan().SequenceEqual(EndMagic) || covered != length - TrailerLength)
            return $"is truncated or damaged: its trailer is missing ({length} bytes on disk); it was not written completely";
        file.Position = 0;
        if (HashingStream.HashOf(file, covered) != stored)
            return "is damaged: its checksum does not match its content (changed or corrupted after it was written)";
        file.Position = Magic.Length;
        int version = tr.ReadInt32();
        if (version != FormatVersion) return $"has container version {version}; this build reads version {FormatVersion}";
        try
        {
            header = JsonNode.Parse(tr.ReadString()) as JsonObject;
        }
        catch (JsonException)
        {
            header = null;
        }

        return header is null ? "has an unreadable header" : null;
    }
}
