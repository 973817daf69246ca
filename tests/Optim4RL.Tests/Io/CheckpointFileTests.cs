using System.Text.Json.Nodes;
using Optim4RL.Io;

namespace Optim4RL.Tests.Io;

/// <summary>The verified checkpoint container: round trip, checksums, the previous file kept, and a real file past 2 GB.</summary>
public sealed class CheckpointFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("o4rl-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static void Payload(BinaryWriter w, float seed)
    {
        w.Write("payload");
        BinaryArrays.WriteFloats(w, Enumerable.Range(0, 1000).Select(i => seed + i).ToArray());
    }

    private static (string Text, float[] Values) ReadBack(string path, out JsonObject header)
    {
        JsonObject? h = null;
        string text = "";
        float[] values = new float[1000];
        CheckpointFile.Read(path, (hd, r) =>
        {
            h = hd;
            text = r.ReadString();
            BinaryArrays.ReadFloats(r, values);
        });
        header = h!;
        return (text, values);
    }

    [Fact]
    public void A_small_checkpoint_round_trips_with_its_header()
    {
        string path = PathOf("checkpoint.bin");
        CheckpointFile.Write(path, new JsonObject { ["iteration"] = 7, ["note"] = "φ" }, w => Payload(w, 1f));
        var (text, values) = ReadBack(path, out var header);
        Assert.Equal("payload", text);
        Assert.Equal(1f, values[0]);
        Assert.Equal(1000f, values[999]);
        Assert.Equal(7, header["iteration"]!.GetValue<int>());
        Assert.Equal("φ", header["note"]!.GetValue<string>());
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void The_previous_checkpoint_is_kept_when_a_new_one_replaces_it()
    {
        string path = PathOf("checkpoint.bin");
        CheckpointFile.Write(path, new JsonObject { ["iteration"] = 1 }, w => Payload(w, 1f));
        CheckpointFile.Write(path, new JsonObject { ["iteration"] = 2 }, w => Payload(w, 2f));
        Assert.Equal(2, CheckpointFile.ReadHeader(path)["iteration"]!.GetValue<int>());
        string prev = CheckpointFile.PreviousPath(path);
        Assert.Equal(PathOf("checkpoint.prev.bin"), prev);
        Assert.Equal(1, CheckpointFile.ReadHeader(prev)["iteration"]!.GetValue<int>());
    }

    [Fact]
    public void A_payload_that_throws_leaves_the_old_checkpoint_and_no_temporary_file()
    {
        string path = PathOf("checkpoint.bin");
        CheckpointFile.Write(path, new JsonObject { ["iteration"] = 1 }, w => Payload(w, 1f));
        Assert.Throws<InvalidOperationException>(() => CheckpointFile.Write(path, [], _ => throw new InvalidOperationException("boom")));
        Assert.Equal(1, CheckpointFile.ReadHeader(path)["iteration"]!.GetValue<int>());
        Assert.False(File.Exists(CheckpointFile.PreviousPath(path)));
        Assert.Empty(Directory.GetFiles(_dir, ".*.tmp"));
    }

    [Theory]
    [InlineData("flip", "checksum")]
    [InlineData("truncate", "truncated")]
    [InlineData("garbage", "not an Optim4RL.NET checkpoint")]
    [InlineData("v1", "earlier format")]
    public void A_damaged_file_is_a_clear_error_naming_it(string damage, string expected)
    {
        string path = PathOf("checkpoint.bin");
        CheckpointFile.Write(path, new JsonObject { ["iteration"] = 1 }, w => Payload(w, 1f));
        byte[] bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "flip": bytes[bytes.Length / 2] ^= 0x10; break;
            case "truncate": bytes = bytes[..(bytes.Length - 100)]; break;
            case "garbage": bytes = new byte[500]; new Random(1).NextBytes(bytes); break;
            case "v1": bytes = [.. "O4CK"u8.ToArray(), .. new byte[400]]; break;
        }

        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => ReadBack(path, out _));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [SkippableFact]
    public void A_real_checkpoint_past_2_GB_is_written_verified_and_read_back()
    {
        long free = new DriveInfo(_dir).AvailableFreeSpace;
        Skip.If(free < 6L << 30, $"needs 6 GB of free disk in {_dir}, only {free >> 30} GB free");
        const int n = 560_000_000; // 2.24 GB of floats
        float[] big = GC.AllocateUninitializedArray<float>(n);
        for (int i = 0; i < n; i += 1 << 16) big[i] = i;
        big[n - 1] = -1f;
        string path = PathOf("big.bin");
        CheckpointFile.Write(path, new JsonObject { ["n"] = n }, w => BinaryArrays.WriteFloats(w, big));
        Assert.True(new FileInfo(path).Length > (long)int.MaxValue);

        Array.Clear(big);
        CheckpointFile.Read(path, (h, r) =>
        {
            Assert.Equal(n, h["n"]!.GetValue<int>());
            BinaryArrays.ReadFloats(r, big);
        });
        Assert.Equal((float)(1 << 16), big[1 << 16]);
        Assert.Equal((float)(n / (1 << 16) * (1 << 16)), big[n / (1 << 16) * (1 << 16)]);
        Assert.Equal(-1f, big[n - 1]);
    }
}
