using Optim4RL.Io;
using System.Text;
using System.Text.RegularExpressions;
using Optim4RL.Experiments;

namespace Optim4RL.Tests.Experiments;

public sealed partial class RunFilesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "o4rl-files-" + Guid.NewGuid().ToString("N"));

    public RunFilesTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Leftovers() => Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories);

    [Fact]
    public void Atomic_write_creates_the_file_and_leaves_no_temp_file()
    {
        string path = Path.Combine(_dir, "sub", "a.txt");
        AtomicFile.WriteAllText(path, "hello");
        Assert.Equal("hello", File.ReadAllText(path));
        AtomicFile.WriteAllText(path, "world, longer than before");
        Assert.Equal("world, longer than before", File.ReadAllText(path));
        Assert.Empty(Leftovers());
        Assert.Equal(["a.txt"], Directory.GetFiles(Path.Combine(_dir, "sub")).Select(Path.GetFileName));
    }

    [Fact]
    public void Atomic_write_failing_midway_keeps_the_old_content()
    {
        string path = Path.Combine(_dir, "checkpoint.bin");
        AtomicFile.WriteAllText(path, "old complete content");
        var boom = new InvalidOperationException("simulated crash");
        InvalidOperationException thrown = Assert.Throws<InvalidOperationException>(() =>
            AtomicFile.Write(path, stream =>
            {
                stream.Write(Encoding.UTF8.GetBytes("new half"));
                throw boom;
            }));
        Assert.Same(boom, thrown);
        Assert.Equal("old complete content", File.ReadAllText(path));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Atomic_write_failing_midway_creates_no_target()
    {
        string path = Path.Combine(_dir, "never.json");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, _ => throw new IOException("disk full")));
        Assert.False(File.Exists(path));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Atomic_write_callback_may_dispose_its_writer()
    {
        string path = Path.Combine(_dir, "param.json");
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream);
            writer.Write("{\"phi\": [1, 2]}");
        });
        Assert.Equal("{\"phi\": [1, 2]}", File.ReadAllText(path));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Atomic_bytes_round_trip()
    {
        string path = Path.Combine(_dir, "b.bin");
        byte[] bytes = [0, 1, 2, 255];
        AtomicFile.WriteAllBytes(path, bytes);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public void Result_csv_has_step_return_header_and_round_trip_floats()
    {
        string text = ResultCsv.Format([new(1280, 0.1), new(2560, -1.0 / 3.0), new(3840, double.NaN), new(5120, 1e-20)]);
        Assert.Equal("Step,Return\n1280,0.1\n2560,-0.3333333333333333\n3840,NaN\n5120,1E-20\n", text);
    }

    [Fact]
    public void Result_csv_saves_atomically_and_reads_back_exactly()
    {
        string path = new RunDirectory(_dir).ResultPath("big_dense_long");
        Assert.EndsWith("result_big_dense_long.csv", path);
        var csv = new ResultCsv(path);
        double[] returns = [0.1f, Math.PI, -7.25, double.NaN, 1.0 / 7.0];
        for (int i = 0; i < returns.Length; i++)
        {
            csv.Add((i + 1) * 1280L, returns[i]);
            csv.Save();
        }

        IReadOnlyList<ResultRow> back = ResultCsv.Read(path);
        Assert.Equal(returns.Length, back.Count);
        for (int i = 0; i < returns.Length; i++)
        {
            Assert.Equal((i + 1) * 1280L, back[i].Step);
            Assert.Equal(returns[i], back[i].Return); // bit-exact, NaN included
        }

        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Result_csv_open_resumes_and_drops_rows_after_a_checkpoint()
    {
        string path = Path.Combine(_dir, "result_catch.csv");
        var csv = new ResultCsv(path);
        csv.Add(100, 1);
        csv.Add(200, 2);
        csv.Add(300, 3);
        csv.Save();

        ResultCsv resumed = ResultCsv.Open(path);
        Assert.Equal(3, resumed.Count);
        resumed.RemoveAfter(200);
        resumed.Add(300, 3.5);
        resumed.Save();
        Assert.Equal("Step,Return\n100,1\n200,2\n300,3.5\n", File.ReadAllText(path));
    }

    [Fact]
    public void Result_csv_rejects_a_foreign_file()
    {
        string path = Path.Combine(_dir, "x.csv");
        File.WriteAllText(path, "a,b\n1,2\n");
        Assert.Throws<InvalidDataException>(() => ResultCsv.Read(path));
    }

    [Fact]
    public void Run_directory_is_logs_experiment_k()
    {
        Assert.Equal("meta_rl_catch", RunDirectory.ExperimentName("configs/meta_rl_catch.json"));
        Assert.Equal("quick_a2c_catch", RunDirectory.ExperimentName("/abs/dir/quick_a2c_catch.json"));
        RunDirectory run = RunDirectory.Create("meta_rl_catch", 3, _dir);
        Assert.Equal(Path.Combine(_dir, "meta_rl_catch", "3"), run.Path);
        Assert.True(Directory.Exists(run.Path));
        Assert.Equal(Path.Combine(run.Path, "param.json"), run.ParamPath);
        Assert.Equal(Path.Combine(run.Path, "log.txt"), run.LogPath);
        Assert.Equal(Path.Combine(run.Path, "config.json"), run.ConfigPath);
        Assert.Equal(Path.Combine("logs", "x", "7"), RunDirectory.For("x", 7).Path);
        Assert.Throws<ArgumentOutOfRangeException>(() => RunDirectory.For("x", 0));
        Assert.Throws<ArgumentException>(() => RunDirectory.For("../x", 1));
    }

    [Fact]
    public void Run_directory_of_a_negative_index_uses_the_positive_form()
    {
        SweepConfig sweep = SweepConfig.Parse("""{"a": [1, 2, 3]}""", "three");
        RunDirectory run = RunDirectory.Create(sweep, -1, _dir);
        Assert.Equal(Path.Combine(_dir, "three", "3"), run.Path);
    }

    [Fact]
    public void Run_log_appends_timestamped_lines()
    {
        string path = Path.Combine(_dir, "run", "log.txt");
        var echo = new StringWriter();
        using (var log = new RunLog(path, echo))
        {
            log.Info("Number of cores: 2");
            log.Warning("slow");
        }

        using (var log = new RunLog(path))
        {
            log.Info("Time elapsed: 1.5000 minutes");
        }

        string[] lines = File.ReadAllLines(path);
        Assert.Equal(3, lines.Length);
        Assert.Matches(LogLine(), lines[0]);
        Assert.EndsWith(" - INFO: Number of cores: 2", lines[0]);
        Assert.EndsWith(" - WARNING: slow", lines[1]);
        Assert.EndsWith(" - INFO: Time elapsed: 1.5000 minutes", lines[2]);
        Assert.Equal(2, echo.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Run_log_is_thread_safe()
    {
        string path = Path.Combine(_dir, "log.txt");
        using (var log = new RunLog(path))
        {
            Parallel.For(0, 2000, i => log.Info($"agent {i} done"));
        }

        string[] lines = File.ReadAllLines(path);
        Assert.Equal(2000, lines.Length);
        Assert.All(lines, line => Assert.Matches(LogLine(), line));
        Assert.Equal(2000, lines.Select(l => l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..]).Distinct().Count());
    }

    [Fact]
    public void Run_log_after_dispose_throws()
    {
        var log = new RunLog(Path.Combine(_dir, "log.txt"));
        log.Dispose();
        Assert.Throws<ObjectDisposedException>(() => log.Info("late"));
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - [A-Z]+: .+$")]
    private static partial Regex LogLine();
}
