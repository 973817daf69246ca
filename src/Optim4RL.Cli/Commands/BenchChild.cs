using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Optim4RL.Experiments;

namespace Optim4RL.Cli.Commands;

/// <summary>
/// Runs one bench workload in a child process of this CLI (<c>bench --json --only NAME</c>) and reads its JSON
/// result: as a plain process, or, for a scaling row of several ranks, under <c>mpiexec -np N</c> with the row's
/// transport variables, reading rank 0's result.
/// </summary>
internal static class BenchChild
{
    /// <summary>Throughputs that do not apply are NaN, which JSON spells only with named literals.</summary>
    public static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>How long a job may take to end after rank 0 has printed its result before it is stopped.</summary>
    public static readonly TimeSpan FinalizeGrace = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="workload"/> in a plain child process.</summary>
    /// <exception cref="InvalidOperationException">The child could not start or failed.</exception>
    /// <exception cref="InvalidDataException">The child printed no result.</exception>
    public static BenchResult Run(string workload, int repeats, int? threads, ScalingTask? task)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, UseShellExecute = false };
        AddSelf(psi, workload, repeats, threads, task);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the benchmark child process.");
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"Benchmark '{workload}' failed with exit code {p.ExitCode}.");
        return Parse(output);
    }

    /// <summary>
    /// Runs scaling row <paramref name="row"/> as <c>mpiexec -np Ranks</c> children of this CLI, the row's variables
    /// given to every rank, and returns rank 0's result.
    /// </summary>
    /// <exception cref="InvalidOperationException">No mpiexec on PATH, or the job failed (the message says why, in one line).</exception>
    /// <exception cref="InvalidDataException">The job printed no result.</exception>
    public static BenchResult RunUnderMpi(ScalingRow row, int repeats, ScalingTask task)
    {
        string mpiexec = MpiexecPath() ?? throw new InvalidOperationException("mpiexec is not on PATH (install MPICH: scripts/setup.sh, or apt-get install mpich).");
        var psi = new ProcessStartInfo(mpiexec) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-np");
        psi.ArgumentList.Add(row.Ranks.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in row.MpiEnvironment)
        {
            psi.ArgumentList.Add("-genv");
            psi.ArgumentList.Add(name);
            psi.ArgumentList.Add(value);
        }
        AddSelf(psi, row.Name, repeats, threads: null, task);
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {mpiexec}.");
        var errors = p.StandardError.ReadToEndAsync();
        string? result = null;
        while (p.StandardOutput.ReadLine() is { } line)
        {
            if (!line.TrimStart().StartsWith('{')) continue;
            result = line;
            break;
        }
        var drained = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(result is null ? Timeout.InfiniteTimeSpan : FinalizeGrace))
        {
            // MPICH 4.0's ch4:ucx can deadlock in MPI_Finalize over TCP (a rank waits in the PMI barrier while the other
            // still needs it to answer its disconnect; fixed in MPICH 4.2): the result is in, so stop the job.
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Console.Error.WriteLine($"{row.Name}: the ranks did not finish MPI_Finalize within {FinalizeGrace.TotalSeconds:F0} s after the result (an MPICH 4.0 ch4:ucx deadlock over TCP); stopped them.");
            return Parse(result!);
        }
        drained.Wait();
        if (p.ExitCode != 0)
        {
            string why = errors.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no message";
            throw new InvalidOperationException($"mpiexec -np {row.Ranks} failed (exit code {p.ExitCode}): {(why.StartsWith("error: ", StringComparison.Ordinal) ? why["error: ".Length..] : why)}");
        }
        return Parse(result ?? "");
    }

    /// <summary>The full path of <c>mpiexec</c> on PATH, or null.</summary>
    public static string? MpiexecPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "mpiexec"))
            .FirstOrDefault(File.Exists);

    // This CLI (its apphost, or the dotnet host with the CLI's assembly) with the child's arguments.
    private static void AddSelf(ProcessStartInfo psi, string workload, int repeats, int? threads, ScalingTask? task)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        bool apphost = Path.GetFileNameWithoutExtension(host).Equals("Optim4RL.Cli", StringComparison.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(psi.FileName)) psi.FileName = host;
        else psi.ArgumentList.Add(host);
        if (!apphost) psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var a in new[] { "bench", "--json", "--only", workload, "--repeats", repeats.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        if (threads is int t)
        {
            psi.ArgumentList.Add("--threads");
            psi.ArgumentList.Add(t.ToString(CultureInfo.InvariantCulture));
        }
        if (task is not null)
        {
            psi.ArgumentList.Add("--scaling-task");
            psi.ArgumentList.Add(task.ToString());
        }
    }

    private static BenchResult Parse(string output)
    {
        string? line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        return (line is null ? null : JsonSerializer.Deserialize<BenchResult>(line, Json)) ?? throw new InvalidDataException("Benchmark child printed no result.");
    }
}
