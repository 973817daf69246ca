using System.Text;
using Optim4RL.Io;

namespace Optim4RL.Tests.Io;

public sealed class TensorBoardEventWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("o4rl-events-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Crc32C_matches_the_standard_check_value_and_the_iSCSI_vectors()
    {
        byte[] check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xE3069283u, Crc32C.Compute(check));
        Assert.Equal(0xE3069283u, Crc32C.ComputeSoftware(check));
        Assert.Equal(0xE3069283u, TfEventReader.Crc32C(check));
        // RFC 3720 (iSCSI), appendix B.4.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Crc32C_hardware_and_table_paths_agree_on_every_length()
    {
        var rng = new Random(3);
        for (int n = 0; n < 300; n++)
        {
            var data = new byte[n];
            rng.NextBytes(data);
            Assert.Equal(Crc32C.ComputeSoftware(data), Crc32C.Compute(data));
            Assert.Equal(TfEventReader.Crc32C(data), Crc32C.Compute(data));
        }
    }

    [Fact]
    public void Events_read_back_with_valid_CRCs_and_the_logged_steps_and_scalars()
    {
        string[] tags = ["catch/loss", "catch/grad_norm", "catch/ünïcode_τag"];
        var logged = new List<(long Step, float[] Values)>();
        string path;
        using (var w = new TensorBoardEventWriter(_dir))
        {
            path = w.Path;
            for (int i = 0; i < 40; i++)
            {
                long step = 1280L * (i + 1) + (i == 39 ? 1L << 40 : 0); // a multi-byte varint too
                float[] values = [1f / (i + 1), -3.5e-7f * i, float.MaxValue / (i + 1)];
                logged.Add((step, values));
                w.WriteScalars(step, tags, values);
                if (i == 19) w.Flush();
            }
            w.WriteScalars(7, tags.AsSpan(0, 1), [0.25f], wallTime: 1234.5);
        }

        Assert.Matches(@"^events\.out\.tfevents\.\d+\.[A-Za-z0-9_-]+$", Path.GetFileName(path));
        var events = TfEventReader.Read(path);
        Assert.Equal(1 + 40 + 1, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Empty(events[0].Scalars);
        double now = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        Assert.InRange(events[0].WallTime, now - 600, now + 1);
        for (int i = 0; i < 40; i++)
        {
            var e = events[1 + i];
            Assert.Null(e.FileVersion);
            Assert.Equal(logged[i].Step, e.Step);
            Assert.Equal(tags, e.Scalars.Select(s => s.Tag));
            Assert.Equal(logged[i].Values, e.Scalars.Select(s => s.Value));
            Assert.InRange(e.WallTime, events[0].WallTime, now + 1);
        }
        Assert.Equal(1234.5, events[^1].WallTime);
        Assert.Equal(7, events[^1].Step);
        Assert.Equal([("catch/loss", 0.25f)], events[^1].Scalars);
    }

    [Fact]
    public void Writers_started_in_the_same_second_get_files_of_their_own()
    {
        using var a = new TensorBoardEventWriter(_dir);
        using var b = new TensorBoardEventWriter(_dir);
        Assert.NotEqual(a.Path, b.Path);
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(b.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_but_the_version_event_reaches_the_file_before_a_flush()
    {
        using var w = new TensorBoardEventWriter(_dir);
        w.WriteScalars(1, ["a"], [1f]);
        Assert.Single(TfEventReader.Read(w.Path));
        w.Flush();
        Assert.Equal(2, TfEventReader.Read(w.Path).Count);
    }

    [Fact]
    public void A_damaged_byte_fails_the_readers_CRC_check()
    {
        string path;
        using (var w = new TensorBoardEventWriter(_dir))
        {
            w.WriteScalars(1, ["a"], [1f]);
            path = w.Path;
        }
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 1;
        File.WriteAllBytes(path, bytes);
        Assert.Throws<InvalidDataException>(() => TfEventReader.Read(path));
    }
}
