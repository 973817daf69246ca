using Optim4RL.Tensors;

namespace Optim4RL.Envs;

/// <summary>
/// The Catch task (docs/environments.md, "Catch"), vectorised over <see cref="DiscreteGridEnv.NumEnvs"/> independent boards of
/// 10 rows × 5 columns. A ball starts in row 0 at a uniformly drawn column and falls one row
/// per step; the paddle sits in row 9, starts in column 2 and moves by <c>action − 1</c>
/// columns per step (clipped to [0, 4]). When the ball reaches row 9 — after exactly
/// <see cref="EpisodeLength"/> steps — the episode ends with reward +1 if the ball's column
/// equals the paddle's column and −1 otherwise (times the reward scaling); every other step
/// gives reward 0.
/// </summary>
/// <remarks>
/// <para>Observation: shape [10, 5], row-major, float32 1 at the ball's cell and at the
/// paddle's cell, 0 elsewhere. (The reference JAX implementation uses [10, 5, 1]; the
/// trailing unit axis is dropped here.)</para>
/// <para>Episodes end by the task's own rule (<c>terminated</c>), never by a time limit
/// (<c>truncated</c> is always false). Auto-reset: the state observed after a terminating
/// step already belongs to a fresh episode.</para>
/// <para>Randomness: environment i draws only from its own stream <c>rng.Split(i)</c> of the
/// constructor's <see cref="Rng"/> (one draw per reset), so a given environment's trajectory
/// does not depend on the batch size.</para>
/// </remarks>
public sealed class Catch : DiscreteGridEnv
{
    /// <summary>Board height (rows); the paddle lives in the last row.</summary>
    public const int Rows = 10;

    /// <summary>Board width (columns).</summary>
    public const int Columns = 5;

    /// <summary>Steps per episode: the ball falls from row 0 to row 9.</summary>
    public const int EpisodeLength = Rows - 1;

    private const int PaddleRow = Rows - 1;
    private const int PaddleStartColumn = Columns / 2;
    private const int SaveVersion = 1;
    private const string SaveTag = "Optim4RL.Envs.Catch";

    private static readonly int[] Shape = [Rows, Columns];

    private readonly int[] _ballRow;
    private readonly int[] _ballCol;
    private readonly int[] _paddleCol;

    /// <summary>
    /// Creates <paramref name="numEnvs"/> Catch boards and starts an episode in each.
    /// </summary>
    /// <param name="numEnvs">How many boards (≥ 1).</param>
    /// <param name="rng">Root stream; environment i uses <c>rng.Split((ulong)i)</c>. Not advanced.</param>
    /// <param name="rewardScaling">Multiplies every reward (<c>env.reward_scaling</c>; 1 by default).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numEnvs"/> &lt; 1.</exception>
    public Catch(int numEnvs, Rng rng, float rewardScaling = 1f)
        : base(numEnvs, rng, rewardScaling)
    {
        _ballRow = new int[numEnvs];
        _ballCol = new int[numEnvs];
        _paddleCol = new int[numEnvs];
        Reset();
    }

    /// <summary>Always <c>catch</c>.</summary>
    public override string Name => "catch";

    /// <summary>[10, 5] (rows, columns).</summary>
    public override IReadOnlyList<int> ObservationShape => Shape;

    /// <summary>50 = 10 × 5.</summary>
    public override int ObservationSize => Rows * Columns;

    /// <summary>3: move the paddle left (0), stay (1), right (2).</summary>
    public override int ActionCount => 3;

    /// <summary>
    /// Advances every board by one step: paddle column += a − 1 clipped to [0, 4],
    /// the ball falls one row, and when it reaches row 9 the episode ends with reward
    /// ±<see cref="DiscreteGridEnv.RewardScaling"/> and the board is reset.
    /// </summary>
    /// <param name="actions">[NumEnvs] actions in {0, 1, 2}.</param>
    /// <param name="rewards">[NumEnvs] receives the scaled rewards.</param>
    /// <param name="terminated">[NumEnvs] receives true on the last step of an episode.</param>
    /// <param name="truncated">[NumEnvs] receives false (Catch has no time limit).</param>
    /// <exception cref="ArgumentException">A span is shorter than NumEnvs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An action is outside [0, 3); no environment is changed.</exception>
    public override void Step(ReadOnlySpan<int> actions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        int n = NumEnvs;
        EnvChecks.DiscreteStep(n, ActionCount, actions, rewards.Length, terminated.Length, truncated.Length);

        float scale = RewardScaling;
        for (int i = 0; i < n; i++)
        {
            int paddle = _paddleCol[i] + actions[i] - 1;
            if (paddle < 0) paddle = 0;
            else if (paddle > Columns - 1) paddle = Columns - 1;
            _paddleCol[i] = paddle;
            int ballRow = _ballRow[i] + 1;
            truncated[i] = false;
            if (ballRow == PaddleRow)
            {
                rewards[i] = _ballCol[i] == paddle ? scale : -scale;
                terminated[i] = true;
                ResetEnv(i);
            }
            else
            {
                _ballRow[i] = ballRow;
                rewards[i] = 0f;
                terminated[i] = false;
            }
        }
    }

    /// <summary>
    /// Writes [NumEnvs, 10, 5] row-major float32 images: 1 at the ball and at the paddle, 0 elsewhere.
    /// Only the first NumEnvs × 50 values of <paramref name="destination"/> are written.
    /// </summary>
    /// <exception cref="ArgumentException">The span is shorter than NumEnvs × 50.</exception>
    public override void Observe(Span<float> destination)
    {
        destination = ObservationBuffer(destination);
        for (int i = 0, b = 0; i < NumEnvs; i++, b += Rows * Columns)
        {
            destination[b + _ballRow[i] * Columns + _ballCol[i]] = 1f;
            destination[b + PaddleRow * Columns + _paddleCol[i]] = 1f;
        }
    }

    /// <summary>
    /// Writes a tag, version, the task name, NumEnvs, then per environment its RNG
    /// (Key, Counter), ball row, ball column and paddle column.
    /// </summary>
    public override void SaveState(BinaryWriter writer)
    {
        WriteHeader(writer, SaveTag, SaveVersion);
        for (int i = 0; i < NumEnvs; i++)
        {
            WriteRng(writer, i);
            writer.Write(_ballRow[i]);
            writer.Write(_ballCol[i]);
            writer.Write(_paddleCol[i]);
        }
    }

    /// <summary>
    /// Restores a state written by <see cref="SaveState"/>; the environments then continue exactly
    /// as the saved ones would have. Nothing is changed if the data is rejected.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is not a Catch state, was saved with another
    /// NumEnvs, is truncated, or holds positions off the board.</exception>
    public override void LoadState(BinaryReader reader)
    {
        int n = NumEnvs;
        var ballRow = new int[n];
        var ballCol = new int[n];
        var paddleCol = new int[n];
        ReadState(reader, SaveTag, SaveVersion, "Catch", i =>
        {
            ballRow[i] = reader.ReadInt32();
            ballCol[i] = reader.ReadInt32();
            paddleCol[i] = reader.ReadInt32();
            if ((uint)ballRow[i] >= PaddleRow || (uint)ballCol[i] >= Columns || (uint)paddleCol[i] >= Columns)
                throw new InvalidDataException($"Saved Catch state of environment {i} is off the board.");
        });
        ballRow.CopyTo(_ballRow, 0);
        ballCol.CopyTo(_ballCol, 0);
        paddleCol.CopyTo(_paddleCol, 0);
    }

    // ---- test hooks ----

    /// <summary>Sets environment <paramref name="env"/>'s board (test hook; RNG untouched).</summary>
    internal void SetState(int env, int ballRow, int ballCol, int paddleCol)
    {
        EnvChecks.Env(env, NumEnvs);
        if ((uint)ballRow >= PaddleRow) throw new ArgumentOutOfRangeException(nameof(ballRow));
        if ((uint)ballCol >= Columns) throw new ArgumentOutOfRangeException(nameof(ballCol));
        if ((uint)paddleCol >= Columns) throw new ArgumentOutOfRangeException(nameof(paddleCol));
        _ballRow[env] = ballRow;
        _ballCol[env] = ballCol;
        _paddleCol[env] = paddleCol;
    }

    internal (int BallRow, int BallCol, int PaddleCol) GetState(int env) => (_ballRow[env], _ballCol[env], _paddleCol[env]);

    private protected override void ResetEnv(int i)
    {
        _ballRow[i] = 0;
        _ballCol[i] = Rngs[i].NextInt(Columns);
        _paddleCol[i] = PaddleStartColumn;
    }
}
