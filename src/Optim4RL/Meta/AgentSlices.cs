using Optim4RL.Io;

using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Meta;

/// <summary>An inner problem whose agents can be written and read one by one (<see cref="AgentSlices"/>): MetaA2C's and MetaPPO's.</summary>
internal interface ISlicedProblem : IInnerProblem
{
    /// <summary>P, each agent's parameter count (checked when a slice file is read).</summary>
    int ParameterCount { get; }

    /// <summary>How the learned optimizer's state is stored (checked when a slice file is read).</summary>
    StateDtype StateType { get; }

    /// <summary>Writes agent <paramref name="agent"/>'s (global index, owned here) whole state.</summary>
    void SaveAgent(BinaryWriter writer, int agent);

    /// <summary>Restores what <see cref="SaveAgent"/> wrote into owned agent <paramref name="agent"/> (global index).</summary>
    /// <exception cref="InvalidDataException">The stored sizes differ.</exception>
    void LoadAgent(BinaryReader reader, int agent);
}

/// <summary>
/// The agents' part of a checkpoint written under MPI ranks: each rank writes one file per task for the agents
/// it owns (<c>task{t}-agents{first}-{count}.bin</c>, the global range also in the file's header, one
/// length-prefixed record per agent), so a run can continue under any rank count: each rank reads the records
/// of its own agents from whichever files hold them.
/// </summary>
public static class AgentSlices
{
    private const uint Magic = 0x534C344F; // "O4LS"
    private const int Version = 1;

    /// <summary>Writes this process's agents of every task of <paramref name="trainer"/> into <paramref name="folder"/> (created if needed), each file atomically.</summary>
    /// <exception cref="NotSupportedException">A task whose agents cannot be saved one by one.</exception>
    public static void Write(MetaTrainer trainer, string folder)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        Directory.CreateDirectory(folder);
        for (int t = 0; t < trainer.Problems.Count; t++)
        {
            var task = Sliced(trainer.Problems[t]);
            if (task.OwnedAgents == 0) continue;
            string path = Path.Combine(folder, $"task{t}-agents{task.FirstAgent}-{task.OwnedAgents}.bin");
            AtomicFile.Write(path, stream =>
            {
                using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                w.Write(Magic);
                w.Write(Version);
                w.Write(trainer.Iteration);
                w.Write(t);
                w.Write(task.TaskName);
                w.Write(task.FirstAgent);
                w.Write(task.OwnedAgents);
                w.Write(task.ParameterCount);
                w.Write((byte)task.StateType);
                using var record = new MemoryStream();
                using var rw = new BinaryWriter(record);
                for (int j = task.FirstAgent; j < task.FirstAgent + task.OwnedAgents; j++)
                {
                    record.SetLength(0);
                    task.SaveAgent(rw, j);
                    rw.Flush();
                    w.Write((int)record.Length);
                    w.Write(record.GetBuffer(), 0, (int)record.Length);
                }
            });
        }
    }

    /// <summary>Reads this process's agents of every task from the files in <paramref name="folder"/>, written at meta-iteration <paramref name="iteration"/> under any rank count.</summary>
    /// <exception cref="InvalidDataException">A file is damaged, of another iteration, task or size, or an agent is in no file.</exception>
    public static void Read(MetaTrainer trainer, string folder, long iteration)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (!Directory.Exists(folder))
            throw new InvalidDataException($"the agents of this checkpoint are missing: no folder {folder}; resume from an earlier checkpoint or start again with --overwrite.");
        for (int t = 0; t < trainer.Problems.Count; t++)
        {
            var task = Sliced(trainer.Problems[t]);
            int from = task.FirstAgent, to = task.FirstAgent + task.OwnedAgents;
            var loaded = new bool[task.OwnedAgents];
            foreach (string file in Directory.EnumerateFiles(folder, $"task{t}-agents*.bin").Order(StringComparer.Ordinal))
            {
                using var r = new BinaryReader(File.OpenRead(file));
                try
                {
                    if (r.ReadUInt32() != Magic || r.ReadInt32() != Version) throw new InvalidDataException($"{file} is not an Optim4RL.NET agent slice.");
                    long at = r.ReadInt64();
                    int task2 = r.ReadInt32();
                    string env = r.ReadString();
                    int first = r.ReadInt32(), count = r.ReadInt32(), p = r.ReadInt32();
                    var dtype = (StateDtype)r.ReadByte();
                    if (at != iteration || task2 != t || env != task.TaskName || p != task.ParameterCount || dtype != task.StateType)
                        throw new InvalidDataException($"{file} holds agents of iteration {at}, task {task2} ({env}, P = {p}, {dtype}); this checkpoint is iteration {iteration}, task {t} ({task.TaskName}, P = {task.ParameterCount}, {task.StateType}).");
                    for (int j = first; j < first + count; j++)
                    {
                        int length = r.ReadInt32();
                        if (j >= from && j < to)
                        {
                            long start = r.BaseStream.Position;
                            task.LoadAgent(r, j);
                            if (r.BaseStream.Position - start != length) throw new InvalidDataException($"{file}: agent {j}'s record has the wrong length.");
                            loaded[j - from] = true;
                        }
                        else
                        {
                            r.BaseStream.Seek(length, SeekOrigin.Current);
                        }
                    }
                }
                catch (EndOfStreamException e)
                {
                    throw new InvalidDataException($"{file} ends early: the file is truncated or corrupt.", e);
                }
            }
            int missing = Array.IndexOf(loaded, false);
            if (missing >= 0) throw new InvalidDataException($"the checkpoint's agent files in {folder} lack agent {from + missing} of task {t}; resume from an earlier checkpoint or start again with --overwrite.");
        }
    }

    private static ISlicedProblem Sliced(IInnerProblem problem) => problem as ISlicedProblem
        ?? throw new NotSupportedException($"the agents of task {problem.TaskName} are not saved in slices (only MetaA2C's and MetaPPO's are).");
}
