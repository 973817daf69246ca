using System.Diagnostics;
using System.Text;
using Optim4RL.Tests.Docs;

namespace Optim4RL.Tests.Distributed;

/// <summary>Starts real multi-rank jobs on this machine: <c>mpiexec -np N</c> over the CLI that this test assembly was built with.</summary>
internal sealed class MpiJob : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private MpiJob(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The reason to skip a multi-rank test, or null when MPICH's mpiexec is on PATH.</summary>
    public static string? SkipReason()
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, "mpiexec")));
        return found ? null : "mpiexec is not installed (scripts/setup.sh installs MPICH; CI runs these tests)";
    }

    /// <summary>The CLI next to this test assembly.</summary>
    public static string Cli => Path.Combine(AppContext.BaseDirectory, "Optim4RL.Cli.dll");

    /// <summary>Everything the job printed so far (stdout and stderr, line by line).</summary>
    public string Output
    {
        get
        {
            lock (output) return output.ToString();
        }
    }

    /// <summary>Starts <c>mpiexec -np ranks dotnet CLI args…</c> (or, with <paramref name="throughRankScript"/>, each rank through scripts/mpi-rank).</summary>
    public static MpiJob Start(int ranks, IEnumerable<string> args, string workingDirectory, bool throughRankScript = false)
    {
        var psi = new ProcessStartInfo("mpiexec")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-np");
        psi.ArgumentList.Add(ranks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (throughRankScript)
        {
            psi.ArgumentList.Add(Path.Combine(ExternalProcess.RepoRoot(), "scripts", "mpi-rank"));
            // The script runs `dotnet` from PATH: put this test's host first.
            psi.Environment["PATH"] = Path.GetDirectoryName(ExternalProcess.DotnetHost()) + ":" + Environment.GetEnvironmentVariable("PATH");
        }
        else
        {
            psi.ArgumentList.Add(ExternalProcess.DotnetHost());
        }
        psi.ArgumentList.Add(Cli);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["NO_COLOR"] = "1";
        return new MpiJob(Process.Start(psi)!);
    }

    /// <summary>Runs a job to its end; fails the test if it takes longer than <paramref name="limit"/> (a hang).</summary>
    public static (int Code, string Output) Run(int ranks, IEnumerable<string> args, string workingDirectory, TimeSpan limit)
    {
        using var job = Start(ranks, args, workingDirectory);
        return (job.WaitForExit(limit), job.Output);
    }

    /// <summary>Waits for the job to end and returns mpiexec's exit code; kills it and fails after <paramref name="limit"/>.</summary>
    public int WaitForExit(TimeSpan limit)
    {
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the MPI job did not end within {limit.TotalSeconds} s; it printed:\n{Output}");
        }
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>The pid of the rank's dotnet process whose command line contains <paramref name="marker"/>, or null.</summary>
    public static int? FindRank(int rank, string marker)
    {
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() != "dotnet") continue;
                if (!File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(marker, StringComparison.Ordinal)) continue;
                if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains($"PMI_RANK={rank}")) return pid;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A process that ended meanwhile, or one that is not ours.
            }
        }
        return null;
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }
}
