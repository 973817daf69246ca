using Optim4RL.Tensors;

namespace Optim4RL.Envs;

/// <summary>
/// An LPG gridworld (docs/environments.md, "Gridworlds"; Oh et al. 2020, "Discovering Reinforcement Learning Algorithms"),
/// vectorised over <see cref="DiscreteGridEnv.NumEnvs"/> independent copies of one <see cref="GridworldConfig"/> map.
/// </summary>
/// <remarks>
/// <para><b>Map.</b> <c>Rows × Cols</c> cells; the border cells are walls, the interior cells are empty.
/// Positions are (row, col) with row 0 at the top.</para>
/// <para><b>Actions</b> (9), as (row, col) deltas in this order: 0 stay (0,0), 1 up (−1,0), 2 right (0,1),
/// 3 down (1,0), 4 left (0,−1), 5 (1,−1), 6 (1,1), 7 (−1,1), 8 (−1,−1). The target cell is clamped to the
/// map; if it is a wall the agent stays where it was.</para>
/// <para><b>Reset.</b> The agent and every object are placed on distinct cells drawn uniformly (without
/// replacement) from the interior cells; time = 0.</para>
/// <para><b>Step.</b> After the agent moves, for each object i in order: if the agent stands on it, the
/// reward gains r_i, the object is removed, and the episode terminates with probability p_term_i. Then,
/// if object i is absent (picked up now or earlier), it respawns with probability p_respawn_i on a cell
/// drawn uniformly from <i>all interior cells</i> — as in the reference, the respawn cell may coincide
/// with the agent or another object (a respawn under the agent is picked up on the next step unless
/// the agent moves away). Then time += 1; if the episode did not terminate and time ≥ MaxSteps it is
/// truncated. The returned reward is RewardScaling × reward.
/// An episode that ends (either way) is reset at once (auto-reset), so the next observation is time 0
/// of a fresh episode.</para>
/// <para><b>Observation</b>: shape [Rows, Cols, Objects + 1], <b>channels-last</b>, row-major, float32:
/// channel i (i &lt; Objects) is 1 at object i's cell when object i is present, the last channel is 1 at
/// the agent's cell; everything else is 0 (walls are not drawn). The reference uses channels-first
/// (C, H, W); channels-last is used here so that a convolution runs over rows × columns with the object
/// maps as channels (docs/networks.md).</para>
/// <para><b>Randomness.</b> Environment i draws only from its own stream <c>rng.Split(i)</c>, in a fixed
/// order (per object: a termination draw on pickup, a respawn draw while absent and a cell draw on
/// respawn; reset placements by rejection), so its trajectory does not depend on the batch size.
/// Probabilities use <see cref="Rng.Bernoulli"/> (u &lt; p), so p = 0 never fires and p = 1 always does.</para>
/// </remarks>
public sealed class Gridworld : DiscreteGridEnv
{
    private const int SaveVersion = 1;
    private const string SaveTag = "Optim4RL.Envs.Gridworld";

    // Row and column deltas of the 9 actions (the order of docs/environments.md).
    private static readonly int[] DeltaRow = [0, -1, 0, 1, 0, 1, 1, -1, -1];
    private static readonly int[] DeltaCol = [0, 0, 1, 0, -1, -1, 1, 1, -1];

    private readonly int _rows;
    private readonly int _cols;
    private readonly int _numObjects;
    private readonly int _channels;
    private readonly int _maxSteps;
    private readonly int _interiorCols;
    private readonly int _interiorCount;
    private readonly float[] _objReward;
    private readonly double[] _objTerm;
    private readonly double[] _objRespawn;
    private readonly int[] _shape;

    // Structure of arrays; objects are flattened [env * numObjects + obj]; row −1 = absent.
    private readonly int[] _time;
    private readonly int[] _agentRow;
    private readonly int[] _agentCol;
    private readonly int[] _objRow;
    private readonly int[] _objCol;

    /// <summary>
    /// Creates <paramref name="numEnvs"/> copies of the map <paramref name="config"/> and starts an episode in each.
    /// </summary>
    /// <param name="config">The map, e.g. one of <see cref="GridworldConfig.All"/>.</param>
    /// <param name="numEnvs">How many environments (≥ 1).</param>
    /// <param name="rng">Root stream; environment i uses <c>rng.Split((ulong)i)</c>. Not advanced.</param>
    /// <param name="rewardScaling">Multiplies every reward (<c>env.reward_scaling</c>; 1 by default).</param>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">The config is invalid: a side &lt; 3, MaxSteps &lt; 1, a probability
    /// outside [0, 1], or fewer interior cells than objects + 1.</exception>
    public Gridworld(GridworldConfig config, int numEnvs, Rng rng, float rewardScaling = 1f)
        : base(config is null ? throw new ArgumentNullException(nameof(config)) : numEnvs, rng, rewardScaling)
    {
        ArgumentNullException.ThrowIfNull(config.Objects, nameof(config));
        if (config.Rows < 3 || config.Cols < 3)
            throw new ArgumentException($"Gridworld '{config.Name}' is {config.Rows}×{config.Cols}; both sides must be ≥ 3 (border walls plus interior).", nameof(config));
        if (config.MaxSteps < 1)
            throw new ArgumentException($"Gridworld '{config.Name}' has MaxSteps {config.MaxSteps}; it must be ≥ 1.", nameof(config));
        if (config.InteriorCellCount < config.Objects.Count + 1)
            throw new ArgumentException($"Gridworld '{config.Name}' has {config.InteriorCellCount} interior cells, too few for the agent and {config.Objects.Count} objects.", nameof(config));
        foreach (var o in config.Objects)
        {
            if (!(o.TerminationProbability >= 0 && o.TerminationProbability <= 1) || !(o.RespawnProbability >= 0 && o.RespawnProbability <= 1))
                throw new ArgumentException($"Gridworld '{config.Name}' has an object with a probability outside [0, 1]: {o}.", nameof(config));
        }

        Config = config;
        _rows = config.Rows;
        _cols = config.Cols;
        _numObjects = config.Objects.Count;
        _channels = _numObjects + 1;
        _maxSteps = config.MaxSteps;
        _interiorCols = _cols - 2;
        _interiorCount = config.InteriorCellCount;
        _objReward = new float[_numObjects];
        _objTerm = new double[_numObjects];
        _objRespawn = new double[_numObjects];
        for (int j = 0; j < _numObjects; j++)
        {
            _objReward[j] = config.Objects[j].Reward;
            _objTerm[j] = config.Objects[j].TerminationProbability;
            _objRespawn[j] = config.Objects[j].RespawnProbability;
        }
        _shape = [_rows, _cols, _channels];

        _time = new int[numEnvs];
        _agentRow = new int[numEnvs];
        _agentCol = new int[numEnvs];
        _objRow = new int[numEnvs * _numObjects];
        _objCol = new int[numEnvs * _numObjects];
        Reset();
    }

    /// <summary>The map this batch runs.</summary>
    public GridworldConfig Config { get; }

    /// <summary>The map's name, e.g. <c>big_dense_long</c>.</summary>
    public override string Name => Config.Name;

    /// <summary>[Rows, Cols, Objects + 1] — channels-last (see the class remarks).</summary>
    public override IReadOnlyList<int> ObservationShape => _shape;

    /// <summary>Rows × Cols × (Objects + 1).</summary>
    public override int ObservationSize => _rows * _cols * _channels;

    /// <summary>9 (stay and the eight king moves; see the class remarks for the order).</summary>
    public override int ActionCount => 9;

    /// <summary>Advances every environment by one step (see the class remarks).</summary>
    /// <param name="actions">[NumEnvs] actions in [0, 9).</param>
    /// <param name="rewards">[NumEnvs] receives RewardScaling × (sum of the rewards of the objects picked up).</param>
    /// <param name="terminated">[NumEnvs] receives true where a pickup ended the episode.</param>
    /// <param name="truncated">[NumEnvs] receives true where time reached MaxSteps and the episode did not terminate.</param>
    /// <exception cref="ArgumentException">A span is shorter than NumEnvs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An action is outside [0, 9); no environment is changed.</exception>
    public override void Step(ReadOnlySpan<int> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        int n = NumEnvs;
        EnvChecks.DiscreteStep(n, ActionCount, actions, rewards.Length, terminated.Length, truncated.Length);

        int rows = _rows, cols = _cols, numObjects = _numObjects;
        int[] objRow = _objRow, objCol = _objCol;
        float scale = RewardScaling;
        for (int i = 0; i < n; i++)
        {
            ref Rng rng = ref Rngs[i];
            int a = actions[i];

            // Move: clamp to the map, walls (the border) block.
            int r = _agentRow[i] + DeltaRow[a];
            int c = _agentCol[i] + DeltaCol[a];
            if (r < 0) r = 0; else if (r > rows - 1) r = rows - 1;
            if (c < 0) c = 0; else if (c > cols - 1) c = cols - 1;
            if (r == 0 || r == rows - 1 || c == 0 || c == cols - 1)
            {
                r = _agentRow[i];
                c = _agentCol[i];
            }
            else
            {
                _agentRow[i] = r;
                _agentCol[i] = c;
            }

            // Objects in order: pickup, then respawn while absent.
            float reward = 0f;
            bool term = false;
            int k = i * numObjects;
            for (int j = 0; j < numObjects; j++, k++)
            {
                if (objRow[k] == r && objCol[k] == c)
                {
                    reward += _objReward[j];
                    objRow[k] = -1;
                    objCol[k] = -1;
                    if (rng.Bernoulli(_objTerm[j])) term = true;
                }
                if (objRow[k] < 0 && rng.Bernoulli(_objRespawn[j]))
                {
                    int cell = rng.NextInt(_interiorCount);
                    objRow[k] = 1 + cell / _interiorCols;
                    objCol[k] = 1 + cell % _interiorCols;
                }
            }

            int t = _time[i] + 1;
            bool trunc = !term && t >= _maxSteps;
            rewards[i] = scale * reward;
            terminated[i] = term;
            truncated[i] = trunc;
            if (term || trunc) ResetEnv(i);
            else _time[i] = t;
        }
    }

    /// <summary>
    /// Writes [NumEnvs, Rows, Cols, Objects + 1] float32 maps (channels-last; see the class remarks).
    /// Only the first NumEnvs × ObservationSize values of <paramref name="destination"/> are written.
    /// </summary>
    /// <exception cref="ArgumentException">The span is shorter than NumEnvs × ObservationSize.</exception>
    public override void Observe(Span<float> destination)
    {
        destination = ObservationBuffer(destination);
        int size = ObservationSize;
        int cols = _cols, channels = _channels, numObjects = _numObjects;
        for (int i = 0, b = 0; i < NumEnvs; i++, b += size)
        {
            int k = i * numObjects;
            for (int j = 0; j < numObjects; j++, k++)
            {
                int r = _objRow[k];
                if (r >= 0) destination[b + (r * cols + _objCol[k]) * channels + j] = 1f;
            }
            destination[b + (_agentRow[i] * cols + _agentCol[i]) * channels + numObjects] = 1f;
        }
    }

    /// <summary>
    /// Writes a tag, version, the map's name, NumEnvs, Rows, Cols, the object count, then per environment its
    /// RNG (Key, Counter), time, agent (row, col) and each object's (row, col) (−1, −1 when absent).
    /// </summary>
    public override void SaveState(BinaryWriter writer)
    {
        WriteHeader(writer, SaveTag, SaveVersion);
        writer.Write(_rows);
        writer.Write(_cols);
        writer.Write(_numObjects);
        for (int i = 0; i < NumEnvs; i++)
        {
            WriteRng(writer, i);
            writer.Write(_time[i]);
            writer.Write(_agentRow[i]);
            writer.Write(_agentCol[i]);
            for (int k = i * _numObjects; k < (i + 1) * _numObjects; k++)
            {
                writer.Write(_objRow[k]);
                writer.Write(_objCol[k]);
            }
        }
    }

    /// <summary>
    /// Restores a state written by <see cref="SaveState"/>; the environments then continue exactly as the
    /// saved ones would have. Nothing is changed if the data is rejected.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is not a gridworld state, belongs to another map,
    /// was saved with another NumEnvs, is truncated, or holds out-of-range times or positions.</exception>
    public override void LoadState(BinaryReader reader)
    {
        int n = NumEnvs;
        var time = new int[n];
        var agentRow = new int[n];
        var agentCol = new int[n];
        var objRow = new int[n * _numObjects];
        var objCol = new int[n * _numObjects];
        ReadState(reader, SaveTag, SaveVersion, "gridworld", readShape: () =>
        {
            int rows = reader.ReadInt32(), cols = reader.ReadInt32(), numObjects = reader.ReadInt32();
            if (rows != _rows || cols != _cols || numObjects != _numObjects)
                throw new InvalidDataException($"Saved state is for a {rows}×{cols} map with {numObjects} objects; this one is {_rows}×{_cols} with {_numObjects}.");
        }, readEnv: i =>
        {
            time[i] = reader.ReadInt32();
            agentRow[i] = reader.ReadInt32();
            agentCol[i] = reader.ReadInt32();
            if ((uint)time[i] >= (uint)_maxSteps || !IsInterior(agentRow[i], agentCol[i]))
                throw new InvalidDataException($"Saved gridworld state of environment {i} has an invalid time or agent position.");
            for (int k = i * _numObjects; k < (i + 1) * _numObjects; k++)
            {
                objRow[k] = reader.ReadInt32();
                objCol[k] = reader.ReadInt32();
                bool absent = objRow[k] == -1 && objCol[k] == -1;
                if (!absent && !IsInterior(objRow[k], objCol[k]))
                    throw new InvalidDataException($"Saved gridworld state of environment {i} has an object off the interior.");
            }
        });
        time.CopyTo(_time, 0);
        agentRow.CopyTo(_agentRow, 0);
        agentCol.CopyTo(_agentCol, 0);
        objRow.CopyTo(_objRow, 0);
        objCol.CopyTo(_objCol, 0);
    }

    // ---- test hooks ----

    /// <summary>
    /// Sets environment <paramref name="env"/>'s state (test hook; RNG untouched). The agent may be put on any
    /// cell of the map (walls included, to exercise clamping); objects on interior cells, or (−1, −1) for absent.
    /// </summary>
    internal void SetState(int env, (int Row, int Col) agent, ReadOnlySpan<(int Row, int Col)> objects, int time)
    {
        EnvChecks.Env(env, NumEnvs);
        if ((uint)agent.Row >= (uint)_rows || (uint)agent.Col >= (uint)_cols) throw new ArgumentOutOfRangeException(nameof(agent));
        if (objects.Length != _numObjects) throw new ArgumentException("One position per object is needed.", nameof(objects));
        if ((uint)time >= (uint)_maxSteps) throw new ArgumentOutOfRangeException(nameof(time));
        for (int j = 0; j < _numObjects; j++)
        {
            var (r, c) = objects[j];
            if (!(r == -1 && c == -1) && !IsInterior(r, c)) throw new ArgumentOutOfRangeException(nameof(objects));
        }
        _agentRow[env] = agent.Row;
        _agentCol[env] = agent.Col;
        for (int j = 0; j < _numObjects; j++)
        {
            _objRow[env * _numObjects + j] = objects[j].Row;
            _objCol[env * _numObjects + j] = objects[j].Col;
        }
        _time[env] = time;
    }

    internal (int Row, int Col) AgentPosition(int env) => (_agentRow[env], _agentCol[env]);

    /// <summary>Object <paramref name="obj"/>'s cell in environment <paramref name="env"/>, or null when absent.</summary>
    internal (int Row, int Col)? ObjectPosition(int env, int obj)
    {
        int k = env * _numObjects + obj;
        return _objRow[k] < 0 ? null : (_objRow[k], _objCol[k]);
    }

    internal int Time(int env) => _time[env];

    private bool IsInterior(int r, int c) => r >= 1 && r <= _rows - 2 && c >= 1 && c <= _cols - 2;

    private protected override void ResetEnv(int i)
    {
        ref Rng rng = ref Rngs[i];
        int numObjects = _numObjects;
        int interiorCount = _interiorCount, interiorCols = _interiorCols;

        // Uniform draw without replacement by rejection: each entity takes the first drawn cell not
        // already taken by the agent or an earlier object.
        int agentCell = rng.NextInt(interiorCount);
        _agentRow[i] = 1 + agentCell / interiorCols;
        _agentCol[i] = 1 + agentCell % interiorCols;
        int b = i * numObjects;
        for (int j = 0; j < numObjects; j++)
        {
            int r, c;
            while (true)
            {
                int cell = rng.NextInt(interiorCount);
                r = 1 + cell / interiorCols;
                c = 1 + cell % interiorCols;
                if (r == _agentRow[i] && c == _agentCol[i]) continue;
                bool taken = false;
                for (int q = b; q < b + j; q++)
                {
                    if (_objRow[q] == r && _objCol[q] == c) { taken = true; break; }
                }
                if (!taken) break;
            }
            _objRow[b + j] = r;
            _objCol[b + j] = c;
        }
        _time[i] = 0;
    }
}
