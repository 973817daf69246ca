using System.Globalization;

namespace Optim4RL.Distributed;

/// <summary>
/// How this process was started, read from the environment its launcher set: by an MPI process manager
/// (<c>mpiexec</c> of MPICH or Intel MPI, <c>srun --mpi=pmi2</c> or <c>--mpi=pmix</c>) or as a plain process.
/// </summary>
/// <param name="IsMpi">True when a process manager started this process as one rank of a job.</param>
/// <param name="Rank">The rank the launcher gave (0 when not under MPI), or null when it did not say.</param>
/// <param name="Size">The rank count the launcher gave, or null when it did not say.</param>
public readonly record struct MpiLaunch(bool IsMpi, int? Rank, int? Size)
{
    /// <summary>
    /// Reads the launch from environment variables: PMI_RANK and PMI_SIZE (set by MPICH's mpiexec, Intel MPI
    /// and Cray MPICH), PMIX_RANK (PMIx, e.g. srun --mpi=pmix), or the PMI connection itself (PMI_FD or
    /// PMI_PORT, e.g. srun --mpi=pmi2). Without any of them this is a plain process and MPI is never initialised.
    /// </summary>
    /// <exception cref="DistributedException">Open MPI's mpirun started the process (its ABI cannot be used), or a variable is malformed.</exception>
    public static MpiLaunch Detect(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        if (!string.IsNullOrEmpty(variable("OMPI_COMM_WORLD_SIZE")))
        {
            throw new DistributedException("this process was started by Open MPI's mpirun, whose ABI Optim4RL.NET cannot use: launch with an MPICH-ABI MPI " +
                                           "(MPICH's mpiexec, e.g. mpiexec.mpich; Intel MPI; MVAPICH; Cray MPICH) or srun --mpi=pmi2.");
        }
        string? pmiRank = variable("PMI_RANK"), pmiSize = variable("PMI_SIZE"), pmixRank = variable("PMIX_RANK");
        if (!string.IsNullOrEmpty(pmiRank))
        {
            int rank = Parse("PMI_RANK", pmiRank);
            int? size = string.IsNullOrEmpty(pmiSize) ? null : Parse("PMI_SIZE", pmiSize);
            return new MpiLaunch(true, rank, size);
        }
        if (!string.IsNullOrEmpty(pmixRank)) return new MpiLaunch(true, Parse("PMIX_RANK", pmixRank), null);
        if (!string.IsNullOrEmpty(variable("PMI_FD")) || !string.IsNullOrEmpty(variable("PMI_PORT"))) return new MpiLaunch(true, null, null);
        return new MpiLaunch(false, 0, 1);
    }

    /// <summary>The launch of this process (<see cref="Detect"/> over its environment).</summary>
    /// <exception cref="DistributedException">As for <see cref="Detect"/>.</exception>
    public static MpiLaunch Current() => Detect(Environment.GetEnvironmentVariable);

    private static int Parse(string name, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new DistributedException($"{name}={text} is not a rank number; the MPI launcher's environment is broken (unset {name} to run as one process).");
}
