using Optim4RL.Io;

namespace Optim4RL.Tests.Io;

/// <summary>One writer per run directory.</summary>
public sealed class RunLockTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "o4rl-lock-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void A_second_holder_is_refused_with_the_first_ones_process_id_until_it_releases()
    {
        using (RunLock.Acquire(_dir))
        {
            var e = Assert.Throws<RunInUseException>(() => RunLock.Acquire(_dir));
            Assert.Contains($"process {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
            Assert.Contains(_dir, e.Message, StringComparison.Ordinal);
        }

        using var again = RunLock.Acquire(_dir);
        Assert.Equal(_dir, again.Directory);
    }

    [Fact]
    public void Stale_temporary_files_are_removed_and_others_kept()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, ".checkpoint.bin.0123abcd.tmp"), "x");
        File.WriteAllText(Path.Combine(_dir, "keep.tmp"), "x");
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{}");
        Assert.Equal(1, AtomicFile.RemoveStale(_dir));
        Assert.Equal(["config.json", "keep.tmp"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
    }
}
