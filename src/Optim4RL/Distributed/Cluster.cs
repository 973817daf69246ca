using System.Runtime.InteropServices;

namespace Optim4RL.Distributed;

/// <summary>
/// The job this process belongs to. A plain process is a job of one (<see cref="SingleProcessCommunicator"/>)
/// and never loads an MPI library; a process started by an MPI launcher (<see cref="MpiLaunch"/>) initialises
/// MPI in <see cref="Start"/> and is one rank of <see cref="Current"/>.
/// </summary>
public static partial class Cluster
{
    private static readonly Lock Gate = new();
    private static Communicator? current;

    /// <summary>The job's communicator: the one <see cref="Start"/> returned, or a single process before (or without) it.</summary>
    public static Communicator Current
    {
        get
        {
            lock (Gate) return current ?? SingleProcessCommunicator.Instance;
        }
    }

    /// <summary>
    /// Joins the job this process was launched into, once (later calls return the same communicator):
    /// under an MPI launcher it loads the MPICH-ABI library, initialises MPI and checks that the library
    /// sees the ranks the launcher started; otherwise it returns the single-process communicator.
    /// Dispose the result at the end of the program (MPI_Finalize).
    /// </summary>
    /// <exception cref="DistributedException">MPI was asked for but cannot be used (no library, a foreign launcher, or a library that does not see the launcher's ranks).</exception>
    public static Communicator Start()
    {
        lock (Gate)
        {
            if (current is not null) return current;
            var launch = MpiLaunch.Current();
            if (!launch.IsMpi) return current = SingleProcessCommunicator.Instance;
            MpiLibrary.Load();
            if (OperatingSystem.IsLinux()) DieWithParent();
            string[] args = [];
            MPI.Environment environment;
            try
            {
                environment = new MPI.Environment(ref args, MPI.Threading.Serialized);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new DistributedException($"MPI could not be initialised ({e.Message.ReplaceLineEndings(" ")}); check that mpiexec and the loaded library ({MpiLibrary.OverrideVariable}) come from the same MPI.", e);
            }
            var world = new MpiCommunicator(environment);
            if ((launch.Rank is int rank && world.Rank != rank) || (launch.Size is int size && world.Size != size))
            {
                string seen = $"rank {world.Rank} of {world.Size}";
                world.Dispose();
                throw new DistributedException($"the launcher started rank {launch.Rank?.ToString() ?? "?"} of {launch.Size?.ToString() ?? "?"}, but the MPI library sees {seen}: " +
                                               "launcher and library do not match (use the mpiexec of the MPI whose libmpich.so.12 or libmpi.so.12 is loaded, or srun --mpi=pmi2).");
            }
            return current = world;
        }
    }

    /// <summary>A short name for this process in messages: "rank 2 of 4", or "" in a single process.</summary>
    public static string Describe(Communicator communicator)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        return communicator.Size == 1 && communicator is SingleProcessCommunicator ? "" : $"rank {communicator.Rank} of {communicator.Size}";
    }

    // A rank whose launcher dies (mpiexec killed, its proxy gone) must not live on spinning in a collective.
    private static void DieWithParent()
    {
        const int PrSetPdeathsig = 1, SigKill = 9;
        _ = Prctl(PrSetPdeathsig, SigKill, 0, 0, 0);
    }

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
