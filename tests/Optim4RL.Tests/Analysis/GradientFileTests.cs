using System.Buffers.Binary;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Analysis;

public sealed class GradientFileTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static GradientFileHeader Header(int p = 23, int stride = 5) =>
        new(GradientFileHeader.KindRl, "A2Ccollect", "catch", "Adam", "adam(lr=0.001)", 1e-3, p, stride, 320, "collect_catch", 2, 43);

    /// <summary>Writes <paramref name="records"/> records with g[i] = r + i/1000 and Δθ = −g/10; returns the full vectors.</summary>
    private static List<(float[] G, float[] D)> WriteRecords(GradientFileWriter w, int records)
    {
        int p = w.Header.ParamCount;
        var all = new List<(float[], float[])>();
        for (int r = 0; r < records; r++)
        {
            var g = new float[p];
            var d = new float[p];
            for (int i = 0; i < p; i++)
            {
                g[i] = r + i / 1000f;
                d[i] = -g[i] / 10;
            }

            w.OnUpdate(r + 1, (r + 1) * 320L, g, d);
            all.Add((g, d));
        }

        return all;
    }

    [Fact]
    public void Round_trip_keeps_header_and_every_strided_coordinate()
    {
        string path = _tmp["grads_catch.bin"];
        List<(float[] G, float[] D)> written;
        using (var w = GradientFileWriter.Create(path, Header()))
        {
            written = WriteRecords(w, 7);
            w.Complete();
        }

        Assert.True(File.Exists(path));
        Assert.False(File.Exists(path + GradientFile.PartialSuffix));
        var data = GradientFile.Read(path);
        Assert.True(data.Complete);
        Assert.Null(data.Note);
        Assert.Equal(Header(), data.Header);
        Assert.Equal(5, data.Header.Coords); // ⌈23 / 5⌉: coordinates 0, 5, 10, 15, 20
        Assert.Equal(7, data.Records);
        for (int r = 0; r < 7; r++)
        {
            Assert.Equal(r + 1, data.Updates[r]);
            Assert.Equal((r + 1) * 320L, data.Steps[r]);
            for (int j = 0; j < 5; j++)
            {
                Assert.Equal(written[r].G[j * 5], data.Grad(r)[j]);
                Assert.Equal(written[r].D[j * 5], data.Delta(r)[j]);
            }
        }
    }

    [Fact]
    public void Layout_is_magic_version_padded_json_then_fixed_size_records()
    {
        string path = _tmp["grads_catch.bin"];
        using (var w = GradientFileWriter.Create(path, Header()))
        {
            WriteRecords(w, 3);
        } // Dispose completes.

        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal("O4RLGRAD"u8.ToArray(), bytes[..8]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        int h = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        Assert.Equal(0, h % 8);
        string json = System.Text.Encoding.UTF8.GetString(bytes, 16, h);
        Assert.Contains("\"records\": 3", json, StringComparison.Ordinal);
        Assert.Contains("\"dtype\": \"float32\"", json, StringComparison.Ordinal);
        Assert.Contains("\"stride\": 5", json, StringComparison.Ordinal);
        Assert.Equal(16 + h + 3 * (16 + 8 * 5), bytes.Length);
        // First record: update 1, step 320, g[0] = 0.
        Assert.Equal(1L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16 + h)));
        Assert.Equal(320L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16 + h + 8)));
    }

    [Fact]
    public void Truncated_file_reads_its_complete_records_and_says_so()
    {
        string path = _tmp["grads_catch.bin"];
        List<(float[] G, float[] D)> written;
        using (var w = GradientFileWriter.Create(path, Header()))
        {
            written = WriteRecords(w, 6);
        }

        long full = new FileInfo(path).Length;
        int recordBytes = Header().RecordBytes;
        using (var f = new FileStream(path, FileMode.Open))
        {
            f.SetLength(full - 2 * recordBytes - 7); // 3 whole records and most of the 4th remain
        }

        var data = GradientFile.Read(path);
        Assert.False(data.Complete);
        Assert.Equal(3, data.Records);
        Assert.Contains("truncated", data.Note, StringComparison.Ordinal);
        Assert.Contains("6", data.Note, StringComparison.Ordinal);
        Assert.Equal(written[2].G[10], data.Grad(2)[2]);
    }

    [Fact]
    public void Crashed_run_leaves_a_partial_file_readable_up_to_the_last_flushed_record()
    {
        string path = _tmp["grads_catch.bin"];
        var w = GradientFileWriter.Create(path, Header());
        WriteRecords(w, 4);
        w.Flush();
        // The process "dies" here: no Complete, no Dispose. The final name does not exist yet.
        Assert.False(File.Exists(path));
        string partial = path + GradientFile.PartialSuffix;
        Assert.Equal([partial], GradientFile.Find(_tmp.Path));
        var data = GradientFile.Read(partial);
        Assert.False(data.Complete);
        Assert.Equal(4, data.Records);
        Assert.Contains("unfinished", data.Note, StringComparison.Ordinal);

        // A torn last record is ignored too.
        using (var f = new FileStream(partial, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            f.SetLength(f.Length - 3);
        }

        Assert.Equal(3, GradientFile.Read(partial).Records);
        w.Dispose();
    }

    [Fact]
    public void Completing_replaces_the_partial_file_and_is_idempotent()
    {
        string path = _tmp["grads_catch.bin"];
        var w = GradientFileWriter.Create(path, Header());
        WriteRecords(w, 2);
        w.Complete();
        w.Complete();
        w.Dispose();
        Assert.Equal([path], GradientFile.Find(_tmp.Path));
        Assert.Equal(2, GradientFile.Read(path).Records);
        Assert.Throws<InvalidOperationException>(() => w.OnUpdate(3, 3, new float[23], new float[23]));
    }

    [Fact]
    public void Damaged_or_foreign_files_are_rejected_with_the_reason()
    {
        string path = _tmp["x.bin"];
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<InvalidDataException>(() => GradientFile.Read(path)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, new byte[64]);
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => GradientFile.Read(path)).Message, StringComparison.Ordinal);

        string good = _tmp["grads_catch.bin"];
        using (var w = GradientFileWriter.Create(good, Header()))
        {
            WriteRecords(w, 1);
        }

        byte[] bytes = File.ReadAllBytes(good);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 99);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("version 99", Assert.Throws<InvalidDataException>(() => GradientFile.Read(path)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, File.ReadAllBytes(good)[..40]);
        Assert.Contains("header", Assert.Throws<InvalidDataException>(() => GradientFile.Read(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Appending_a_record_allocates_nothing()
    {
        using var w = GradientFileWriter.Create(_tmp["grads_catch.bin"], Header(p: 10_000, stride: 10));
        var g = new float[10_000];
        var d = new float[10_000];
        for (int r = 1; r <= 50; r++) w.OnUpdate(r, r, g, d); // warm up (the file stream's first flushes)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 51; r <= 550; r++) w.OnUpdate(r, r, g, d);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Writer_checks_span_lengths_and_header()
    {
        using var w = GradientFileWriter.Create(_tmp["grads_catch.bin"], Header());
        Assert.Throws<ArgumentException>(() => w.OnUpdate(1, 1, new float[22], new float[23]));
        Assert.Throws<ArgumentException>(() => GradientFileWriter.Create(_tmp["b.bin"], Header(stride: 0)));
    }
}
